import { batchIdFromRoot } from "@cellar/codec";
import { toHex } from "@cellar/utils";
import type { ColumnOutcome, ExplorerBatch, ExplorerEvent, SamplingView } from "./types.js";

export interface ExplorerFeedOptions {
  /** Batches kept; the one changed longest ago is forgotten past this. Default 100. */
  readonly keep?: number;
}

type Patch = Partial<Omit<ExplorerBatch, "key" | "root" | "id" | "updatedAt">>;

/**
 * What a role knows about its recent batches, for the explorer: the role records each step as it
 * happens, and the explorer's routes list the batches and stream every change to the pages
 * watching. The page trusts none of it for its own verdict.
 */
export class ExplorerFeed {
  readonly #keep: number;
  readonly #batches = new Map<string, ExplorerBatch>();
  readonly #listeners = new Set<(event: ExplorerEvent) => void>();

  constructor(options: ExplorerFeedOptions = {}) {
    this.#keep = options.keep ?? 100;
  }

  /** A batch still encoding, known only by a provisional key (its root comes with `update`). */
  encoding(key: string, size: number): ExplorerBatch {
    return this.#put({ key, root: "", id: "", status: "encoding", size, updatedAt: new Date().toISOString() });
  }

  /**
   * Merges `patch` into the batch's record (created on first sight), replacing the provisional
   * entry `replaces` if given, and tells the watchers. Once settled on L1 a batch stays settled.
   */
  update(root: Uint8Array, patch: Patch, replaces?: string): ExplorerBatch {
    const key = toHex(root);
    const previous = this.#batches.get(key) ?? (replaces !== undefined ? this.#batches.get(replaces) : undefined);
    if (replaces !== undefined) this.forget(replaces);
    const settled = previous?.status === "settled" || patch.status === "settled";
    return this.#put({
      ...previous,
      ...patch,
      ...(settled ? { status: "settled" } : {}),
      status: settled ? "settled" : (patch.status ?? previous?.status ?? "certified"),
      key,
      root: key,
      id: batchIdFromRoot(root),
      updatedAt: new Date().toISOString(),
    });
  }

  /** Drops a batch (an encoding that failed: nothing of it was sent anywhere). */
  forget(key: string): void {
    if (this.#batches.delete(key)) this.#emit({ type: "forget", key });
  }

  /** One column of a sampling round as it lands. */
  column(root: Uint8Array, round: number, outcome: ColumnOutcome): void {
    this.#emit({ type: "column", root: toHex(root), round, outcome });
  }

  /** Records a finished round: its verdict and each sampled column's outcome. */
  sampled(root: Uint8Array, status: "available" | "unavailable", sampling: SamplingView, blobs?: number): void {
    this.update(root, { status, sampling, ...(blobs !== undefined ? { blobs } : {}) });
  }

  /** Recent batches, the latest changed first. */
  list(): ExplorerBatch[] {
    return [...this.#batches.values()].reverse();
  }

  get(key: string): ExplorerBatch | undefined {
    return this.#batches.get(key.toLowerCase());
  }

  /** Calls `listener` with every later event; returns the unsubscribe function. */
  subscribe(listener: (event: ExplorerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #put(batch: ExplorerBatch): ExplorerBatch {
    // Re-inserted so that the map stays in order of last change, the latest last.
    this.#batches.delete(batch.key);
    this.#batches.set(batch.key, batch);
    if (this.#batches.size > this.#keep) this.#batches.delete(this.#batches.keys().next().value as string);
    this.#emit({ type: "batch", batch });
    return batch;
  }

  #emit(event: ExplorerEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
