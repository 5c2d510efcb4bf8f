import { setTimeout as sleep, setImmediate as yieldToLoop } from "node:timers/promises";
import type { NodeClient } from "@cellar/client";
import { type BatchManifest, type Column, verifyColumns } from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import type { Erasure } from "@cellar/native";
import { BYTES_PER_CELL, BYTES_PER_COLUMN_ENTRY, DATA_COLUMNS } from "@cellar/params";
import {
  type AttestationDomain,
  type ColumnHolders,
  type CustodyView,
  holdersTable,
  type NodeRecord,
  readOrder,
  responsibleColumns,
  verifyAttestation,
} from "@cellar/protocol";
import { bytesEqual, fromHex, toHex } from "@cellar/utils";
import type { FastifyBaseLogger } from "fastify";
import type { NodeIdentity } from "./identity.js";
import type { NodeMetrics } from "./metrics.js";
import { discoverBatches, type ListedBatch, Liveness } from "./peers.js";
import type { CellStore } from "./store.js";

export interface RepairOptions {
  /** Cells fetched, rebuilt or re-read for sources per second at most, so serving is never starved. */
  readonly cellsPerSecond: number;
  /** A registered custodian that fails every request for this long counts as gone. */
  readonly graceMs: number;
  /** Batches stored longer ago than this are not repaired (they are pruned); 0 repairs every batch. */
  readonly retentionMs: number;
  readonly replication: number;
  /** Bytes adopted on the word of one attesting peer (its quota, as a disperser has one). */
  readonly quotaBytes: number;
  /** Listing pages (256 batches each) read from each peer per pass. Default 16. */
  readonly maxPages?: number;
}

export interface RepairModules {
  readonly store: CellStore;
  readonly kzg: Pick<Kzg, "verifyCellProofBatchAsync" | "computeCellsAndProofsAsync">;
  readonly erasure: Pick<Erasure, "recoverBlobsAsync">;
  readonly client: NodeClient;
  readonly identity: NodeIdentity;
  readonly domain: AttestationDomain;
  /** The registry's active nodes now. */
  nodes(): readonly NodeRecord[];
  /** The node set of a reference block (the batch's snapshot). */
  snapshotAt(reference: bigint): Promise<readonly NodeRecord[]>;
  readonly metrics?: NodeMetrics | null;
  readonly log?: FastifyBaseLogger | undefined;
}

/** What one repair pass found and did. */
export interface RepairPass {
  readonly batches: number;
  /** Cells this node must hold but did not, at the start of the pass. */
  readonly missing: number;
  /** Cells fetched from another holder, verified and stored. */
  readonly repaired: number;
  /** Cells rebuilt from 64 verified columns, verified and stored. */
  readonly rebuilt: number;
  /** Cells still missing at the end (no holder had them and fewer than 64 columns could be had). */
  readonly outstanding: number;
  /** Bytes of cells and proofs received from peers. */
  readonly bytes: number;
}

/**
 * How long a holder waits for the first holder of a lost column to rebuild it before it rebuilds
 * it too (a rebuild recomputes every proof of every blob: tens of seconds for a large batch).
 */
const REBUILD_PATIENCE_MS = 60_000;

interface Work {
  root: Uint8Array;
  reference: bigint;
  storedAt: number;
  listed: ListedBatch | undefined;
}

/**
 * The repair loop's one pass (PROTOCOL.md §14.1): learn the batches the peers hold, work out for
 * each batch within retention the columns this node must hold (its custody under the batch's
 * snapshot and the columns it stands in for), and fill every gap: fetch the column from a holder
 * and verify every cell against the manifest, or, when no holder has it, rebuild it from 64
 * verified columns (data by erasure recovery, proofs by the KZG library) and verify that too.
 * Nothing unverified is stored; the work is paced and yields, so serving goes on.
 */
export class Repairer {
  readonly #opts: RepairOptions;
  readonly #m: RepairModules;
  readonly liveness: Liveness;
  #incompleteSince: number | undefined;
  /** Lost columns (root/column) this node waits for another holder to rebuild: since when. */
  readonly #waiting = new Map<string, number>();
  #missingNow = 0;
  #started = 0;
  #paced = 0;

  constructor(opts: RepairOptions, modules: RepairModules) {
    this.#opts = opts;
    this.#m = modules;
    this.liveness = new Liveness(opts.graceMs);
  }

  /** Seconds since this node last held everything it is responsible for (0 when it does). */
  secondsBehind(now = Date.now()): number {
    return this.#incompleteSince === undefined ? 0 : (now - this.#incompleteSince) / 1000;
  }

  /** Cells still missing as of the running or last pass. */
  get missing(): number {
    return this.#missingNow;
  }

