import { setTimeout as sleep } from "node:timers/promises";
import { parseManifest } from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import { BYTES_PER_CELL } from "@cellar/params";
import type { NodeMetrics } from "./metrics.js";
import type { CellStore } from "./store.js";

export interface ScrubOptions {
  /** Cells re-verified per second at most, so a scrub never starves serving. */
  readonly cellsPerSecond: number;
  /** Cells per batch verification call. */
  readonly chunk?: number;
}

export interface ScrubResult {
  readonly checked: number;
  readonly dropped: number;
}

interface Pending {
  readonly blob: number;
  readonly column: number;
  readonly entry: Uint8Array;
}

/**
 * One pass over every stored cell: a cell whose checksum fails is dropped at once; the rest are
 * re-verified against their batch's commitments in batch calls, and each cell of a failing call
 * is checked alone so that only the bad ones are dropped. Paced to `cellsPerSecond`.
 */
export async function scrubOnce(
  store: CellStore,
  kzg: Pick<Kzg, "verifyCellProofBatchAsync">,
  options: ScrubOptions,
  metrics?: NodeMetrics | null,
  signal?: AbortSignal,
): Promise<ScrubResult> {
  const chunk = options.chunk ?? 256;
  let checked = 0;
  let dropped = 0;
  const started = performance.now();
  const pace = async () => {
    const due = (checked / options.cellsPerSecond) * 1000 - (performance.now() - started);
    if (due > 0) await sleep(due, undefined, { signal });
  };
  for (const { root, record } of store.batches()) {
    if (signal?.aborted) break;
    const manifest = parseManifest(record.manifest, root);
    const pending: Pending[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const batch = pending.splice(0, pending.length);
      const commitment = (p: Pending) => (manifest.blobs[p.blob] as { commitment: Uint8Array }).commitment;
      const verifyAll = (items: Pending[]) =>
        kzg
          .verifyCellProofBatchAsync(
            items.map(commitment),
            items.map((p) => p.column),
            items.map((p) => p.entry.subarray(0, BYTES_PER_CELL)),
            items.map((p) => p.entry.subarray(BYTES_PER_CELL)),
          )
          .catch(() => false);
      if (!(await verifyAll(batch))) {
        for (const item of batch) {
          if (!(await verifyAll([item]))) {
            await store.dropCell(root, item.blob, item.column);
            dropped++;
            metrics?.scrubDropped.inc();
          }
        }
      }
      checked += batch.length;
      metrics?.scrubChecked.inc(batch.length);
      await pace();
    };
    for (const column of record.columns) {
      for (let blob = 0; blob < manifest.blobs.length; blob++) {
        const read = store.getCell(root, blob, column);
        if (read.ok) pending.push({ blob, column, entry: read.entry });
        else if (read.reason === "corrupt") {
          await store.dropCell(root, blob, column);
          dropped++;
          metrics?.scrubDropped.inc();
        }
        if (pending.length >= chunk) await flush();
      }
    }
    await flush();
  }
  return { checked, dropped };
}
