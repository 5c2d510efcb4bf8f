import { BYTES_PER_CELL, BYTES_PER_COLUMN_ENTRY, BYTES_PER_PROOF, CELLS_PER_EXT_BLOB } from "@cellar/params";
import { CodecError } from "./errors.js";

/** Column `index` of a batch: cell `index` of every blob, in blob order, with its proof. */
export interface Column {
  readonly index: number;
  readonly cells: readonly Uint8Array[];
  readonly proofs: readonly Uint8Array[];
}

export function checkColumnIndex(index: unknown): asserts index is number {
  if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= CELLS_PER_EXT_BLOB) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_INVALID_COLUMN",
      `column index must be an integer in 0..${CELLS_PER_EXT_BLOB - 1}, got ${String(index)}`,
      { column: index },
    );
  }
}

/** Serializes a column: for every blob in order, its 2048-byte cell then its 48-byte proof. */
export function serializeColumn(column: Column): Uint8Array {
  checkColumnIndex(column.index);
  if (column.cells.length !== column.proofs.length) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_COLUMN", "a column needs one proof per cell", {
      column: column.index,
    });
  }
  const out = new Uint8Array(column.cells.length * BYTES_PER_COLUMN_ENTRY);
  column.cells.forEach((cell, b) => {
    const proof = column.proofs[b] as Uint8Array;
    if (cell.length !== BYTES_PER_CELL || proof.length !== BYTES_PER_PROOF) {
      throw new CodecError("CELLAR_ERR_CODEC_INVALID_COLUMN", `blob ${b} of column ${column.index} is malformed`, {
        column: column.index,
        blob: b,
      });
    }
    out.set(cell, b * BYTES_PER_COLUMN_ENTRY);
    out.set(proof, b * BYTES_PER_COLUMN_ENTRY + BYTES_PER_CELL);
  });
  return out;
}

/**
 * Parses a serialized column of a batch with `blobCount` blobs. The length must be exact: a
 * truncated or padded column is refused, never read in part. Cells and proofs are views into
 * `bytes`.
 */
export function parseColumn(bytes: Uint8Array, index: number, blobCount: number): Column {
  checkColumnIndex(index);
  const expected = blobCount * BYTES_PER_COLUMN_ENTRY;
  if (bytes.length !== expected) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_INVALID_COLUMN",
      `column ${index} is ${bytes.length} bytes, expected ${expected} (${blobCount} blobs × ${BYTES_PER_COLUMN_ENTRY})`,
      { column: index, expected, actual: bytes.length },
    );
  }
  const cells: Uint8Array[] = [];
  const proofs: Uint8Array[] = [];
  for (let b = 0; b < blobCount; b++) {
    const at = b * BYTES_PER_COLUMN_ENTRY;
    cells.push(bytes.subarray(at, at + BYTES_PER_CELL));
    proofs.push(bytes.subarray(at + BYTES_PER_CELL, at + BYTES_PER_COLUMN_ENTRY));
  }
  return { index, cells, proofs };
}
