import { randomBytes } from "node:crypto";
import { cpus, loadavg, totalmem } from "node:os";
import { type EncodedBatch, frameBatch, packBlobs } from "@cellar/codec";
import type { Erasure } from "@cellar/native";
import { CELLS_PER_EXT_BLOB, FRAME_HEADER_BYTES, PAYLOAD_BYTES_PER_BLOB } from "@cellar/params";
import { type Gf256Codec, gf256EncodeBlobs, timeGf256 } from "./gf256.js";
import { type EncodeKzg, timePipeline, timeRawFloor } from "./measure-encode.js";
import { measureParts, type PartSamples, partsSpread } from "./measure-parts.js";
import { type StorageKzg, timeCellsOnly, timeDataRecovery, timeRecovery, timeVerify } from "./measure-storage.js";
import { MIB, startRssSampler } from "./memory.js";
import { type BenchOptions, defaultBlobCount, resolveBenchOptions } from "./options.js";
import type { RawKzg } from "./raw-floor.js";
import type { BenchReport, BenchVerdict, PartResult, ScalingResult } from "./report.js";
import { median, SPREAD_LIMIT, summarize } from "./stats.js";
import { rate, sig } from "./timing.js";

/** The shortest sample of a fast operation (verification, the cell extension): below this, noise rules. */
const FAST_SAMPLE_MS = 300;
/** Below this share of its cores, a run was starved by other processes. */
export const CPU_SHARE_FLOOR = 0.8;
/** The pool must reach this share of (workers × one worker's throughput) up to the core count. */
export const SCALING_TARGET = 0.9;
/** The pipeline must reach this share of the raw library floor. */
export const RATIO_TARGET = 0.95;
export const RECOVERY_NOTE =
  "rebuilt from the 64 parity columns with recoverCellsAndProofs, which recomputes all 128 proofs too";
/** What the data-only row measures; the backend (native addon or TypeScript fallback) is appended. */
export const DATA_RECOVERY_NOTE = "rebuilt from the 64 parity columns without proofs, 4 blobs per call";
export const GF256_NOTE =
  "@subspace/reed-solomon-erasure.wasm, 64 data + 64 parity shards per blob, one thread: erasure coding without proofs";

export interface BenchProgress {
  /** Blobs processed so far, over every stage. */
  readonly done: number;
  readonly total: number;
  readonly stage: string;
}

