import type { NodeRecord } from "./node-set.js";

/**
 * Where a role reads registry snapshots from (PROTOCOL.md §10, §19): the node set at a reference
 * block, and the latest block (the newest reference a certificate may name). On L1 this is the
 * registry's checkpoints (`registrySnapshots` in `@cellar/l1`); a static node set (a file, tests)
 * is the same set at every reference.
 */
export interface SnapshotSource {
  latest(): Promise<bigint>;
  nodesAt(reference: bigint): Promise<readonly NodeRecord[]>;
}

/** A fixed node set as a snapshot source: every reference has the same nodes; the latest block is 0. */
export function staticSnapshots(nodes: () => readonly NodeRecord[]): SnapshotSource {
  return { latest: async () => 0n, nodesAt: async () => nodes() };
}
