import type { ManifestJson } from "@cellar/codec";
import type { CertificateJson } from "@cellar/protocol";
import { type Database, open, type RootDatabase } from "lmdb";
import type { Availability } from "./availability.js";

export type BatchStatusName = "encoding" | "dispersing" | "certified" | "available" | "failed";

/** What the disperser remembers of a batch: everything `GET /v1/batches/:id` and `settle` need. */
export interface BatchRecord {
  /** 0x-hex root: the key. */
  readonly root: string;
  readonly id: string;
  /** sha256 of the payload, 0x-hex: posting the same bytes again finds the batch. */
  readonly payloadHash: string;
  readonly size: number;
  readonly status: BatchStatusName;
  readonly manifest: ManifestJson;
  readonly certificate?: CertificateJson;
  readonly error?: { code: string; message: string };
  /** Once a light client reached the target confidence (status `available`): who, how sure, when. */
  readonly availability?: Availability;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * The disperser's durable state behind a small interface, so that one machine keeps it in an
 * embedded LMDB file and several replicas can later share a database instead. Every write
 * resolves only once it is durable.
 */
export interface DisperserStore {
  get(root: string): BatchRecord | undefined;
  /** The batch posted with this payload hash, if any. */
  byPayload(payloadHash: string): BatchRecord | undefined;
  put(record: BatchRecord): Promise<void>;
  /** The newest batches first, at most `limit`. */
  recent(limit: number): BatchRecord[];
  /** Marks every batch left encoding or dispersing (by a process that died) failed; returns them. */
  failInFlight(error: { code: string; message: string }, now?: number): Promise<BatchRecord[]>;
  /** Removes batches created before `before`; returns how many. */
  prune(before: number): Promise<number>;
  count(): number;
  close(): Promise<void>;
}

/**
 * The LMDB store: `batches` maps the root to its record, `payloads` the payload hash to the root,
 * `created` (createdAt ‖ root) orders batches by age for listing and retention. Each put is one
 * transaction awaited until it is on disk, so an acknowledged certificate survives SIGKILL.
 */
export class LmdbDisperserStore implements DisperserStore {
  readonly #env: RootDatabase;
  readonly #batches: Database<BatchRecord, string>;
  readonly #payloads: Database<string, string>;
  readonly #created: Database<string, Buffer>;

  constructor(path: string) {
    this.#env = open({ path, compression: false });
    this.#batches = this.#env.openDB({ name: "batches" });
    this.#payloads = this.#env.openDB({ name: "payloads" });
    this.#created = this.#env.openDB({ name: "created", keyEncoding: "binary" });
  }

  get(root: string): BatchRecord | undefined {
    return this.#batches.get(root);
  }

  byPayload(payloadHash: string): BatchRecord | undefined {
    const root = this.#payloads.get(payloadHash);
    return root === undefined ? undefined : this.#batches.get(root);
  }

  async put(record: BatchRecord): Promise<void> {
    await this.#env.transaction(() => {
      const previous = this.#batches.get(record.root);
      if (previous !== undefined && previous.payloadHash !== record.payloadHash) {
        this.#payloads.remove(previous.payloadHash);
      }
      const createdAt = previous?.createdAt ?? record.createdAt;
      this.#batches.put(record.root, { ...record, createdAt });
      // A failed batch may be posted again: only live or certified batches answer by payload.
      if (record.status === "failed") this.#payloads.remove(record.payloadHash);
      else this.#payloads.put(record.payloadHash, record.root);
      this.#created.put(createdKey(createdAt, record.root), record.root);
    });
    await this.#env.flushed;
  }

  recent(limit: number): BatchRecord[] {
    const out: BatchRecord[] = [];
    for (const { value } of this.#created.getRange({ reverse: true, limit })) {
      const record = this.#batches.get(value);
      if (record) out.push(record);
    }
    return out;
  }

  async failInFlight(error: { code: string; message: string }, now = Date.now()): Promise<BatchRecord[]> {
    const stuck: BatchRecord[] = [];
    for (const { value } of this.#batches.getRange()) {
      if (value.status === "encoding" || value.status === "dispersing") {
        stuck.push({ ...value, status: "failed", error, updatedAt: now });
      }
    }
    for (const record of stuck) await this.put(record);
    return stuck;
  }

  async prune(before: number): Promise<number> {
    const old: { key: Buffer; root: string }[] = [];
    for (const { key, value } of this.#created.getRange({ end: createdKey(before, "") }))
      old.push({ key, root: value });
    if (old.length === 0) return 0;
    await this.#env.transaction(() => {
      for (const { key, root } of old) {
        const record = this.#batches.get(root);
        if (record) this.#payloads.remove(record.payloadHash);
        this.#batches.remove(root);
        this.#created.remove(key);
      }
    });
    await this.#env.flushed;
    return old.length;
  }

  count(): number {
    return this.#batches.getCount();
  }

  async close(): Promise<void> {
    await this.#env.close();
  }
}

/** createdAt (8 bytes, big-endian) then the root's text: byte order is age order. */
function createdKey(createdAt: number, root: string): Buffer {
  const key = Buffer.alloc(8 + Buffer.byteLength(root));
  key.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(createdAt))));
  key.write(root, 8);
  return key;
}

/** A store in memory, for a disperser run without a data directory (tests, throwaway runs). */
export class MemoryDisperserStore implements DisperserStore {
  readonly #batches = new Map<string, BatchRecord>();
  readonly #payloads = new Map<string, string>();

  get(root: string): BatchRecord | undefined {
    return this.#batches.get(root);
  }

  byPayload(payloadHash: string): BatchRecord | undefined {
    const root = this.#payloads.get(payloadHash);
    return root === undefined ? undefined : this.#batches.get(root);
  }

  async put(record: BatchRecord): Promise<void> {
    const previous = this.#batches.get(record.root);
    this.#batches.set(record.root, { ...record, createdAt: previous?.createdAt ?? record.createdAt });
    if (record.status === "failed") this.#payloads.delete(record.payloadHash);
    else this.#payloads.set(record.payloadHash, record.root);
  }

  recent(limit: number): BatchRecord[] {
    return [...this.#batches.values()].sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }

  async failInFlight(error: { code: string; message: string }, now = Date.now()): Promise<BatchRecord[]> {
    const stuck = [...this.#batches.values()].filter((r) => r.status === "encoding" || r.status === "dispersing");
    for (const r of stuck) await this.put({ ...r, status: "failed", error, updatedAt: now });
    return stuck;
  }

  async prune(before: number): Promise<number> {
    let n = 0;
    for (const [root, r] of this.#batches) {
      if (r.createdAt < before) {
        this.#batches.delete(root);
        this.#payloads.delete(r.payloadHash);
        n++;
      }
    }
    return n;
  }

  count(): number {
    return this.#batches.size;
  }

  async close(): Promise<void> {}
}