/** What the benchmark runs on, passed in by the caller (crypto is never loaded in here). */
export interface BenchModules {
  readonly kzg: EncodeKzg & StorageKzg;
  /** Data-only recovery (`@cellar/native`), measured beside the library's recovery. */
  readonly erasure: Pick<Erasure, "backend" | "recoverBlobsAsync">;
  /** The raw floor's own node-eth-kzg context (`createRawKzg()`). */
  readonly raw: RawKzg;
  /** The GF(2^8) reference codec (`loadGf256()`). */
  readonly gf256: Gf256Codec;
  readonly onProgress?: (progress: BenchProgress) => void;
  /** Reads the resident set size in bytes. Default: `process.memoryUsage.rss()`. */
  readonly readRss?: () => number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * Measures encoding throughput on this machine: for each worker count the full encode beside the
 * raw KZG floor (runs alternating, median of `runs` after a warm-up), then one worker's parts,
 * the storage node's verification and recovery rates, and the GF(2^8) reference, all on the same
 * random payload. Every spread is reported, and the verdict names what is too noisy to act on.
 */
export async function runBench(options: BenchOptions, modules: BenchModules): Promise<BenchReport> {
  const opts = resolveBenchOptions(options);
  const { kzg, raw, gf256, erasure, onProgress } = modules;
  const readRss = modules.readRss ?? (() => process.memoryUsage.rss());
  const startedAt = new Date().toISOString();
  const clock = performance.now();

  const payload = new Uint8Array(randomBytes(opts.bytes));
  const framed = frameBatch(payload);
  const blobs = packBlobs(framed);
  const mb = opts.bytes / 1e6;
  const mbPerBlob = mb / blobs.length;
  const { workers, runs } = opts;
  const largest = workers[workers.length - 1] as number;
  const warmBlobs = Math.min(blobs.length, largest);
  const partBlobs = Math.min(blobs.length, 12);
  const recoveryBlobs = Math.min(blobs.length, defaultBlobCount([largest], 4));

  const total =
    opts.warmup * 2 * warmBlobs +
    workers.length * runs * 2 * blobs.length +
    runs * partBlobs +
    runs * (3 * blobs.length + recoveryBlobs) +
    runs * blobs.length;
  let done = 0;
  let stage = "";
  const report = () => onProgress?.({ done, total, stage });
  const tick = () => {
    done++;
    report();
  };
  const enter = (name: string) => {
    stage = name;
    report();
  };

  const rss = startRssSampler(25, readRss);
  try {
    enter("warm-up");
    for (let i = 0; i < opts.warmup; i++) {
      // First calls pay for lazy initialisation and thread start-up; keep that out of the figures.
      await timeRawFloor(raw, blobs.slice(0, warmBlobs), largest, tick);
      const bytes = Math.min(opts.bytes, warmBlobs * PAYLOAD_BYTES_PER_BLOB - FRAME_HEADER_BYTES);
      const warm = await timePipeline(kzg, payload.subarray(0, bytes), largest, tick);
      const one = warm.batch.blobs.slice(0, 1);
      await timeVerify(kzg, one, 1, () => {});
      await timeRecovery(kzg, one, 1, () => {});
      await timeDataRecovery(erasure, one, 1, () => {});
      await timeCellsOnly(kzg, blobs.slice(0, 1), 1, () => {});
      gf256EncodeBlobs(gf256, framed.subarray(0, PAYLOAD_BYTES_PER_BLOB));
    }
    const baselineRss = readRss();
    const loadAverage = loadavg()[0] ?? 0;
    rss.takePeak();

    const rows: Row[] = [];
    let batch: EncodedBatch | undefined;
    for (const w of workers) {
      enter(`encode, ${plural(w, "worker")}`);
      const floor: number[] = [];
      const encode: number[] = [];
      const cpuShare: number[] = [];
      // Alternate floor and pipeline, so drift in the machine's load hits both alike.
      for (let r = 0; r < runs; r++) {
        floor.push(await timeRawFloor(raw, blobs, w, tick));
        const cpu = process.cpuUsage();
        const run = await timePipeline(kzg, payload, w, tick);
        const used = process.cpuUsage(cpu);
        // The pool's threads belong to this process, so their CPU time is counted here too.
        // Threads that can be busy on average: w, less the idle ones of a short last round.
        const busy = blobs.length / Math.ceil(blobs.length / w);
        cpuShare.push((used.user + used.system) / 1e6 / (busy * run.seconds));
        encode.push(run.seconds);
        batch = run.batch;
      }
      rows.push({ workers: w, floor, encode, cpuShare, peak: rss.takePeak() });
    }
    const encoded = batch as EncodedBatch;

    enter("parts, 1 worker");
    const parts = await measureParts(kzg, payload, runs, partBlobs, tick);

    enter(`storage node, ${plural(largest, "worker")}`);
    const verify: number[] = [];
    const recovery: number[] = [];
    const dataRecovery: number[] = [];
    const cellsOnly: number[] = [];
    for (let r = 0; r < runs; r++) {
      verify.push(await timeVerify(kzg, encoded.blobs, largest, tick, FAST_SAMPLE_MS));
      recovery.push(await timeRecovery(kzg, encoded.blobs.slice(0, recoveryBlobs), largest, tick));
      dataRecovery.push(await timeDataRecovery(erasure, encoded.blobs, largest, tick, FAST_SAMPLE_MS));
      cellsOnly.push(await timeCellsOnly(kzg, blobs, largest, tick, FAST_SAMPLE_MS));
    }

    enter("GF(2^8) reference");
    const gf: number[] = [];
    for (let r = 0; r < runs; r++) {
      gf.push(timeGf256(gf256, framed, FAST_SAMPLE_MS));
      rss.sample();
      for (let b = 0; b < blobs.length; b++) tick();
    }

    const results = scalingResults(rows, mb, blobs.length);
    const first = results[0] as ScalingResult;
    const storageSummaries = [
      summarize(verify),
      summarize(recovery),
      summarize(cellsOnly),
      summarize(dataRecovery),
    ] as const;
    const gfSummary = summarize(gf);
    const partsTrust = partsSpread(parts);
    const body = {
      results,
      parts: {
        workers: 1 as const,
        ...partResults(parts, mbPerBlob),
        spread: sig(partsTrust.spread),
        trusted: partsTrust.trusted,
      },
      storage: {
        workers: largest,
        verifyCellsPerSecond: sig(rate(blobs.length * CELLS_PER_EXT_BLOB, median(verify))),
        recoveryMBps: sig(rate(recoveryBlobs * mbPerBlob, median(recovery))),
        recoveryNote: RECOVERY_NOTE,
        dataRecoveryMBps: sig(rate(mb, median(dataRecovery))),
        dataRecoveryNote: `${DATA_RECOVERY_NOTE}, ${erasure.backend === "native" ? "native addon" : "TypeScript fallback"}`,
        cellsOnlyMBps: sig(rate(mb, median(cellsOnly))),
        spread: sig(Math.max(...storageSummaries.map((s) => s.spread))),
        spreads: {
          verify: sig(storageSummaries[0].spread),
          recovery: sig(storageSummaries[1].spread),
          cellsOnly: sig(storageSummaries[2].spread),
          dataRecovery: sig(storageSummaries[3].spread),
        },
        trusted: storageSummaries.every((s) => s.trusted),
      },
      reference: {
        rawFloorMBps: first.rawFloorMBps,
        workers: first.workers,
        gf256MBps: sig(rate(mb, gfSummary.median)),
        gf256Note: GF256_NOTE,
        gf256Spread: sig(gfSummary.spread),
        gf256Trusted: gfSummary.trusted,
      },
    };
    return {
      version: 1,
      startedAt,
      seconds: sig((performance.now() - clock) / 1000),
      machine: {
        cores: opts.cores,
        // libuv's default pool is 4 threads; the cellar binary sizes it to the machine.
        threadPool: Number(process.env.UV_THREADPOOL_SIZE) || 4,
        cpu: cpus()[0]?.model.trim() || "unknown",
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        totalMemoryMiB: Math.round(totalmem() / MIB),
        loadAverage: sig(loadAverage),
      },
      config: {
        bytes: opts.bytes,
        mib: sig(opts.bytes / MIB),
        quick: options.quick ?? false,
        blobs: blobs.length,
        runs,
        warmup: opts.warmup,
        workers,
      },
      ...body,
      memory: { baselineRssMiB: Math.round(baselineRss / MIB), peakRssMiB: Math.round(rss.overallPeak / MIB) },
      verdict: verdictOf(body, opts.cores),
    };
  } finally {
    rss.stop();
  }
}

interface Row {
  readonly workers: number;
  readonly floor: number[];
  readonly encode: number[];
  readonly cpuShare: number[];
  readonly peak: number;
}

function scalingResults(rows: readonly Row[], mb: number, blobs: number): ScalingResult[] {
  const rounds = (w: number) => Math.ceil(blobs / w);
  const base = rows[0] as (typeof rows)[number];
  const baseMBps = rate(mb, median(base.encode));
  const baseFloorMBps = rate(mb, median(base.floor));
  return rows.map(({ workers, floor, encode, cpuShare, peak }) => {
    const e = summarize(encode);
    const f = summarize(floor);
    const encodeMBps = rate(mb, e.median);
    const rawFloorMBps = rate(mb, f.median);
    const ideal = (workers / base.workers) * baseMBps;
    return {
      workers,
      encodeMBps: sig(encodeMBps),
      blobsPerSecond: sig(rate(blobs, e.median)),
      rawFloorMBps: sig(rawFloorMBps),
      ratio: sig(encodeMBps / rawFloorMBps),
      scaling: sig(encodeMBps / ideal),
      rawFloorScaling: sig(rawFloorMBps / ((workers / base.workers) * baseFloorMBps)),
      tailCeiling: sig((base.workers * rounds(base.workers)) / (workers * rounds(workers))),
      spread: sig(Math.max(e.spread, f.spread)),
      trusted: e.trusted && f.trusted,
      cpuShare: sig(median(cpuShare)),
      peakRssMiB: Math.round(peak / MIB),
      encodeRunsMBps: encode.map((s) => sig(rate(mb, s))),
      rawFloorRunsMBps: floor.map((s) => sig(rate(mb, s))),
    };
  });
}

function partResults(samples: PartSamples, mbPerBlob: number) {
  const seconds = {
    packing: median(samples.packing),
    hashing: median(samples.hashing),
    commit: median(samples.commit),
    cellsAndProofs: median(samples.cellsAndProofs),
  };
  const sum = seconds.packing + seconds.hashing + seconds.commit + seconds.cellsAndProofs;
  const part = (s: number): PartResult => ({
    msPerBlob: sig(s * 1000),
    MBps: sig(rate(mbPerBlob, s)),
    share: sig(s / sum),
  });
  return {
    packing: part(seconds.packing),
    hashing: part(seconds.hashing),
    commit: part(seconds.commit),
    cellsAndProofs: part(seconds.cellsAndProofs),
    sumMBps: sig(rate(mbPerBlob, sum)),
  };
}

function verdictOf(
  body: Pick<BenchReport, "results" | "parts" | "storage" | "reference">,
  cores: number,
): BenchVerdict {
  const { results } = body;
  const noisy = [
    ...results.filter((r) => !r.trusted).map((r) => `encode on ${plural(r.workers, "worker")}`),
    ...(body.parts.trusted ? [] : ["parts"]),
    ...(body.storage.trusted ? [] : ["storage node"]),
    ...(body.reference.gf256Trusted ? [] : ["GF(2^8) reference"]),
  ];
  const smallest = (results[0] as ScalingResult).workers;
  const scaled = results.filter((r) => r.workers > smallest && r.workers <= cores).map((r) => r.scaling);
  const minScaling = scaled.length > 0 ? Math.min(...scaled) : null;
  const ratio = (results[results.length - 1] as ScalingResult).ratio;
  return {
    spreadLimit: SPREAD_LIMIT,
    noisy,
    trusted: noisy.length === 0,
    starved: results.filter((r) => r.workers <= cores && r.cpuShare < CPU_SHARE_FLOOR).map((r) => r.workers),
    cpuShareFloor: CPU_SHARE_FLOOR,
    scalingTarget: SCALING_TARGET,
    minScaling,
    scalingOk: minScaling === null ? null : minScaling >= SCALING_TARGET,
    ratioTarget: RATIO_TARGET,
    ratio,
    ratioOk: ratio >= RATIO_TARGET,
  };
}
