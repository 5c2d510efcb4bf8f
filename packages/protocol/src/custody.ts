import { createHash } from "node:crypto";
import { CELLS_PER_EXT_BLOB } from "@cellar/params";
import { bytesEqual } from "@cellar/utils";
import type { NodeRecord } from "./node-set.js";

/** Custodians per column by default (DESIGN.md step 4). */
export const DEFAULT_REPLICATION = 2;

/** A node's rendezvous score for a column: `sha256(nodeId || uint8(column))`. */
export function custodyScore(nodeId: Uint8Array, column: number): Buffer {
  return createHash("sha256").update(nodeId).update(Uint8Array.of(column)).digest();
}

/**
 * The nodes that keep `column`: the `replication` nodes with the highest score, highest first
 * (ties, which need a sha256 collision, go to the lower registry index). Anyone with the node set
 * computes the same answer.
 */
export function custodians(
  nodes: readonly NodeRecord[],
  column: number,
  replication = DEFAULT_REPLICATION,
): NodeRecord[] {
  return nodes
    .map((node) => ({ node, score: custodyScore(node.nodeId, column) }))
    .sort((a, b) => Buffer.compare(b.score, a.score) || a.node.index - b.node.index)
    .slice(0, replication)
    .map((s) => s.node);
}

// Tables by node-set array and replication: a node set is replaced, never mutated, so the array
// identity is a safe cache key, and 1,024 hashes per lookup (8 nodes) are not redone per request.
const tables = new WeakMap<readonly NodeRecord[], Map<number, readonly NodeRecord[][]>>();

/** For every column 0..127, its custodians (cached per node-set array; treat as read-only). */
export function custodyTable(nodes: readonly NodeRecord[], replication = DEFAULT_REPLICATION): readonly NodeRecord[][] {
  let byReplication = tables.get(nodes);
  if (!byReplication) {
    byReplication = new Map();
    tables.set(nodes, byReplication);
  }
  let table = byReplication.get(replication);
  if (!table) {
    table = Array.from({ length: CELLS_PER_EXT_BLOB }, (_, c) => custodians(nodes, c, replication));
    byReplication.set(replication, table);
  }
  return table;
}

/** The columns a node keeps, ascending. */
export function custodyColumns(
  nodes: readonly NodeRecord[],
  nodeId: Uint8Array,
  replication = DEFAULT_REPLICATION,
): number[] {
  return custodyTable(nodes, replication).flatMap((holders, c) =>
    holders.some((n) => bytesEqual(n.nodeId, nodeId)) ? [c] : [],
  );
}
