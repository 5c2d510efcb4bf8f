import { availableParallelism } from "node:os";
import { type Kzg, KzgError } from "@cellar/kzg";
import { BYTES_PER_BLOB, DATA_COLUMNS, FRAME_HEADER_BYTES } from "@cellar/params";
import { mapConcurrent } from "@cellar/utils";
import type { Column } from "./column.js";
import { CodecError } from "./errors.js";
import { type FrameHeader, readFrameHeader, unframeBody } from "./frame.js";
import type { BatchManifest } from "./manifest.js";
import { blobCountFor, unpackBlobs } from "./pack.js";

/** Blobs whose cells go into one batch verification call. */
const VERIFY_CHUNK_BLOBS = 8;

export interface DecodeProgress {
  readonly stage: "verify" | "rebuild";
  readonly blobsDone: number;
  readonly blobs: number;
}

export interface VerifyOptions {
  readonly kzg: Pick<Kzg, "verifyCellProofBatchAsync">;
  /** Verification (and recovery) calls in flight at once. Default: the machine's parallelism. */
  readonly concurrency?: number;
  readonly onProgress?: (progress: DecodeProgress) => void;
  /** Blobs whose cells go into one batch verification call (default 8; more means fewer calls). */
  readonly chunkBlobs?: number;
}

export interface DecodeOptions extends VerifyOptions {
  readonly kzg: Pick<Kzg, "verifyCellProofBatchAsync" | "recoverCellsAndProofsAsync">;
  /**
   * The caller has already verified every cell of the given columns against this manifest (as
   * `retrieveBatch` does, column by column as they arrive), so they are not verified twice.
   */
  readonly alreadyVerified?: boolean;
}

/** A cell that failed its proof. */
export interface BadCell {
  readonly blob: number;
  readonly column: number;
}

/**
 * The 64 columns to rebuild from: the original columns 0..63 when all are there (no recovery
 * needed), otherwise every original column present plus the lowest parity columns. Ascending.
 */
export function chooseColumns(available: Iterable<number>): number[] {
  const sorted = [...new Set(available)].sort((a, b) => a - b);
  if (sorted.length < DATA_COLUMNS) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_NOT_ENOUGH_COLUMNS",
      `${sorted.length} columns available, at least ${DATA_COLUMNS} are needed to rebuild the batch`,
      { available: sorted.length, needed: DATA_COLUMNS },
    );
  }
  return sorted.slice(0, DATA_COLUMNS);
}

function checkColumns(manifest: BatchManifest, columns: ReadonlyMap<number, Column>): void {
  for (const [index, column] of columns) {
    if (
      column.index !== index ||
      column.cells.length !== manifest.blobs.length ||
      column.proofs.length !== manifest.blobs.length
    ) {
      throw new CodecError(
        "CELLAR_ERR_CODEC_INVALID_COLUMN",
        `column ${index} does not hold one cell and proof for each of the ${manifest.blobs.length} blobs`,
        { column: index, cells: column.cells.length, proofs: column.proofs.length },
      );
    }
  }
}

function indexColumns(columns: Iterable<Column>): Map<number, Column> {
  const map = new Map<number, Column>();
  for (const column of columns) map.set(column.index, column);
  return map;
}

/**
 * Verifies every cell of the given columns against the manifest's commitments, in batch calls
 * of a few blobs each. Returns the cells that fail (empty when all hold); a failing batch is
 * searched by bisection, so the answer names each bad cell at O(bad · log n) calls.
 */
export async function verifyColumns(
  manifest: BatchManifest,
  columns: Iterable<Column>,
  options: VerifyOptions,
): Promise<BadCell[]> {
  const byIndex = indexColumns(columns);
  checkColumns(manifest, byIndex);
  const chosen = [...byIndex.values()].sort((a, b) => a.index - b.index);
  const blobs = manifest.blobs.length;
  const chunks: number[] = [];
  const chunk = Math.max(1, Math.min(options.chunkBlobs ?? VERIFY_CHUNK_BLOBS, blobs));
  for (let b = 0; b < blobs; b += chunk) chunks.push(b);
  let blobsDone = 0;
  const { kzg, onProgress } = options;
  const bad = await mapConcurrent(chunks, options.concurrency ?? availableParallelism(), async (start) => {
    const end = Math.min(start + chunk, blobs);
    const commitments: Uint8Array[] = [];
    const indices: number[] = [];
    const cells: Uint8Array[] = [];
    const proofs: Uint8Array[] = [];
    const where: BadCell[] = [];
    for (let b = start; b < end; b++) {
      const commitment = (manifest.blobs[b] as { commitment: Uint8Array }).commitment;
      for (const column of chosen) {
        commitments.push(commitment);
        indices.push(column.index);
        cells.push(column.cells[b] as Uint8Array);
        proofs.push(column.proofs[b] as Uint8Array);
        where.push({ blob: b, column: column.index });
      }
    }
    const found = cells.length === 0 ? [] : await bisect(kzg, { commitments, indices, cells, proofs }, 0, cells.length);
    blobsDone += end - start;
    onProgress?.({ stage: "verify", blobsDone, blobs });
    return found.map((i) => where[i] as BadCell);
  });
  return bad.flat();
}

/**
 * The positions in [from, to) whose cells fail, found by halving: a range that verifies in one
 * batch call holds no bad cell, so b bad cells among n cost O(b · log n) calls rather than n.
 * `knownBad` says the range is known to fail (its sibling passed inside a failing parent), so it
 * is split without a call of its own.
 */
