import { CELLS_PER_EXT_BLOB } from "@cellar/params";
import { bytesEqual } from "@cellar/utils";
import { custodyScore, custodyTable, DEFAULT_REPLICATION } from "./custody.js";
import type { NodeRecord } from "./node-set.js";

/**
 * What decides who holds a stored batch's columns (PROTOCOL.md §10.1): the batch's registry
 * snapshot names the original custodians; the current active set, less the nodes known to be
 * gone, supplies the stand-ins.
 */
export interface CustodyView {
  /** The node set of the batch's reference block: its original custodians come from it. */
  readonly snapshot: readonly NodeRecord[];
  /** The registry's active nodes now; default the snapshot (nobody has left). */
  readonly current?: readonly NodeRecord[];
  readonly replication?: number;
  /**
   * Nodes still registered but taken as gone (unresponsive past a grace period, as the caller
   * judges it). A node absent from `current` is gone whatever this says.
   */
  readonly isGone?: (node: NodeRecord) => boolean;
  /**
   * Stand-ins to list beyond those the gone custodians need: a reader that cannot tell which
   * registered custodians are unresponsive passes `replication`, so it also reaches the nodes
   * that stand in for them. Default 0 (exactly the nodes that must hold the column).
   */
  readonly spares?: number;
}

/** One column's holders: its original custodians, then the nodes standing in for the gone ones. */
export interface ColumnHolders {
  readonly column: number;
  /** The custodians of the batch's snapshot, in custody order (gone ones included, marked in `gone`). */
  readonly originals: readonly NodeRecord[];
  /** Next in the column's rendezvous order among the live current nodes, one per gone custodian. */
  readonly standIns: readonly NodeRecord[];
  /** Registry indexes of the originals that are gone. */
  readonly gone: readonly number[];
}

// The rendezvous order of every column over a node set, cached per array as `custodyTable` is.
const orders = new WeakMap<readonly NodeRecord[], readonly NodeRecord[][]>();

/** Every node of `nodes`, highest `sha256(nodeId || c)` first, for each column c (read-only). */
export function rendezvousOrder(nodes: readonly NodeRecord[]): readonly NodeRecord[][] {
  let order = orders.get(nodes);
  if (!order) {
    const scores = nodes.map((n) => Array.from({ length: CELLS_PER_EXT_BLOB }, (_, c) => custodyScore(n.nodeId, c)));
    const ks = nodes.map((_, k) => k);
    order = Array.from({ length: CELLS_PER_EXT_BLOB }, (_, c) =>
      [...ks]
        .sort(
          (a, b) =>
            Buffer.compare((scores[b] as Buffer[])[c] as Buffer, (scores[a] as Buffer[])[c] as Buffer) ||
            (nodes[a] as NodeRecord).index - (nodes[b] as NodeRecord).index,
        )
        .map((k) => nodes[k] as NodeRecord),
    );
    orders.set(nodes, order);
  }
  return order;
}

const sameNode = (a: NodeRecord, b: NodeRecord) => bytesEqual(a.nodeId, b.nodeId);

/** A node's current record (undefined once it left), and whether it is gone under `view`. */
function liveness(view: CustodyView) {
  const current = view.current ?? view.snapshot;
  const byId = new Map(current.map((n) => [Buffer.from(n.nodeId).toString("hex"), n]));
  const now = (n: NodeRecord) => byId.get(Buffer.from(n.nodeId).toString("hex"));
  const isGone = (n: NodeRecord) => now(n) === undefined || (view.isGone?.(n) ?? false);
  return { now, isGone };
}

/**
 * The holders of every column of a batch under `view` (PROTOCOL.md §10.1): column c's originals
 * are its custodians in the snapshot (`custodyTable`); each original that is gone (not in the
 * current set, or `isGone`) is replaced by the next node in c's rendezvous order among the current
 * nodes that is neither an original nor gone, so that c keeps `replication` live holders while
 * the current set has enough nodes. An original that is still current is given with its current
 * record (its URL may have changed).
 */
export function holdersTable(view: CustodyView): ColumnHolders[] {
  const replication = view.replication ?? DEFAULT_REPLICATION;
  const current = view.current ?? view.snapshot;
  const { now, isGone } = liveness(view);
  const table = custodyTable(view.snapshot, replication);
  const order = rendezvousOrder(current);
  return table.map((custodians, column) => {
    const originals = custodians.map((n) => now(n) ?? n);
    const gone = originals.filter(isGone);
    const live = originals.length - gone.length;
    const wanted = Math.max(0, replication - live) + (view.spares ?? 0);
    const standIns: NodeRecord[] = [];
    for (const candidate of order[column] ?? []) {
      if (standIns.length >= wanted) break;
      if (originals.some((o) => sameNode(o, candidate)) || isGone(candidate)) continue;
      standIns.push(candidate);
    }
    return { column, originals, standIns, gone: gone.map((n) => n.index) };
  });
}

/**
 * The view a reader takes of a batch: its snapshot's custodians, the stand-ins from `current`,
 * and `replication` spares for custodians that are registered but down (a reader cannot tell).
 */
export function readerView(
  snapshot: readonly NodeRecord[],
  current: readonly NodeRecord[] | undefined,
  replication = DEFAULT_REPLICATION,
): CustodyView {
  return { snapshot, ...(current ? { current } : {}), replication, spares: replication };
}

/** The nodes to ask for each column, originals first, then stand-ins (what every reader uses). */
export function readOrder(view: CustodyView): NodeRecord[][] {
  return holdersTable(view).map((h) => [...h.originals, ...h.standIns]);
}

/**
 * The columns `nodeId` must hold under `view`: those it custodies in the snapshot and is not gone
 * from, and those it stands in for. Ascending.
 */
export function responsibleColumns(view: CustodyView, nodeId: Uint8Array): number[] {
  const isMe = (n: NodeRecord) => bytesEqual(n.nodeId, nodeId);
  const { isGone } = liveness(view);
  return holdersTable({ ...view, spares: 0 }).flatMap((h) =>
    h.standIns.some(isMe) || h.originals.some((o) => isMe(o) && !isGone(o)) ? [h.column] : [],
  );
}