  #isCurrent(node: NodeRecord): boolean {
    return this.#m.nodes().some((n) => bytesEqual(n.nodeId, node.nodeId));
  }

  async #pace(cells: number, signal: AbortSignal): Promise<void> {
    this.#paced += cells;
    const due = (this.#paced / this.#opts.cellsPerSecond) * 1000 - (performance.now() - this.#started);
    if (due > 0) await sleep(due, undefined, { signal });
    else await yieldToLoop();
  }

  async pass(signal: AbortSignal = new AbortController().signal): Promise<RepairPass> {
    const { store, identity } = this.#m;
    const metrics = this.#m.metrics;
    this.#started = performance.now();
    this.#paced = 0;
    const now = Date.now();
    const current = this.#m.nodes();
    const peers = current.filter((n) => !bytesEqual(n.nodeId, identity.nodeId));
    const listed = await discoverBatches(peers, this.#m.client.http, this.liveness, {
      maxPages: this.#opts.maxPages ?? 16,
      signal,
    });
    const work = new Map<string, Work>();
    for (const { root, record } of store.batches())
      work.set(toHex(root), {
        root,
        reference: BigInt(record.reference ?? 0),
        storedAt: record.storedAt,
        listed: undefined,
      });
    for (const [key, batch] of listed) {
      const known = work.get(key);
      if (known) known.listed = batch.reference === known.reference ? batch : undefined;
      else work.set(key, { root: batch.root, reference: batch.reference, storedAt: batch.storedAt, listed: batch });
    }
    const window = this.#opts.retentionMs;
    const due = [...work.values()].filter((w) => window <= 0 || w.storedAt >= now - window);
    const totals = { batches: due.length, missing: 0, repaired: 0, rebuilt: 0, outstanding: 0, bytes: 0 };
    // Count first, so the gauge and seconds-behind tell the whole backlog from the start.
    const plans: { work: Work; view: CustodyView; missing: number[] }[] = [];
    for (const w of due) {
      if (signal.aborted) break;
      let snapshot: readonly NodeRecord[];
      try {
        snapshot = await this.#m.snapshotAt(w.reference);
      } catch (err) {
        this.#m.log?.warn({ err, batch: toHex(w.root) }, "repair: the batch's snapshot cannot be read; skipped");
        continue;
      }
      const view: CustodyView = {
        snapshot,
        current,
        replication: this.#opts.replication,
        isGone: (n) => this.liveness.isGone(n),
      };
      const mine = responsibleColumns(view, identity.nodeId);
      const held = this.#heldWhole(w.root);
      const missing = mine.filter((c) => !held.has(c));
      if (missing.length === 0) continue;
      const blobs = store.getBatch(w.root)?.manifest.blobs.length ?? 1;
      totals.missing += missing.length * blobs;
      plans.push({ work: w, view, missing });
    }
    this.#missingNow = totals.missing;
    metrics?.repairMissing.set(this.#missingNow);
    if (totals.missing > 0) this.#incompleteSince ??= now;
    for (const plan of plans) {
      if (signal.aborted) break;
      try {
        const done = await this.#repairBatch(plan.work, plan.view, plan.missing, signal);
        totals.repaired += done.repaired;
        totals.rebuilt += done.rebuilt;
        totals.bytes += done.bytes;
        totals.outstanding += done.outstanding;
      } catch (err) {
        if (signal.aborted) break;
        this.#m.log?.warn({ err, batch: toHex(plan.work.root) }, "repair of a batch failed; retried next pass");
        totals.outstanding += plan.missing.length;
      }
    }
    if (totals.outstanding === 0 && !signal.aborted) {
      this.#incompleteSince = undefined;
      this.#missingNow = 0;
      metrics?.repairMissing.set(0);
    }
    metrics?.repairPasses.inc();
    if (totals.missing > 0) this.#m.log?.info(totals, "repair pass");
    return totals;
  }

  /**
   * The columns of `root` held whole here, as the store's record says: a cell that fails its
   * checksum or its proof is dropped by the scrub (PROTOCOL.md §14), which takes its column out of
   * the record, so repair learns of damage without reading every cell on every pass.
   */
  #heldWhole(root: Uint8Array): Set<number> {
    return new Set(this.#m.store.getBatch(root)?.columns ?? []);
  }

  /** A batch this node has no record of: its manifest and the attestation of a snapshot member listing it. */
  async #adopt(
    w: Work,
    snapshot: readonly NodeRecord[],
    signal: AbortSignal,
  ): Promise<{ manifest: BatchManifest; account: string }> {
    for (const lister of w.listed?.listers ?? []) {
      if (signal.aborted) break;
      const member = snapshot.find((n) => bytesEqual(n.nodeId, lister.nodeId));
      if (!member) continue;
      try {
        const res = await this.#m.client.http.send("GET", `${lister.url}/v1/batches/${toHex(w.root)}/attestation`, {
          attempts: 1,
          maxResponseBytes: 64 * 1024,
          signal,
        });
        if (res.status !== 200) continue;
        const json = JSON.parse(res.body.toString()) as { signature?: unknown; reference?: unknown };
        const signature = fromHex(json.signature, 96, "signature");
        if (json.reference !== w.reference.toString()) continue;
        if (!verifyAttestation(member.publicKey, this.#m.domain, w.root, signature, w.reference)) continue;
        const manifest = await this.#m.client.manifest(lister, w.root, signal);
        return { manifest, account: `repair:${toHex(member.publicKey)}` };
      } catch {
        // Unreachable, garbage or a manifest not matching the root: ask the next lister.
      }
    }
    throw new Error("no snapshot member lists the batch with a valid attestation and manifest");
  }

  async #repairBatch(
    w: Work,
    view: CustodyView,
    missing: number[],
    signal: AbortSignal,
  ): Promise<{ repaired: number; rebuilt: number; bytes: number; outstanding: number }> {
    const { store, identity } = this.#m;
    const record = store.getBatch(w.root);
    let manifest: BatchManifest;
    let account = "";
    if (record) manifest = record.manifest;
    else {
      ({ manifest, account } = await this.#adopt(w, view.snapshot, signal));
      // Counted as one cell per column until the manifest told the blob count.
      this.#missingNow += missing.length * (manifest.blobs.length - 1);
      const adding = missing.length * manifest.blobs.length * BYTES_PER_COLUMN_ENTRY;
      if (store.usageOf(account) + adding > this.#opts.quotaBytes)
        throw new Error(`adopting would put ${account} over its quota of ${this.#opts.quotaBytes} bytes`);
    }
    const blobs = manifest.blobs.length;
    const order = readOrder({ ...view, spares: this.#opts.replication });
    const self = (n: NodeRecord) => bytesEqual(n.nodeId, identity.nodeId);
    /** Who to ask for column c: originals, stand-ins, spares, then whoever lists it; never this node. */
    const askFor = (c: number): NodeRecord[] => {
      const seen = new Set<string>();
      return [...(order[c] ?? []), ...(w.listed?.holders.get(c) ?? [])].filter((n) => {
        const key = toHex(n.nodeId);
        if (self(n) || seen.has(key) || this.liveness.isGone(n)) return false;
        seen.add(key);
        return true;
      });
    };
    const result = { repaired: 0, rebuilt: 0, bytes: 0, outstanding: 0 };
    const store_ = async (columns: Column[]) => {
      await store.putBatch(manifest, columns, w.storedAt, account, w.reference);
      this.#missingNow = Math.max(0, this.#missingNow - columns.length * blobs);
      this.#m.metrics?.repairMissing.set(this.#missingNow);
    };
    const fetched = new Map<number, Column>();
    const rebuild: number[] = [];
    for (const c of missing) {
      if (signal.aborted) return result;
      const column = await this.#fetchVerified(manifest, c, askFor(c), signal);
      if (column) {
        this.#waiting.delete(`${toHex(w.root)}/${c}`);
        result.bytes += blobs * BYTES_PER_COLUMN_ENTRY;
        await store_([column]);
        fetched.set(c, column);
        result.repaired += blobs;
        this.#m.metrics?.repairRepaired.inc(blobs);
      } else rebuild.push(c);
      await this.#pace(blobs, signal);
    }
    // One rebuild per lost column, not one per holder: the first live holder in the column's
    // order rebuilds it and the others fetch it from there on a later pass; after
    // REBUILD_PATIENCE_MS without it, any holder rebuilds.
    const holders = holdersTable({ ...view, spares: 0 });
    const ours = rebuild.filter((c) => {
      const key = `${toHex(w.root)}/${c}`;
      const h = holders[c] as ColumnHolders;
      const first = [...h.originals.filter((n) => !view.isGone?.(n) && this.#isCurrent(n)), ...h.standIns][0];
      const since = this.#waiting.get(key) ?? Date.now();
      if ((first && self(first)) || Date.now() - since >= REBUILD_PATIENCE_MS) {
        this.#waiting.delete(key);
        return true;
      }
      if (this.#waiting.size >= 65_536) this.#waiting.clear();
      this.#waiting.set(key, since);
      return false;
    });
    result.outstanding += (rebuild.length - ours.length) * blobs;
    if (ours.length === 0) return result;
    const rebuilt = await this.#rebuild(manifest, w.root, ours, fetched, askFor, result, signal);
    if (rebuilt.length === 0) {
      result.outstanding += ours.length * blobs;
      this.#m.log?.warn(
        { batch: toHex(w.root), columns: ours },
        "repair: no holder has these columns and fewer than 64 verified columns could be had",
      );
      return result;
    }
    await store_(rebuilt);
    result.rebuilt += rebuilt.length * blobs;
    this.#m.metrics?.repairRebuilt.inc(rebuilt.length * blobs);
    this.#m.log?.info({ batch: toHex(w.root), columns: ours }, "repair: columns rebuilt from 64 verified columns");
    return result;
  }

  /** Column `c` from the first of `from` that serves it with every cell verified; undefined if none does. */
  async #fetchVerified(
    manifest: BatchManifest,
    c: number,
    from: readonly NodeRecord[],
    signal: AbortSignal,
  ): Promise<Column | undefined> {
    for (const node of from) {
      if (signal.aborted) return undefined;
      let column: Column;
      try {
        column = await this.#m.client.column(node, manifest, c, signal);
        this.liveness.answered(node);
      } catch (err) {
        const status = (err as { context?: { status?: number } }).context?.status;
        if (status === undefined) this.liveness.failed(node);
        else this.liveness.answered(node);
        continue;
      }
      this.#m.metrics?.repairBytes.inc(manifest.blobs.length * BYTES_PER_COLUMN_ENTRY);
      const bad = await verifyColumns(manifest, [column], { kzg: this.#m.kzg, concurrency: 1 });
      if (bad.length === 0) return column;
      this.#m.metrics?.repairRejected.inc(bad.length);
      this.#m.log?.warn(
        { node: node.index, column: c, bad: bad.length },
        "repair: a peer served cells that fail their proofs",
      );
    }
    return undefined;
  }

  /**
   * The columns `wanted`, rebuilt: 64 verified columns are gathered (held here, fetched in this
   * pass, then asked of their holders), the blobs recovered from their data, every cell and proof
   * of each blob recomputed by the KZG library, and the wanted ones verified against the
   * manifest's commitments. Empty when 64 verified columns cannot be had.
   */
  async #rebuild(
    manifest: BatchManifest,
    root: Uint8Array,
    wanted: readonly number[],
    fetched: Map<number, Column>,
    askFor: (c: number) => NodeRecord[],
    result: { bytes: number },
    signal: AbortSignal,
  ): Promise<Column[]> {
    const blobs = manifest.blobs.length;
    const sources = new Map<number, Column>(fetched);
    const local = this.#m.store.getBatch(root);
    for (const c of local?.columns ?? []) {
      if (sources.size >= DATA_COLUMNS) break;
      const column = this.#readLocal(root, c, blobs);
      if (column) sources.set(c, column);
    }
    // What is held here was verified when stored; check it again, it is the base of new proofs.
    const localBad = new Set(
      (await verifyColumns(manifest, sources.values(), { kzg: this.#m.kzg })).map((b) => b.column),
    );
    for (const c of localBad) sources.delete(c);
    for (let c = 0; c < 128 && sources.size < DATA_COLUMNS; c++) {
      if (signal.aborted) return [];
      if (sources.has(c) || wanted.includes(c)) continue;
      const column = await this.#fetchVerified(manifest, c, askFor(c), signal);
      if (column) {
        sources.set(c, column);
        result.bytes += blobs * BYTES_PER_COLUMN_ENTRY;
      }
      await this.#pace(blobs, signal);
    }
    if (sources.size < DATA_COLUMNS) return [];
    const indices = [...sources.keys()].sort((a, b) => a - b).slice(0, DATA_COLUMNS);
    const recovered = await this.#m.erasure.recoverBlobsAsync(
      indices,
      Array.from({ length: blobs }, (_, b) => indices.map((c) => (sources.get(c) as Column).cells[b] as Uint8Array)),
    );
    const out = wanted.map((index) => ({ index, cells: [] as Uint8Array[], proofs: [] as Uint8Array[] }));
    for (const blob of recovered) {
      const { cells, proofs } = await this.#m.kzg.computeCellsAndProofsAsync(blob);
      for (const column of out) {
        column.cells.push(cells[column.index] as Uint8Array);
        column.proofs.push(proofs[column.index] as Uint8Array);
      }
      await this.#pace(wanted.length, signal);
    }
    const bad = await verifyColumns(manifest, out, { kzg: this.#m.kzg });
    if (bad.length > 0) {
      this.#m.log?.error(
        { batch: toHex(root), bad: bad.length },
        "repair: rebuilt cells fail their proofs; not stored",
      );
      return [];
    }
    return out;
  }

  #readLocal(root: Uint8Array, c: number, blobs: number): Column | undefined {
    const cells: Uint8Array[] = [];
    const proofs: Uint8Array[] = [];
    for (let b = 0; b < blobs; b++) {
      const read = this.#m.store.getCell(root, b, c);
      if (!read.ok) return undefined;
      cells.push(read.entry.subarray(0, BYTES_PER_CELL));
      proofs.push(read.entry.subarray(BYTES_PER_CELL));
    }
    return { index: c, cells, proofs };
  }
}