async function bisect(
  kzg: VerifyOptions["kzg"],
  all: { commitments: Uint8Array[]; indices: number[]; cells: Uint8Array[]; proofs: Uint8Array[] },
  from: number,
  to: number,
  knownBad = false,
): Promise<number[]> {
  if (!knownBad) {
    const range = <T>(list: T[]) => list.slice(from, to);
    if (await holds(kzg, range(all.commitments), range(all.indices), range(all.cells), range(all.proofs))) return [];
  }
  if (to - from === 1) return [from];
  const mid = from + Math.ceil((to - from) / 2);
  const left = await bisect(kzg, all, from, mid);
  return [...left, ...(await bisect(kzg, all, mid, to, left.length === 0))];
}

/**
 * Batch verification where a malformed cell or proof (a non-canonical field element, bytes that
 * are not a G1 point) counts as a failed proof: data from the network is judged, not trusted.
 */
async function holds(
  kzg: VerifyOptions["kzg"],
  commitments: Uint8Array[],
  indices: number[],
  cells: Uint8Array[],
  proofs: Uint8Array[],
): Promise<boolean> {
  try {
    return await kzg.verifyCellProofBatchAsync(commitments, indices, cells, proofs);
  } catch (err) {
    if (err instanceof KzgError) return false;
    throw err;
  }
}

/**
 * Rebuilds a batch's payload from any 64 or more of its columns. Every cell used is verified
 * against the manifest's commitments first; a cell that fails is an error
 * (CELLAR_ERR_CODEC_INVALID_CELL naming it), never silently used or skipped. With columns 0..63
 * all present the blobs are their concatenation; otherwise each blob is recovered from 64
 * verified columns. The result is checked against the frame header and the manifest's size.
 */
export async function decodeBatch(
  manifest: BatchManifest,
  columns: Iterable<Column>,
  options: DecodeOptions,
): Promise<Uint8Array> {
  const byIndex = indexColumns(columns);
  checkColumns(manifest, byIndex);
  const chosen = chooseColumns(byIndex.keys());
  const used = chosen.map((c) => byIndex.get(c) as Column);
  const bad = options.alreadyVerified ? [] : await verifyColumns(manifest, used, options);
  if (bad.length > 0) {
    const first = bad[0] as BadCell;
    throw new CodecError(
      "CELLAR_ERR_CODEC_INVALID_CELL",
      `cell ${first.column} of blob ${first.blob} fails its KZG proof` +
        (bad.length > 1 ? ` (and ${bad.length - 1} more cells)` : ""),
      { bad },
    );
  }
  const blobCount = manifest.blobs.length;
  const direct = chosen[DATA_COLUMNS - 1] === DATA_COLUMNS - 1;
  let blobsDone = 0;
  const blobs = await mapConcurrent(
    Array.from({ length: blobCount }, (_, b) => b),
    options.concurrency ?? availableParallelism(),
    async (b) => {
      const cells = used.map((column) => column.cells[b] as Uint8Array);
      const original = direct
        ? cells
        : (await options.kzg.recoverCellsAndProofsAsync(chosen, cells)).cells.slice(0, DATA_COLUMNS);
      options.onProgress?.({ stage: "rebuild", blobsDone: ++blobsDone, blobs: blobCount });
      return Buffer.concat(original);
    },
  );
  return unframeBlobs(manifest, blobs);
}

/**
 * Checks the frame header at the start of a batch's data against its manifest: the payload size
 * and the blob count the header implies must be the manifest's. `start` is at least the first
 * field element of blob 0 (cell 0 of blob 0 will do), so a node that keeps column 0 can refuse
 * a dispersal whose data would not decode before doing any KZG work.
 */
export function checkFrameStart(manifest: BatchManifest, start: Uint8Array): FrameHeader {
  // The header fits in the first field element (12 < 31 bytes): read it before unpacking the rest.
  if (start.length < 1 + FRAME_HEADER_BYTES || start[0] !== 0) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_INVALID_PACKING",
      "the first blob does not start with a packed frame header",
      {},
    );
  }
  const header = readFrameHeader(start.subarray(1, 1 + FRAME_HEADER_BYTES));
  if (header.payloadLength !== manifest.size) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_SIZE_MISMATCH",
      `the batch data holds ${header.payloadLength} bytes, the manifest says ${manifest.size}`,
      { header: header.payloadLength, manifest: manifest.size },
    );
  }
  const framedLength = FRAME_HEADER_BYTES + header.bodyLength;
  if (blobCountFor(framedLength) !== manifest.blobs.length) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_INVALID_PACKING",
      `${framedLength} framed bytes take ${blobCountFor(framedLength)} blobs, the batch has ${manifest.blobs.length}`,
      { framedLength, blobs: manifest.blobs.length },
    );
  }
  return header;
}

/** Reads the frame out of rebuilt blobs and checks it against the manifest. */
export function unframeBlobs(manifest: BatchManifest, blobs: readonly Uint8Array[]): Uint8Array {
  const first = blobs[0];
  if (first === undefined || first.length !== BYTES_PER_BLOB || blobs.length !== manifest.blobs.length) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_PACKING", "the blobs do not match the manifest", {
      blobs: blobs.length,
    });
  }
  const header = checkFrameStart(manifest, first);
  const framed = unpackBlobs(blobs, FRAME_HEADER_BYTES + header.bodyLength);
  return unframeBody(header, framed.subarray(FRAME_HEADER_BYTES));
}
