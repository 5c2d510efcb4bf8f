import { availableParallelism } from "node:os";
import { FRAME_HEADER_BYTES, MAX_BATCH_BYTES, MAX_BLOBS_PER_BATCH, PAYLOAD_BYTES_PER_BLOB } from "@cellar/params";
import { BenchError } from "./errors.js";

export interface BenchOptions {
  /**
   * Payload bytes per batch. Default: a whole number of full blobs (12, or 4 with `quick`), rounded
   * up to a multiple of the worker counts, so every setting runs full rounds of the pool.
   */
  readonly bytes?: number;
  /** Worker counts to measure, each the pool's concurrency. Default: `defaultWorkerCounts(cores)`. */
  readonly workers?: readonly number[];
  /** Timed runs per setting; figures are their median. Default: 3, or 2 with `quick`. */
  readonly runs?: number;
  /** Untimed passes before the first timed one. Default: 1. */
  readonly warmup?: number;
  /** A smaller default batch and fewer runs: under a minute on a small machine. */
  readonly quick?: boolean;
  /** The machine's core count. Default: `availableParallelism()`. */
  readonly cores?: number;
}

/** Options after validation, every default filled in. */
export interface ResolvedBenchOptions {
  readonly bytes: number;
  readonly blobs: number;
  readonly workers: readonly number[];
  readonly runs: number;
  readonly warmup: number;
  readonly cores: number;
}

const MAX_WORKERS = 1024;
const MAX_RUNS = 100;
const MAX_WARMUP = 10;

/** 1, 2, … up to the core count; past 8 cores the powers of two and the core count itself. */
export function defaultWorkerCounts(cores: number): number[] {
  if (cores <= 8) return Array.from({ length: cores }, (_, i) => i + 1);
  const counts: number[] = [];
  for (let w = 1; w < cores; w *= 2) counts.push(w);
  return [...counts, cores];
}

/** Blobs a payload of `bytes` packs into, the frame header included. */
export function blobsFor(bytes: number): number {
  return Math.max(1, Math.ceil((bytes + FRAME_HEADER_BYTES) / PAYLOAD_BYTES_PER_BLOB));
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The default batch, in blobs: at least `atLeast`, and a multiple of every worker count where
 * that stays small (else of the largest), so no setting ends on a half-empty round of the pool,
 * which would show up as poor scaling that is not the pool's.
 */
export function defaultBlobCount(workers: readonly number[], atLeast: number): number {
  const largest = Math.max(...workers);
  const lcm = workers.reduce((acc, w) => (acc / gcd(acc, w)) * w, 1);
  const step = lcm <= 4 * largest ? lcm : largest;
  return Math.min(MAX_BLOBS_PER_BATCH, step * Math.ceil(atLeast / step));
}

function checkInteger(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** Validates the options up front (a typed BenchError names the bad one) and fills in defaults. */
export function resolveBenchOptions(options: BenchOptions = {}): ResolvedBenchOptions {
  const cores = options.cores ?? availableParallelism();
  if (!checkInteger(cores, 1, MAX_WORKERS)) {
    throw new BenchError("CELLAR_ERR_BENCH_INVALID_WORKERS", `the core count must be 1 to ${MAX_WORKERS}`, { cores });
  }
  const given = options.workers ?? defaultWorkerCounts(cores);
  const bad = given.find((w) => !checkInteger(w, 1, MAX_WORKERS));
  if (given.length === 0 || bad !== undefined) {
    throw new BenchError(
      "CELLAR_ERR_BENCH_INVALID_WORKERS",
      `worker counts must be a non-empty list of integers from 1 to ${MAX_WORKERS}`,
      { workers: [...given] },
    );
  }
  const workers = [...new Set(given)].sort((a, b) => a - b);

  const runs = options.runs ?? (options.quick ? 2 : 3);
  if (!checkInteger(runs, 1, MAX_RUNS)) {
    throw new BenchError("CELLAR_ERR_BENCH_INVALID_RUNS", `runs must be an integer from 1 to ${MAX_RUNS}`, { runs });
  }
  const warmup = options.warmup ?? 1;
  if (!checkInteger(warmup, 0, MAX_WARMUP)) {
    throw new BenchError("CELLAR_ERR_BENCH_INVALID_WARMUP", `warm-up must be an integer from 0 to ${MAX_WARMUP}`, {
      warmup,
    });
  }

  const bytes =
    options.bytes ?? defaultBlobCount(workers, options.quick ? 4 : 12) * PAYLOAD_BYTES_PER_BLOB - FRAME_HEADER_BYTES;
  if (!checkInteger(bytes, 1, MAX_BATCH_BYTES)) {
    throw new BenchError(
      "CELLAR_ERR_BENCH_INVALID_SIZE",
      `the batch must be a whole number of bytes from 1 to ${MAX_BATCH_BYTES}`,
      { bytes },
    );
  }
  return { bytes, blobs: blobsFor(bytes), workers, runs, warmup, cores };
}
