import { crc32 } from "node:zlib";
import { type BatchManifest, type Column, type ManifestJson, manifestToJson, parseManifest } from "@cellar/codec";
import { BYTES_PER_COLUMN_ENTRY } from "@cellar/params";
import { type Database, open, type RootDatabase } from "lmdb";

/** What the store keeps per batch besides its cells. */
export interface BatchRecord {
  readonly manifest: BatchManifest;
  /** The columns held, ascending. */
  readonly columns: readonly number[];
  /** Milliseconds since the epoch when the batch was stored (for retention). */
  readonly storedAt: number;
  /** The registry snapshot (L1 block) the batch was dispersed under; 0 with a static node set. */
  readonly reference: bigint;
}

/** One entry of a batch listing (`GET /v1/batches`). */
export interface BatchListing {
  readonly root: Uint8Array;
  readonly reference: bigint;
  readonly storedAt: number;
  readonly columns: readonly number[];
}

interface StoredRecord {
  manifest: ManifestJson;
  columns: number[];
  storedAt: number;
  /** The disperser whose dispersal stored it (0x-hex public key), for its quota. */
  disperser?: string;
  /** The reference block, decimal; absent for 0. */
  reference?: string;
}

/** Bytes of a stored cell value: crc32 (4) then cell (2048) then proof (48). */
const VALUE_BYTES = 4 + BYTES_PER_COLUMN_ENTRY;

function cellKey(root: Uint8Array, blob: number, column: number): Buffer {
  const key = Buffer.alloc(35);
  key.set(root, 0);
  key.writeUInt16BE(blob, 32);
  key.writeUInt8(column, 34);
  return key;
}

/** A stored cell: the 2048-byte cell then its 48-byte proof, checked against its crc32. */
export type CellRead = { ok: true; entry: Uint8Array } | { ok: false; reason: "missing" | "corrupt" };

/**
 * The node's durable store: an LMDB environment with two databases. `batches` maps a root to its
 * manifest, held columns and storage time; `cells` maps root ‖ blob ‖ column to crc32 ‖ cell ‖
 * proof. A batch is written in one transaction that is awaited until it is flushed to disk, so an
 * acknowledged batch survives a crash whole, and a batch never exists in part.
 */
export class CellStore {
  readonly #env: RootDatabase;
  readonly #batches: Database<StoredRecord, Buffer>;
  readonly #cells: Database<Buffer, Buffer>;
  readonly #manifests = new Map<string, BatchManifest>();
  /** Bytes held per disperser, kept in step with every write and delete. */
  readonly #usage = new Map<string, number>();
  #open = true;

  constructor(path: string) {
    this.#env = open({ path, compression: false });
    this.#batches = this.#env.openDB({ name: "batches", keyEncoding: "binary" });
    this.#cells = this.#env.openDB({ name: "cells", keyEncoding: "binary", encoding: "binary" });
    for (const { record } of this.batches()) this.#account(record, 1);
  }

  #account(record: StoredRecord, sign: 1 | -1): void {
    const key = record.disperser ?? "";
    const bytes = record.columns.length * record.manifest.blobs.length * BYTES_PER_COLUMN_ENTRY;
    const total = (this.#usage.get(key) ?? 0) + sign * bytes;
    if (total > 0) this.#usage.set(key, total);
    else this.#usage.delete(key);
  }

  /** Bytes of cells and proofs held for batches `disperser` (0x-hex key) dispersed. */
  usageOf(disperser: string): number {
    return this.#usage.get(disperser) ?? 0;
  }

  isOpen(): boolean {
    return this.#open;
  }

