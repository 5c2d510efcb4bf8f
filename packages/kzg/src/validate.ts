import {
  BLS_MODULUS,
  BYTES_PER_BLOB,
  BYTES_PER_CELL,
  BYTES_PER_COMMITMENT,
  BYTES_PER_FIELD_ELEMENT,
  BYTES_PER_PROOF,
  CELLS_PER_EXT_BLOB,
  DATA_COLUMNS,
} from "@cellar/params";
import { KzgError } from "./errors.js";

const MODULUS_BYTES = Buffer.from(BLS_MODULUS.toString(16).padStart(64, "0"), "hex");
const MODULUS_TOP = MODULUS_BYTES[0] as number;

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

export function checkLength(op: string, what: string, value: unknown, length: number, index?: number): void {
  if (!isBytes(value) || value.length !== length) {
    const actual = isBytes(value) ? value.length : typeof value;
    throw new KzgError(
      "CELLAR_ERR_KZG_INVALID_LENGTH",
      `${op}: ${what}${index === undefined ? "" : ` ${index}`} must be ${length} bytes, got ${actual}`,
      { op, what, index, expected: length, actual },
    );
  }
}

/**
 * Every 32-byte big-endian word of `bytes` must be below the field modulus. Most words start
 * below the modulus' top byte, so the full comparison is rare.
 */
export function checkCanonical(op: string, what: string, bytes: Uint8Array, index?: number): void {
  for (let offset = 0; offset < bytes.length; offset += BYTES_PER_FIELD_ELEMENT) {
    const top = bytes[offset] as number;
    if (top < MODULUS_TOP) continue;
    const word = bytes.subarray(offset, offset + BYTES_PER_FIELD_ELEMENT);
    if (top > MODULUS_TOP || Buffer.compare(word, MODULUS_BYTES) >= 0) {
      throw new KzgError(
        "CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT",
        `${op}: ${what}${index === undefined ? "" : ` ${index}`} holds a non-canonical field element at element ${offset / BYTES_PER_FIELD_ELEMENT}`,
        { op, what, index, element: offset / BYTES_PER_FIELD_ELEMENT },
      );
    }
  }
}

export function checkBlob(op: string, blob: unknown): asserts blob is Uint8Array {
  checkLength(op, "blob", blob, BYTES_PER_BLOB);
  checkCanonical(op, "blob", blob as Uint8Array);
}

export function checkScalar(op: string, what: string, value: unknown): asserts value is Uint8Array {
  checkLength(op, what, value, BYTES_PER_FIELD_ELEMENT);
  checkCanonical(op, what, value as Uint8Array);
}

export function checkPoint(op: string, what: string, value: unknown, index?: number): void {
  checkLength(op, what, value, what === "proof" ? BYTES_PER_PROOF : BYTES_PER_COMMITMENT, index);
}

export function checkCellIndex(op: string, value: unknown, index: number): asserts value is number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) >= CELLS_PER_EXT_BLOB) {
    throw new KzgError(
      "CELLAR_ERR_KZG_INVALID_CELL_INDEX",
      `${op}: cell index ${index} must be an integer in 0..${CELLS_PER_EXT_BLOB - 1}, got ${String(value)}`,
      { op, index, value },
    );
  }
}

function checkArray(op: string, what: string, value: unknown): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) {
    throw new KzgError("CELLAR_ERR_KZG_MISMATCHED_INPUTS", `${op}: ${what} must be an array`, { op, what });
  }
}

export function checkVerifyBatch(
  op: string,
  commitments: unknown,
  cellIndices: unknown,
  cells: unknown,
  proofs: unknown,
): void {
  checkArray(op, "commitments", commitments);
  checkArray(op, "cellIndices", cellIndices);
  checkArray(op, "cells", cells);
  checkArray(op, "proofs", proofs);
  const n = cells.length;
  if (commitments.length !== n || cellIndices.length !== n || proofs.length !== n) {
    throw new KzgError(
      "CELLAR_ERR_KZG_MISMATCHED_INPUTS",
      `${op}: commitments, cell indices, cells and proofs must be equally many (got ${commitments.length}, ${cellIndices.length}, ${n}, ${proofs.length})`,
      { op, commitments: commitments.length, cellIndices: cellIndices.length, cells: n, proofs: proofs.length },
    );
  }
  for (let i = 0; i < n; i++) {
    checkPoint(op, "commitment", commitments[i], i);
    checkCellIndex(op, cellIndices[i], i);
    checkLength(op, "cell", cells[i], BYTES_PER_CELL, i);
    checkCanonical(op, "cell", cells[i] as Uint8Array, i);
    checkPoint(op, "proof", proofs[i], i);
  }
}

export function checkRecover(op: string, cellIndices: unknown, cells: unknown): void {
  checkArray(op, "cellIndices", cellIndices);
  checkArray(op, "cells", cells);
  if (cellIndices.length !== cells.length) {
    throw new KzgError(
      "CELLAR_ERR_KZG_MISMATCHED_INPUTS",
      `${op}: cell indices and cells must be equally many (got ${cellIndices.length} and ${cells.length})`,
      { op, cellIndices: cellIndices.length, cells: cells.length },
    );
  }
  if (cells.length < DATA_COLUMNS || cells.length > CELLS_PER_EXT_BLOB) {
    throw new KzgError(
      "CELLAR_ERR_KZG_RECOVERY",
      `${op}: recovery needs ${DATA_COLUMNS} to ${CELLS_PER_EXT_BLOB} cells, got ${cells.length}`,
      { op, cells: cells.length },
    );
  }
  let previous = -1;
  for (let i = 0; i < cells.length; i++) {
    const index = cellIndices[i];
    checkCellIndex(op, index, i);
    if (index <= previous) {
      throw new KzgError(
        "CELLAR_ERR_KZG_RECOVERY",
        `${op}: cell indices must be unique and ascending (index ${i} is ${index} after ${previous})`,
        { op, index: i, value: index },
      );
    }
    previous = index;
    checkLength(op, "cell", cells[i], BYTES_PER_CELL, i);
    checkCanonical(op, "cell", cells[i] as Uint8Array, i);
  }
}
