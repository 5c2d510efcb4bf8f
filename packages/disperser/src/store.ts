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
 * The disperser's durable state behind a small interface: one machine keeps it in an embedded
 * LMDB file, several replicas share a PostgreSQL database (`PostgresDisperserStore`). Every write
 * resolves only once it is durable.
 */
export interface DisperserStore {
  get(root: string): Promise<BatchRecord | undefined>;
  /** The live or certified batch posted with this payload hash, if any (failed ones are not). */
  byPayload(payloadHash: string): Promise<BatchRecord | undefined>;
  /** Writes the record, except over a certified one (`keepsStored`): read it back to know which won. */
  put(record: BatchRecord): Promise<void>;
  /** The newest batches first, at most `limit`. */
  recent(limit: number): Promise<BatchRecord[]>;
  /**
   * Takes or renews `owner`'s claim on encoding and dispersing this payload for `leaseMs`:
   * true when `owner` holds it now, false while another owner's claim is live. Of replicas given
   * the same bytes at once, one does the work and the others wait for its batch.
   */
  claim(payloadHash: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Gives up `owner`'s claim (the batch is certified or failed). */
  release(payloadHash: string, owner: string): Promise<void>;
  /**
   * Marks failed every batch left encoding or dispersing whose claim is not live (its process
   * died); returns them.
   */
  failInFlight(error: { code: string; message: string }, now?: number): Promise<BatchRecord[]>;
  /** Removes batches created before `before`; returns how many. */
  prune(before: number): Promise<number>;
  count(): Promise<number>;
  /** Whether other processes share the store (replicas): then batches in flight are swept while running. */
  readonly shared?: boolean;
  /** For `/readyz`: `true` when the store answers, the reason otherwise (a shared database). */
  ready?(): Promise<true | string>;
  close(): Promise<void>;
}

/** Claims of one process (the embedded stores serve one disperser): lost with the process. */
class LocalClaims {
  readonly #claims = new Map<string, { owner: string; until: number }>();

  claim(payloadHash: string, owner: string, leaseMs: number): boolean {
    const now = Date.now();
    const held = this.#claims.get(payloadHash);
    if (held && held.owner !== owner && held.until > now) return false;
    this.#claims.set(payloadHash, { owner, until: now + leaseMs });
    return true;
  }

  release(payloadHash: string, owner: string): void {
    if (this.#claims.get(payloadHash)?.owner === owner) this.#claims.delete(payloadHash);
  }

  live(payloadHash: string): boolean {
    return (this.#claims.get(payloadHash)?.until ?? 0) > Date.now();
  }
}

const inFlight = (r: BatchRecord) => r.status === "encoding" || r.status === "dispersing";

/**
 * A certified batch keeps its first certificate: only the `available` verdict may follow it. (Two
 * replicas that both certified the same bytes, one after taking over a claim that lapsed, then
 * answer with the same certificate.)
 */
export function keepsStored(previous: BatchRecord | undefined, next: BatchRecord): boolean {
  return (
    previous !== undefined &&
    (previous.status === "certified" || previous.status === "available") &&
    next.status !== "available"
  );
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
  readonly #claims = new LocalClaims();

  constructor(path: string) {
    this.#env = open({ path, compression: false });
    this.#batches = this.#env.openDB({ name: "batches" });
    this.#payloads = this.#env.openDB({ name: "payloads" });
    this.#created = this.#env.openDB({ name: "created", keyEncoding: "binary" });
  }

  async get(root: string): Promise<BatchRecord | undefined> {
    return this.#batches.get(root);
  }

  async byPayload(payloadHash: string): Promise<BatchRecord | undefined> {
    const root = this.#payloads.get(payloadHash);
    return root === undefined ? undefined : this.#batches.get(root);
  }

  async claim(payloadHash: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.#claims.claim(payloadHash, owner, leaseMs);
  }

  async release(payloadHash: string, owner: string): Promise<void> {
    this.#claims.release(payloadHash, owner);
  }

  async put(record: BatchRecord): Promise<void> {
    await this.#env.transaction(() => {
      const previous = this.#batches.get(record.root);
      if (keepsStored(previous, record)) return;
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

  async recent(limit: number): Promise<BatchRecord[]> {
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
      if (inFlight(value) && !this.#claims.live(value.payloadHash)) {
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

  async count(): Promise<number> {
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
  readonly #claims = new LocalClaims();

  async get(root: string): Promise<BatchRecord | undefined> {
    return this.#batches.get(root);
  }

  async byPayload(payloadHash: string): Promise<BatchRecord | undefined> {
    const root = this.#payloads.get(payloadHash);
    return root === undefined ? undefined : this.#batches.get(root);
  }

  async claim(payloadHash: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.#claims.claim(payloadHash, owner, leaseMs);
  }

  async release(payloadHash: string, owner: string): Promise<void> {
    this.#claims.release(payloadHash, owner);
  }

  async put(record: BatchRecord): Promise<void> {
    const previous = this.#batches.get(record.root);
    if (keepsStored(previous, record)) return;
    this.#batches.set(record.root, { ...record, createdAt: previous?.createdAt ?? record.createdAt });
    if (record.status === "failed") this.#payloads.delete(record.payloadHash);
    else this.#payloads.set(record.payloadHash, record.root);
  }

  async recent(limit: number): Promise<BatchRecord[]> {
    return [...this.#batches.values()].sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }

  async failInFlight(error: { code: string; message: string }, now = Date.now()): Promise<BatchRecord[]> {
    const stuck = [...this.#batches.values()].filter((r) => inFlight(r) && !this.#claims.live(r.payloadHash));
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

  async count(): Promise<number> {
    return this.#batches.size;
  }

  async close(): Promise<void> {}
}
