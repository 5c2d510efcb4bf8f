/**
 * The operator's benchmark of encoding throughput (`cellar bench`): payload MB/s of the full encode
 * on the pool for each worker count, beside the raw KZG library floor measured in the same runs,
 * with its parts, scaling, peak memory, a storage node's verification and recovery rates, and a
 * plain GF(2^8) Reed–Solomon reference. Medians after a warm-up, every spread reported, and a
 * verdict that says which figures are too noisy to trust. Reports render as text, JSON, HTML or SVG.
 * Crypto is passed in: the caller loads the KZG contexts and the reference codec once.
 *
 * @example
 * ```ts
 * import { createRawKzg, formatReportText, loadGf256, renderReport, runBench } from "@cellar/bench";
 * import { writeFile } from "node:fs/promises";
 * import { sharedKzg } from "@cellar/kzg";
 * const report = await runBench(
 *   { workers: [1, 2], runs: 3 },
 *   { kzg: sharedKzg(), raw: createRawKzg(), gf256: loadGf256() },
 * );
 * process.stdout.write(formatReportText(report));
 * await writeFile("report.html", renderReport(report, "html"));
 * ```
 *
 * @packageDocumentation
 */
export { BENCH_ERROR_CODES, BenchError, type BenchErrorCode } from "./errors.js";
export {
  GF256_DATA_SHARDS,
  GF256_PARITY_SHARDS,
  GF256_SHARD_BYTES,
  type Gf256Codec,
  gf256EncodeBlobs,
  loadGf256,
  timeGf256,
} from "./gf256.js";
export { type EncodeKzg, timePipeline, timeRawFloor } from "./measure-encode.js";
export { measureParts, type PartSamples, partsSpread } from "./measure-parts.js";
export { type StorageKzg, timeCellsOnly, timeDataRecovery, timeRecovery, timeVerify } from "./measure-storage.js";
export { MIB, type RssSampler, startRssSampler } from "./memory.js";
export {
  type BenchOptions,
  blobsFor,
  defaultBlobCount,
  defaultWorkerCounts,
  type ResolvedBenchOptions,
  resolveBenchOptions,
} from "./options.js";
export { createRawKzg, type RawKzg, sharedRawKzg } from "./raw-floor.js";
export type {
  BenchReport,
  BenchVerdict,
  PartResult,
  PartsResult,
  ReferenceResult,
  ScalingResult,
  StorageResult,
} from "./report.js";
export { type ReportFormat, renderHtmlReport, renderReport, reportFormatFor } from "./report-html.js";
export { escapeXml, niceStep, renderChartSvg } from "./report-svg.js";
export { formatHeadline, formatRate, formatReportText, formatVerdict } from "./report-text.js";
export {
  type BenchModules,
  type BenchProgress,
  CPU_SHARE_FLOOR,
  DATA_RECOVERY_NOTE,
  GF256_NOTE,
  RATIO_TARGET,
  RECOVERY_NOTE,
  runBench,
  SCALING_TARGET,
} from "./run-bench.js";
export { median, SPREAD_LIMIT, type Summary, spread, summarize } from "./stats.js";
export { rate, sig, timeRepeated } from "./timing.js";
