/**
 * The shape of a benchmark report: what `runBench` returns, `--json` prints and the HTML/SVG
 * report draws. MB is 10^6 payload bytes (the rollup's bytes, before coding), as in bench/encode.ts.
 */

/** One worker count: the pipeline beside the raw library floor measured in the same runs. */
export interface ScalingResult {
  readonly workers: number;
  /** Payload MB/s of the full encode (frame, pack, commitments, cells and proofs, hashes, root). */
  readonly encodeMBps: number;
  readonly blobsPerSecond: number;
  /** The same blobs through node-eth-kzg alone, on the same worker count. */
  readonly rawFloorMBps: number;
  /** encode ÷ raw floor: what the pipeline's own work costs (target ≥ 0.95). */
  readonly ratio: number;
  /** encodeMBps ÷ (workers/w₀ × encodeMBps at the smallest count w₀); 1 is perfect. */
  readonly scaling: number;
  /** The raw floor's own scaling on the same runs: what the library and the machine allow the pool. */
  readonly rawFloorScaling: number;
  /** The best scaling the batch allows: blobs ÷ (workers × rounds), below 1 when the last round is short. */
  readonly tailCeiling: number;
  /** The larger of the encode and floor spreads, (slowest − fastest) ÷ median. */
  readonly spread: number;
  readonly trusted: boolean;
  /**
   * CPU time the process got during the encode runs ÷ (workers × wall time): near 1 when the pool
   * had its cores; well below 1 when other processes took them, and then the scaling understates
   * this machine.
   */
  readonly cpuShare: number;
  /** Peak resident set of the whole process during these runs (both KZG contexts included). */
  readonly peakRssMiB: number;
  /** Encode MB/s of each run, fastest to slowest spread shown as error bars. */
  readonly encodeRunsMBps: readonly number[];
  readonly rawFloorRunsMBps: readonly number[];
}

/** One part of the encode on one worker, per blob. */
export interface PartResult {
  readonly msPerBlob: number;
  readonly MBps: number;
  /** Share of the summed parts. */
  readonly share: number;
}

export interface PartsResult {
  readonly workers: 1;
  readonly packing: PartResult;
  readonly hashing: PartResult;
  readonly commit: PartResult;
  readonly cellsAndProofs: PartResult;
  /** MB/s if the parts ran back to back and nothing else: compare with encode on 1 worker. */
  readonly sumMBps: number;
  readonly spread: number;
  readonly trusted: boolean;
}

/** What a storage node and a reader see, on the largest worker count. */
export interface StorageResult {
  readonly workers: number;
  /** Cells verified per second, 128 cells per `verifyCellProofBatch` call (one blob's). */
  readonly verifyCellsPerSecond: number;
  /** Payload MB/s rebuilt from the 64 parity columns alone. */
  readonly recoveryMBps: number;
  readonly recoveryNote: string;
  /** Payload MB/s rebuilt from the 64 parity columns by data-only recovery (no proofs). */
  readonly dataRecoveryMBps: number;
  readonly dataRecoveryNote: string;
  /** Payload MB/s of the cell extension alone (`computeCells`, no proofs). */
  readonly cellsOnlyMBps: number;
  /** The largest of the spreads below. */
  readonly spread: number;
  readonly spreads: {
    readonly verify: number;
    readonly recovery: number;
    readonly cellsOnly: number;
    readonly dataRecovery: number;
  };
  readonly trusted: boolean;
}

/** Reference points measured in the same run. */
export interface ReferenceResult {
  /** The raw KZG floor on `workers` (the smallest count measured: one thread when it is 1). */
  readonly rawFloorMBps: number;
  readonly workers: number;
  /** `@subspace/reed-solomon-erasure.wasm`, 64 data + 64 parity shards per blob, one thread. */
  readonly gf256MBps: number;
  readonly gf256Note: string;
  readonly gf256Spread: number;
  readonly gf256Trusted: boolean;
}

export interface BenchVerdict {
  readonly spreadLimit: number;
  /** Measurements whose spread is too wide (or that had one run): do not act on those. */
  readonly noisy: readonly string[];
  readonly trusted: boolean;
  /** Worker counts (up to the cores) whose runs got under `cpuShareFloor` of their cores: the machine was shared. */
  readonly starved: readonly number[];
  readonly cpuShareFloor: number;
  readonly scalingTarget: number;
  /** The lowest scaling among worker counts above the smallest and up to the core count. */
  readonly minScaling: number | null;
  readonly scalingOk: boolean | null;
  readonly ratioTarget: number;
  /** encode ÷ raw floor on the largest worker count. */
  readonly ratio: number;
  readonly ratioOk: boolean;
}

export interface BenchReport {
  readonly version: 1;
  readonly startedAt: string;
  readonly seconds: number;
  readonly machine: {
    readonly cores: number;
    readonly threadPool: number;
    readonly cpu: string;
    readonly node: string;
    readonly platform: string;
    readonly totalMemoryMiB: number;
    /** The 1-minute load average when measuring began: above half the core count, others were busy. */
    readonly loadAverage: number;
  };
  readonly config: {
    readonly bytes: number;
    readonly mib: number;
    /** A `--quick` run: indicative figures, not ones to size machines by. */
    readonly quick: boolean;
    readonly blobs: number;
    readonly runs: number;
    readonly warmup: number;
    readonly workers: readonly number[];
  };
  readonly results: readonly ScalingResult[];
  readonly parts: PartsResult;
  readonly storage: StorageResult;
  readonly reference: ReferenceResult;
  readonly memory: { readonly baselineRssMiB: number; readonly peakRssMiB: number };
  readonly verdict: BenchVerdict;
}
