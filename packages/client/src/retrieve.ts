import { availableParallelism } from "node:os";
import { type BatchManifest, type Column, decodeBatch, verifyColumns } from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import type { Erasure } from "@cellar/native";
import { CELLS_PER_EXT_BLOB, DATA_COLUMNS } from "@cellar/params";
import { DEFAULT_REPLICATION, type NodeRecord, readerView, readOrder } from "@cellar/protocol";
import { mapConcurrent, toHex } from "@cellar/utils";
import { ClientError } from "./errors.js";
import type { NodeClient } from "./node-client.js";

export interface RetrieveOptions {
  /** The batch's registry snapshot: its custodians are asked first (§10). */
  readonly nodes: readonly NodeRecord[];
  /**
   * The registry's active nodes now, when they differ from the snapshot: the stand-ins for
   * custodians that left are asked next (§10.1). Default `nodes`.
   */
  readonly current?: readonly NodeRecord[];
  readonly replication?: number;
  readonly client: NodeClient;
  readonly kzg: Pick<Kzg, "verifyCellProofBatchAsync">;
  /** Data-only recovery, for when some of columns 0..63 cannot be had. */
  readonly erasure: Pick<Erasure, "recoverBlobsAsync">;
  /** The manifest, when the caller already holds a checked one; otherwise fetched from the nodes. */
  readonly manifest?: BatchManifest;
  /** Called for a node that answered with cells that fail their proofs, or with garbage. */
  readonly onBadNode?: (node: NodeRecord, column: number, reason: string) => void;
  /** Total time for the whole retrieval; past it, CELLAR_ERR_CLIENT_DEADLINE. Default 120 s. */
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
}

export interface Retrieved {
  readonly manifest: BatchManifest;
  readonly payload: Uint8Array;
  readonly columnsUsed: number[];
}

/** The manifest of `root` from the first node that has one matching the root. */
export async function fetchManifest(
  root: Uint8Array,
  nodes: readonly NodeRecord[],
  client: NodeClient,
  signal?: AbortSignal,
): Promise<BatchManifest> {
  for (const node of nodes) {
    if (signal?.aborted) break;
    try {
      return await client.manifest(node, root, signal);
    } catch {
      // Missing, unreachable, or not matching the root: ask the next node.
    }
  }
  throw new ClientError("CELLAR_ERR_CLIENT_UNAVAILABLE", `no node has the manifest of batch ${toHex(root)}`, {
    root: toHex(root),
  });
}

/**
 * Rebuilds a batch from storage nodes: columns 0..63 first (no recovery needed), then parity,
 * each asked of its holders in turn (`readOrder`: the snapshot's custodians, then stand-ins). Every column is verified against the manifest before it
 * is used; a node whose column fails is reported and the next custodian asked. Stops at 64 good
 * columns; fewer than 64 is CELLAR_ERR_CLIENT_UNAVAILABLE, naming the columns that could not be
 * had. Never returns bytes it could not verify.
 */
export async function retrieveBatch(root: Uint8Array, options: RetrieveOptions): Promise<Retrieved> {
  const deadlineMs = options.deadlineMs ?? 120_000;
  const deadline = AbortSignal.timeout(deadlineMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  try {
    return await retrieveWithin(root, options, signal);
  } catch (err) {
    // Whatever was in flight when the deadline fired failed because of it: say so.
    if (!deadline.aborted) throw err;
    throw new ClientError(
      "CELLAR_ERR_CLIENT_DEADLINE",
      `retrieving batch ${toHex(root)} took longer than ${deadlineMs} ms`,
      { root: toHex(root), deadlineMs },
      { cause: err },
    );
  }
}

async function retrieveWithin(root: Uint8Array, options: RetrieveOptions, signal: AbortSignal): Promise<Retrieved> {
  const { nodes, client } = options;
  // [§10.1] Originals first, then the stand-ins (and as many spares, for custodians that are
  // registered but down): one shared order for every reader.
  const table = readOrder(readerView(nodes, options.current, options.replication ?? DEFAULT_REPLICATION));
  const everyone = [...nodes, ...(options.current ?? []).filter((n) => !nodes.includes(n))];
  const manifest = options.manifest ?? (await fetchManifest(root, everyone, client, signal));
  const good = new Map<number, Column>();
  const failed: number[] = [];

  const fetchVerified = async (index: number): Promise<Column | undefined> => {
    for (const node of table[index] ?? []) {
      let column: Column;
      try {
        if (signal.aborted) return undefined;
        column = await client.column(node, manifest, index, signal);
      } catch (err) {
        if ((err as ClientError).context?.status !== 404) options.onBadNode?.(node, index, "unreachable-or-malformed");
        continue;
      }
      const bad = await verifyColumns(manifest, [column], { kzg: options.kzg, concurrency: 1 });
      if (bad.length === 0) return column;
      options.onBadNode?.(node, index, "invalid-cells");
    }
    return undefined;
  };

  // Ask for the original half first; then as many parity columns as are still missing, in waves.
  let candidates = Array.from({ length: DATA_COLUMNS }, (_, c) => c);
  let nextParity = DATA_COLUMNS;
  while (good.size < DATA_COLUMNS && candidates.length > 0) {
    const results = await mapConcurrent(candidates, Math.max(4, availableParallelism() * 2), fetchVerified);
    candidates.forEach((c, i) => {
      const column = results[i];
      if (column) good.set(c, column);
      else failed.push(c);
    });
    const need = DATA_COLUMNS - good.size;
    candidates = [];
    while (candidates.length < need && nextParity < CELLS_PER_EXT_BLOB) candidates.push(nextParity++);
  }
  if (good.size < DATA_COLUMNS) {
    throw new ClientError(
      "CELLAR_ERR_CLIENT_UNAVAILABLE",
      `batch ${toHex(root)} cannot be rebuilt: ${good.size} verified columns, ${DATA_COLUMNS} needed (unavailable: ${failed.join(", ")})`,
      { root: toHex(root), verified: good.size, failed },
    );
  }
  const columnsUsed = [...good.keys()].sort((a, b) => a - b).slice(0, DATA_COLUMNS);
  const payload = await decodeBatch(
    manifest,
    columnsUsed.map((c) => good.get(c) as Column),
    { kzg: options.kzg, erasure: options.erasure, alreadyVerified: true },
  );
  return { manifest, payload, columnsUsed };
}
