import { CellarError } from "@cellar/utils";

/** Refusals of the benchmark: options it cannot run with, and results that fail their own check. */
export const BENCH_ERROR_CODES = [
  "CELLAR_ERR_BENCH_INVALID_SIZE",
  "CELLAR_ERR_BENCH_INVALID_WORKERS",
  "CELLAR_ERR_BENCH_INVALID_RUNS",
  "CELLAR_ERR_BENCH_INVALID_WARMUP",
  "CELLAR_ERR_BENCH_INVALID_REPORT_FORMAT",
  "CELLAR_ERR_BENCH_SELF_CHECK",
] as const;

export type BenchErrorCode = (typeof BENCH_ERROR_CODES)[number];

export class BenchError extends CellarError<BenchErrorCode> {}