  /**
   * Stores a batch's columns and manifest in one transaction; resolves once it is on disk.
   * `disperser` (0x-hex key) is charged for the batch's bytes; `reference` is the snapshot it was
   * dispersed under (the first one stored is kept).
   */
  async putBatch(
    manifest: BatchManifest,
    columns: readonly Column[],
    now = Date.now(),
    disperser = "",
    reference = 0n,
  ): Promise<void> {
    const root = Buffer.from(manifest.root);
    let before: StoredRecord | undefined;
    let after: StoredRecord | undefined;
    await this.#env.transaction(() => {
      for (const column of columns) {
        column.cells.forEach((cell, blob) => {
          const value = Buffer.alloc(VALUE_BYTES);
          value.set(cell, 4);
          value.set(column.proofs[blob] as Uint8Array, 4 + cell.length);
          value.writeUInt32BE(crc32(value.subarray(4)), 0);
          this.#cells.put(cellKey(root, blob, column.index), value);
        });
      }
      const previous = this.#batches.get(root);
      const held = new Set([...(previous?.columns ?? []), ...columns.map((c) => c.index)]);
      before = previous;
      after = {
        manifest: manifestToJson(manifest),
        columns: [...held].sort((a, b) => a - b),
        storedAt: previous?.storedAt ?? now,
        ...(previous?.disperser !== undefined || disperser !== ""
          ? { disperser: previous?.disperser ?? disperser }
          : {}),
        ...(previous
          ? previous.reference
            ? { reference: previous.reference }
            : {}
          : reference > 0n
            ? { reference: reference.toString() }
            : {}),
      };
      this.#batches.put(root, after);
    });
    await this.#env.flushed;
    if (before) this.#account(before, -1);
    if (after) this.#account(after, 1);
  }

  getBatch(root: Uint8Array): BatchRecord | undefined {
    const key = Buffer.from(root);
    const stored = this.#batches.get(key);
    if (stored === undefined) return undefined;
    // Parsing re-derives the root from the blobs (hashes); remember parsed manifests by root.
    const hex = key.toString("hex");
    let manifest = this.#manifests.get(hex);
    if (manifest === undefined) {
      manifest = parseManifest(stored.manifest, root);
      this.#manifests.set(hex, manifest);
      if (this.#manifests.size > 1024) this.#manifests.delete(this.#manifests.keys().next().value as string);
    }
    return { manifest, columns: stored.columns, storedAt: stored.storedAt, reference: BigInt(stored.reference ?? 0) };
  }

  /** Up to `limit` stored batches after `after` (exclusive) in root order, for a paged listing. */
  listBatches(after: Uint8Array | undefined, limit: number): BatchListing[] {
    const out: BatchListing[] = [];
    const range = this.#batches.getRange(after ? { start: Buffer.from(after) } : {});
    for (const { key, value } of range) {
      if (after && Buffer.from(after).equals(key)) continue;
      if (out.length >= limit) break;
      out.push({
        root: new Uint8Array(key),
        reference: BigInt(value.reference ?? 0),
        storedAt: value.storedAt,
        columns: value.columns,
      });
    }
    return out;
  }

  /** Every stored batch root with its record, in key order. */
  *batches(): Generator<{ root: Uint8Array; record: StoredRecord }> {
    for (const { key, value } of this.#batches.getRange()) yield { root: new Uint8Array(key), record: value };
  }

  /** One cell and proof (2096 bytes); a value whose crc32 does not match is reported, not served. */
  getCell(root: Uint8Array, blob: number, column: number): CellRead {
    // getBinaryFast answers a view of a shared buffer that the next read overwrites: the checksum
    // is checked in place and the entry copied out once, before any other read of this store.
    const value = this.#cells.getBinaryFast(cellKey(root, blob, column));
    if (value === undefined) return { ok: false, reason: "missing" };
    if (value.length !== VALUE_BYTES || crc32(value.subarray(4)) !== value.readUInt32BE(0)) {
      return { ok: false, reason: "corrupt" };
    }
    return { ok: true, entry: new Uint8Array(value.subarray(4)) };
  }

  /**
   * Removes one cell, for example after it failed a scrub. Its column no longer counts as held
   * (the batch record drops it), so the next dispersal of the batch stores the column again.
   */
  async dropCell(root: Uint8Array, blob: number, column: number): Promise<void> {
    const key = Buffer.from(root);
    let before: StoredRecord | undefined;
    let after: StoredRecord | undefined;
    await this.#env.transaction(() => {
      this.#cells.remove(cellKey(root, blob, column));
      before = this.#batches.get(key);
      if (before?.columns.includes(column)) {
        after = { ...before, columns: before.columns.filter((c) => c !== column) };
        this.#batches.put(key, after);
      }
    });
    await this.#env.flushed;
    if (before && after) {
      this.#account(before, -1);
      this.#account(after, 1);
    }
  }

  /** Removes a batch and all its cells in one transaction. */
  async deleteBatch(root: Uint8Array): Promise<void> {
    const key = Buffer.from(root);
    const record = this.#batches.get(key);
    if (record === undefined) return;
    const blobs = record.manifest.blobs.length;
    this.#manifests.delete(key.toString("hex"));
    await this.#env.transaction(() => {
      for (const column of record.columns) for (let b = 0; b < blobs; b++) this.#cells.remove(cellKey(key, b, column));
      this.#batches.remove(key);
    });
    await this.#env.flushed;
    this.#account(record, -1);
  }

  /** Bytes of cells and proofs held (without keys and checksums). */
  storedBytes(): number {
    let total = 0;
    for (const { record } of this.batches())
      total += record.columns.length * record.manifest.blobs.length * BYTES_PER_COLUMN_ENTRY;
    return total;
  }

  async close(): Promise<void> {
    this.#open = false;
    await this.#env.close();
  }
}
