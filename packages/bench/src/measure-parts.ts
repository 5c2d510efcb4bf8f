import { batchRoot, frameBatch, packBlobs, versionedHash } from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import { summarize } from "./stats.js";
import { timeRepeated } from "./timing.js";

/** Per-blob seconds of each part of the encode on one worker, one sample per run. */
export interface PartSamples {
  readonly packing: number[];
  readonly hashing: number[];
  readonly commit: number[];
  readonly cellsAndProofs: number[];
}

/**
 * Splits one worker's encode into its parts: framing and packing, the commitment, the cells and
 * proofs (over the first `sampleBlobs` blobs, one at a time), and the hashing (versioned hashes
 * and the batch root). Each run gives one per-blob sample of each part.
 */
export async function measureParts(
  kzg: Pick<Kzg, "blobToCommitmentAsync" | "computeCellsAndProofsAsync">,
  payload: Uint8Array,
  runs: number,
  sampleBlobs: number,
  onBlob: () => void,
): Promise<PartSamples> {
  const samples: PartSamples = { packing: [], hashing: [], commit: [], cellsAndProofs: [] };
  let blobs: Uint8Array[] = [];
  const packing = () => {
    blobs = packBlobs(frameBatch(payload));
  };
  for (let r = 0; r < runs; r++) {
    samples.packing.push(timeRepeated(packing) / blobs.length);
    const subset = blobs.slice(0, sampleBlobs);
    const commitments: Uint8Array[] = [];
    let commit = 0;
    let cells = 0;
    for (const blob of subset) {
      let start = performance.now();
      commitments.push(await kzg.blobToCommitmentAsync(blob));
      commit += performance.now() - start;
      start = performance.now();
      await kzg.computeCellsAndProofsAsync(blob);
      cells += performance.now() - start;
      onBlob();
    }
    samples.commit.push(commit / 1000 / subset.length);
    samples.cellsAndProofs.push(cells / 1000 / subset.length);
    // The batch's real hashes, over its real blob count: the subset's commitments stand in for the rest.
    const all = blobs.map((_, i) => commitments[i % commitments.length] as Uint8Array);
    samples.hashing.push(timeRepeated(() => batchRoot(all.map(versionedHash), payload.length)) / blobs.length);
  }
  return samples;
}

/** The largest spread among the parts that carry the cost (commitment, cells and proofs). */
export function partsSpread(samples: PartSamples): { spread: number; trusted: boolean } {
  const a = summarize(samples.commit);
  const b = summarize(samples.cellsAndProofs);
  return { spread: Math.max(a.spread, b.spread), trusted: a.trusted && b.trusted };
}
