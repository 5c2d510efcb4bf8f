import type { Http } from "@cellar/client";
import { CELLS_PER_EXT_BLOB } from "@cellar/params";
import type { NodeRecord } from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import { MAX_LISTING } from "./server.js";

/** A batch some peer lists (PROTOCOL.md §13.3), with who lists it and which columns each holds. */
export interface ListedBatch {
  readonly root: Uint8Array;
  readonly reference: bigint;
  /** The earliest time a lister stored it, never later than now. */
  storedAt: number;
  /** Per column, the peers listing it as held whole. */
  readonly holders: Map<number, NodeRecord[]>;
  /** The peers that list the batch (each can be asked for its attestation and the manifest). */
  readonly listers: NodeRecord[];
}

/** Largest listing page accepted: 256 entries of a root, a reference, a time and 128 columns. */
const MAX_PAGE_BYTES = 1 << 20;

/**
 * When each peer last failed to answer, so that a custodian unresponsive for longer than the
 * grace period counts as gone (PROTOCOL.md §10.1). A peer that answers anything, a 404 included,
 * is responsive.
 */
export class Liveness {
  readonly #failingSince = new Map<string, number>();
  constructor(readonly graceMs: number) {}

  answered(node: NodeRecord): void {
    this.#failingSince.delete(toHex(node.nodeId));
  }

  failed(node: NodeRecord, now = Date.now()): void {
    const key = toHex(node.nodeId);
    if (!this.#failingSince.has(key)) this.#failingSince.set(key, now);
  }

  isGone(node: NodeRecord, now = Date.now()): boolean {
    const since = this.#failingSince.get(toHex(node.nodeId));
    return since !== undefined && now - since >= this.graceMs;
  }
}

/** One page of a peer's listing, checked entry by entry; throws on anything malformed. */
function parsePage(body: Buffer): {
  entries: Omit<ListedBatch, "holders" | "listers">[];
  columns: number[][];
  next: string | null;
} {
  const json = JSON.parse(body.toString()) as { batches?: unknown; next?: unknown };
  if (!Array.isArray(json.batches) || json.batches.length > MAX_LISTING) throw new Error("not a batch listing");
  const entries: Omit<ListedBatch, "holders" | "listers">[] = [];
  const columns: number[][] = [];
  for (const item of json.batches as { root?: unknown; reference?: unknown; storedAt?: unknown; columns?: unknown }[]) {
    const root = fromHex(item.root, 32, "root");
    if (typeof item.reference !== "string" || !/^\d{1,20}$/.test(item.reference)) throw new Error("bad reference");
    if (typeof item.storedAt !== "number" || !Number.isFinite(item.storedAt)) throw new Error("bad storedAt");
    const cols = item.columns;
    if (
      !Array.isArray(cols) ||
      cols.length > CELLS_PER_EXT_BLOB ||
      !cols.every((c) => Number.isInteger(c) && c >= 0 && c < CELLS_PER_EXT_BLOB)
    )
      throw new Error("bad columns");
    entries.push({ root, reference: BigInt(item.reference), storedAt: Math.min(item.storedAt, Date.now()) });
    columns.push(cols as number[]);
  }
  const next = json.next === null || json.next === undefined ? null : toHex(fromHex(json.next, 32, "next"));
  return { entries, columns, next };
}

/**
 * Every batch the peers list, by 0x-hex root: each peer's `GET /v1/batches` read page by page (at
 * most `maxPages` pages of 256 per peer and pass, each request under the client's deadline and a
 * 1 MiB cap). A peer that fails or answers garbage is skipped for this pass and noted in
 * `liveness` (garbage counts as an answer: the peer is up, just not to be believed).
 */
export async function discoverBatches(
  peers: readonly NodeRecord[],
  http: Http,
  liveness: Liveness,
  options: { maxPages: number; signal: AbortSignal },
): Promise<Map<string, ListedBatch>> {
  const found = new Map<string, ListedBatch>();
  await Promise.all(
    peers.map(async (peer) => {
      let after: string | null = null;
      for (let page = 0; page < options.maxPages && !options.signal.aborted; page++) {
        let res: Awaited<ReturnType<Http["send"]>>;
        try {
          res = await http.send("GET", `${peer.url}/v1/batches?limit=${MAX_LISTING}${after ? `&after=${after}` : ""}`, {
            attempts: 1,
            maxResponseBytes: MAX_PAGE_BYTES,
            signal: options.signal,
          });
        } catch {
          liveness.failed(peer);
          return;
        }
        liveness.answered(peer);
        if (res.status !== 200) return;
        let parsed: ReturnType<typeof parsePage>;
        try {
          parsed = parsePage(res.body);
        } catch {
          return;
        }
        parsed.entries.forEach((entry, i) => {
          const key = toHex(entry.root);
          let batch = found.get(key);
          if (!batch) {
            batch = { ...entry, holders: new Map(), listers: [] };
            found.set(key, batch);
          }
          // A lister naming another reference for the same root is not believed for it.
          if (batch.reference !== entry.reference) return;
          batch.storedAt = Math.min(batch.storedAt, entry.storedAt);
          batch.listers.push(peer);
          for (const c of parsed.columns[i] ?? []) {
            const list = batch.holders.get(c) ?? [];
            list.push(peer);
            batch.holders.set(c, list);
          }
        });
        after = parsed.next;
        if (after === null) return;
      }
    }),
  );
  return found;
}
