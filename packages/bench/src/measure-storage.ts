import type { EncodedBlob } from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import type { Erasure } from "@cellar/native";
import { CELLS_PER_EXT_BLOB, DATA_COLUMNS } from "@cellar/params";
import { bytesEqual, mapConcurrent } from "@cellar/utils";
import { BenchError } from "./errors.js";

/** The KZG calls a storage node and a reader make. */
export type StorageKzg = Pick<Kzg, "computeCellsAsync" | "verifyCellProofBatchAsync" | "recoverCellsAndProofsAsync">;

const ALL_CELLS = Array.from({ length: CELLS_PER_EXT_BLOB }, (_, i) => i);
const PARITY_CELLS = ALL_CELLS.slice(DATA_COLUMNS);

/**
 * Seconds per pass of `pass`, repeated until `minMs` have gone by: fast operations (a batch's
 * verification takes tens of milliseconds) would otherwise be timed on a scale the noise dominates.
 * Progress counts the first pass only, so a caller's total stays exact.
 */
async function repeatFor(
  minMs: number,
  onBlob: () => void,
  pass: (tick: () => void) => Promise<void>,
): Promise<number> {
  const start = performance.now();
  let passes = 0;
  do {
    await pass(passes === 0 ? onBlob : () => {});
    passes++;
  } while (performance.now() - start < minMs);
  return (performance.now() - start) / 1000 / passes;
}

/** Seconds to verify every cell of `blobs`, one batch call of 128 cells per blob, `workers` at a time. */
export async function timeVerify(
  kzg: StorageKzg,
  blobs: readonly EncodedBlob[],
  workers: number,
  onBlob: () => void,
  minMs = 0,
): Promise<number> {
  return repeatFor(minMs, onBlob, async (tick) => {
    const ok = await mapConcurrent(blobs, workers, async (blob) => {
      const commitments = ALL_CELLS.map(() => blob.commitment);
      const valid = await kzg.verifyCellProofBatchAsync(commitments, ALL_CELLS, blob.cells, blob.proofs);
      tick();
      return valid;
    });
    const bad = ok.indexOf(false);
    if (bad >= 0) {
      throw new BenchError("CELLAR_ERR_BENCH_SELF_CHECK", `the cells of blob ${bad} failed verification`, {
        blob: bad,
      });
    }
  });
}

/**
 * Seconds to rebuild `blobs` from their 64 parity cells alone, `workers` at a time. The library's
 * recovery also recomputes all 128 proofs, so this is an upper bound on what data-only recovery costs.
 */
export async function timeRecovery(
  kzg: StorageKzg,
  blobs: readonly EncodedBlob[],
  workers: number,
  onBlob: () => void,
): Promise<number> {
  const start = performance.now();
  const firsts = await mapConcurrent(blobs, workers, async (blob) => {
    const { cells } = await kzg.recoverCellsAndProofsAsync(
      PARITY_CELLS,
      PARITY_CELLS.map((c) => blob.cells[c] as Uint8Array),
    );
    onBlob();
    return cells[0];
  });
  const seconds = (performance.now() - start) / 1000;
  const bad = firsts.findIndex((cell, i) => !cell || !bytesEqual(cell, blobs[i]?.cells[0] as Uint8Array));
  if (bad >= 0) {
    throw new BenchError("CELLAR_ERR_BENCH_SELF_CHECK", `blob ${bad} did not recover to its original cells`, {
      blob: bad,
    });
  }
  return seconds;
}

/** Blobs per data-only recovery call, as the codec's rebuild groups them. */
const DATA_RECOVERY_CHUNK = 4;

/**
 * Seconds to rebuild `blobs` from their 64 parity cells with data-only recovery (no proofs),
 * a few blobs per call sharing the missing columns, `workers` calls at a time.
 */
export async function timeDataRecovery(
  erasure: Pick<Erasure, "recoverBlobsAsync">,
  blobs: readonly EncodedBlob[],
  workers: number,
  onBlob: () => void,
  minMs = 0,
): Promise<number> {
  const starts = Array.from(
    { length: Math.ceil(blobs.length / DATA_RECOVERY_CHUNK) },
    (_, i) => i * DATA_RECOVERY_CHUNK,
  );
  return repeatFor(minMs, onBlob, async (tick) => {
    const rebuilt = await mapConcurrent(starts, workers, async (start) => {
      const chunk = blobs.slice(start, start + DATA_RECOVERY_CHUNK);
      const out = await erasure.recoverBlobsAsync(
        PARITY_CELLS,
        chunk.map((blob) => PARITY_CELLS.map((c) => blob.cells[c] as Uint8Array)),
      );
      for (const _ of chunk) tick();
      return out;
    });
    const bad = rebuilt
      .flat()
      .findIndex((blob, i) => !bytesEqual(blob.subarray(0, 2048), blobs[i]?.cells[0] as Uint8Array));
    if (bad >= 0) {
      throw new BenchError("CELLAR_ERR_BENCH_SELF_CHECK", `blob ${bad} did not recover to its original cells`, {
        blob: bad,
      });
    }
  });
}

/** Seconds for the cell extension alone (`computeCells`: no commitment, no proofs), `workers` at a time. */
export async function timeCellsOnly(
  kzg: StorageKzg,
  blobs: readonly Uint8Array[],
  workers: number,
  onBlob: () => void,
  minMs = 0,
): Promise<number> {
  return repeatFor(minMs, onBlob, async (tick) => {
    await mapConcurrent(blobs, workers, async (blob) => {
      await kzg.computeCellsAsync(blob);
      tick();
    });
  });
}
