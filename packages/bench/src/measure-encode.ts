import { encodeBatch } from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import { mapConcurrent } from "@cellar/utils";
import type { RawKzg } from "./raw-floor.js";

/** The KZG calls the encode pipeline makes. */
export type EncodeKzg = Pick<Kzg, "blobToCommitmentAsync" | "computeCellsAndProofsAsync">;

/**
 * Seconds for the raw floor: each blob's commitment then its cells and proofs, straight through
 * node-eth-kzg, `workers` blobs at a time (the method of bench/encode.ts, so figures agree).
 */
export async function timeRawFloor(
  raw: RawKzg,
  blobs: readonly Uint8Array[],
  workers: number,
  onBlob: () => void,
): Promise<number> {
  const start = performance.now();
  await mapConcurrent(blobs, workers, async (blob) => {
    await raw.asyncBlobToKzgCommitment(blob);
    await raw.asyncComputeCellsAndKzgProofs(blob);
    onBlob();
  });
  return (performance.now() - start) / 1000;
}

/** Seconds for the whole encode pipeline (`encodeBatch`) on a pool of `workers`, and its output. */
export async function timePipeline(
  kzg: EncodeKzg,
  payload: Uint8Array,
  workers: number,
  onBlob: () => void,
): Promise<{ seconds: number; batch: Awaited<ReturnType<typeof encodeBatch>> }> {
  const start = performance.now();
  const batch = await encodeBatch(payload, {
    kzg,
    concurrency: workers,
    onProgress: (p) => {
      if (p.blobsDone > 0) onBlob();
    },
  });
  return { seconds: (performance.now() - start) / 1000, batch };
}
