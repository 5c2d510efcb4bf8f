import { availableParallelism } from "node:os";
import type { Kzg } from "@cellar/kzg";
import { mapConcurrent } from "@cellar/utils";
import { type Column, checkColumnIndex } from "./column.js";
import { type Compression, frameBatch } from "./frame.js";
import { type BatchManifest, buildManifest } from "./manifest.js";
import { packBlobs } from "./pack.js";

/** One blob of an encoded batch: its commitment and all 128 cells with their proofs. */
export interface EncodedBlob {
  readonly commitment: Uint8Array;
  readonly cells: readonly Uint8Array[];
  readonly proofs: readonly Uint8Array[];
}

export interface EncodedBatch {
  readonly manifest: BatchManifest;
  readonly blobs: readonly EncodedBlob[];
}

export interface EncodeProgress {
  readonly blobsDone: number;
  readonly blobs: number;
}

export interface EncodeOptions {
  readonly kzg: Pick<Kzg, "blobToCommitmentAsync" | "computeCellsAndProofsAsync">;
  readonly compression?: Compression;
  /** Blobs encoded at once, each on a thread of its own. Default: the machine's parallelism. */
  readonly concurrency?: number;
  readonly onProgress?: (progress: EncodeProgress) => void;
  /**
   * Encodes the packed blobs elsewhere (an encoder fleet) instead of with `kzg` here; must answer
   * every blob, in order, with its cells verified.
   */
  readonly encodeBlobs?: (blobs: readonly Uint8Array[]) => Promise<readonly EncodedBlob[]>;
}

/** One blob's commitment, then its 128 cells and proofs: one thread of the libuv pool throughout. */
export async function encodeBlob(
  blob: Uint8Array,
  kzg: Pick<Kzg, "blobToCommitmentAsync" | "computeCellsAndProofsAsync">,
): Promise<EncodedBlob> {
  const commitment = await kzg.blobToCommitmentAsync(blob);
  const { cells, proofs } = await kzg.computeCellsAndProofsAsync(blob);
  return { commitment, cells, proofs };
}

/**
 * Encodes a batch: frame, pack into blobs, then per blob the KZG commitment and the 128 cells
 * with proofs (on the libuv thread pool, `concurrency` blobs at a time), and the manifest with
 * the batch root over the blobs' versioned hashes.
 */
export async function encodeBatch(payload: Uint8Array, options: EncodeOptions): Promise<EncodedBatch> {
  const blobs = packBlobs(frameBatch(payload, options.compression ?? "none"));
  const { kzg, onProgress } = options;
  let blobsDone = 0;
  onProgress?.({ blobsDone, blobs: blobs.length });
  const encoded = options.encodeBlobs
    ? await options.encodeBlobs(blobs)
    : // A blob occupies one thread, so `concurrency` is the number of cores the encode keeps busy.
      await mapConcurrent(blobs, options.concurrency ?? availableParallelism(), async (blob) => {
        const done = await encodeBlob(blob, kzg);
        onProgress?.({ blobsDone: ++blobsDone, blobs: blobs.length });
        return done;
      });
  return {
    manifest: buildManifest(
      encoded.map((b) => b.commitment),
      payload.length,
    ),
    blobs: encoded,
  };
}

/** Column `index` of an encoded batch. */
export function columnOf(batch: EncodedBatch, index: number): Column {
  checkColumnIndex(index);
  return {
    index,
    cells: batch.blobs.map((b) => b.cells[index] as Uint8Array),
    proofs: batch.blobs.map((b) => b.proofs[index] as Uint8Array),
  };
}
