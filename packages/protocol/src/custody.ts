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
 * The custody table of a node set (PROTOCOL.md §10): column c is kept by the `replication` nodes
 * with the highest score for c, highest first (ties, which need a sha256 collision, go to the
 * lower registry index); then every node that keeps no column that way also keeps the one column
 * where its own score is highest (appended in index order), so every node of the set custodies at
 * least one column and can sign for every batch. With at most `replication` nodes, every node
 * keeps every column.
 */
function buildTable(nodes: readonly NodeRecord[], replication: number): NodeRecord[][] {
  const scores = nodes.map((node) =>
    Array.from({ length: CELLS_PER_EXT_BLOB }, (_, c) => custodyScore(node.nodeId, c)),
  );
  const order = nodes.map((_, k) => k);
  const table = Array.from({ length: CELLS_PER_EXT_BLOB }, (_, c) =>
    [...order]
      .sort(
        (a, b) =>
          Buffer.compare((scores[b] as Buffer[])[c] as Buffer, (scores[a] as Buffer[])[c] as Buffer) ||
          (nodes[a] as NodeRecord).index - (nodes[b] as NodeRecord).index,
      )
      .slice(0, replication)
      .map((k) => nodes[k] as NodeRecord),
  );
  const held = new Set(table.flat().map((n) => n.index));
  for (const [k, node] of nodes.entries()) {
    if (held.has(node.index)) continue;
    const own = scores[k] as Buffer[];
    let best = 0;
    for (let c = 1; c < CELLS_PER_EXT_BLOB; c++)
      if (Buffer.compare(own[c] as Buffer, own[best] as Buffer) > 0) best = c;
    (table[best] as NodeRecord[]).push(node);
  }
  return table;
}

/** The nodes that keep `column`, in custody order (see `custodyTable`). */
export function custodians(
  nodes: readonly NodeRecord[],
  column: number,
  replication = DEFAULT_REPLICATION,
): NodeRecord[] {
  return [...(custodyTable(nodes, replication)[column] ?? [])];
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
    table = buildTable(nodes, replication);
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
