import {
  BYTES_PER_BLOB,
  BYTES_PER_CELL,
  CELLS_PER_EXT_BLOB,
  DATA_COLUMNS,
  FIELD_ELEMENTS_PER_CELL,
} from "@cellar/params";
import { NativeError } from "./errors.js";
import type { ErasureCore, KernelError } from "./kernel.js";

/** Which implementation serves: the compiled addon or the TypeScript fallback. */
export type ErasureBackend = "native" | "js";

/**
 * Data-only erasure coding of EIP-7594 blobs: rebuilding blobs or cells from any 64 of the 128
 * cells without the KZG proofs, and the extension of a blob into its 128 cells. Outputs are the
 * spec's, byte for byte. Nothing here checks a cell against a commitment: callers verify cells
 * before they recover from them. Malformed input throws a NativeError; a batch call takes many
 * blobs that hold the same cells, and shares the work that depends only on which are missing.
 */
export interface Erasure {
  readonly backend: ErasureBackend;
  /**
   * Each blob (131,072 bytes: its cells 0..63) from the cells `cellIndices` (64 to 128 of them,
   * ascending and unique); `cells[b][i]` is blob b's cell `cellIndices[i]`.
   */
  recoverBlobs(cellIndices: readonly number[], cells: readonly (readonly Uint8Array[])[]): Uint8Array[];
  /** As recoverBlobs, off the event loop (on the libuv pool for the addon). */
  recoverBlobsAsync(cellIndices: readonly number[], cells: readonly (readonly Uint8Array[])[]): Promise<Uint8Array[]>;
  /** Each blob's 128 cells from the cells `cellIndices`, as recoverBlobs. */
  recoverCells(cellIndices: readonly number[], cells: readonly (readonly Uint8Array[])[]): Uint8Array[][];
  recoverCellsAsync(cellIndices: readonly number[], cells: readonly (readonly Uint8Array[])[]): Promise<Uint8Array[][]>;
  /** A blob's 128 extended cells (as `computeCells` of the KZG libraries). */
  computeCells(blob: Uint8Array): Uint8Array[];
}

const ORIGINAL = Uint8Array.from({ length: DATA_COLUMNS }, (_, i) => i);

function checkIndices(op: string, cellIndices: unknown): Uint8Array {
  if (!Array.isArray(cellIndices)) {
    throw new NativeError("CELLAR_ERR_NATIVE_MISMATCHED_INPUTS", `${op}: cellIndices must be an array`, { op });
  }
  if (cellIndices.length < DATA_COLUMNS) {
    throw new NativeError(
      "CELLAR_ERR_NATIVE_NOT_ENOUGH_CELLS",
      `${op}: recovery needs at least ${DATA_COLUMNS} cells, got ${cellIndices.length}`,
      { op, cells: cellIndices.length, needed: DATA_COLUMNS },
    );
  }
  let previous = -1;
  cellIndices.forEach((value: unknown, i) => {
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) >= CELLS_PER_EXT_BLOB) {
      throw new NativeError(
        "CELLAR_ERR_NATIVE_INVALID_CELL_INDEX",
        `${op}: cell index ${i} must be an integer in 0..${CELLS_PER_EXT_BLOB - 1}, got ${String(value)}`,
        { op, index: i, value },
      );
    }
    if ((value as number) <= previous) {
      throw new NativeError(
        "CELLAR_ERR_NATIVE_INVALID_CELL_INDEX",
        `${op}: cell indices must be unique and ascending (index ${i} is ${value} after ${previous})`,
        { op, index: i, value },
      );
    }
    previous = value as number;
  });
  return Uint8Array.from(cellIndices as number[]);
}

/** Checks the shape of `cells` and concatenates it blob-major for the kernel. */
function gather(op: string, count: number, cells: unknown): { bytes: Uint8Array; blobs: number } {
  if (!Array.isArray(cells)) {
    throw new NativeError("CELLAR_ERR_NATIVE_MISMATCHED_INPUTS", `${op}: cells must be an array of blobs`, { op });
  }
  const bytes = new Uint8Array(cells.length * count * BYTES_PER_CELL);
  cells.forEach((blob: unknown, b) => {
    if (!Array.isArray(blob) || blob.length !== count) {
      throw new NativeError(
        "CELLAR_ERR_NATIVE_MISMATCHED_INPUTS",
        `${op}: blob ${b} must hold one cell for each of the ${count} cell indices`,
        { op, blob: b, cells: Array.isArray(blob) ? blob.length : typeof blob, expected: count },
      );
    }
    blob.forEach((cell: unknown, i) => {
      if (!(cell instanceof Uint8Array) || cell.length !== BYTES_PER_CELL) {
        throw new NativeError(
          "CELLAR_ERR_NATIVE_INVALID_LENGTH",
          `${op}: cell ${i} of blob ${b} must be ${BYTES_PER_CELL} bytes, got ${cell instanceof Uint8Array ? cell.length : typeof cell}`,
          { op, blob: b, cell: i, expected: BYTES_PER_CELL },
        );
      }
      bytes.set(cell, (b * count + i) * BYTES_PER_CELL);
    });
  });
  return { bytes, blobs: cells.length };
}

/** Turns a kernel refusal into a NativeError (the checks above leave only non-canonical words). */
function fromKernel(op: string, err: unknown, indices: Uint8Array): NativeError {
  const e = err as Partial<KernelError>;
  if (e?.code === "ERR_CELLAR_NATIVE_NON_CANONICAL") {
    const cell = indices[e.cell as number];
    return new NativeError(
      "CELLAR_ERR_NATIVE_INVALID_FIELD_ELEMENT",
      `${op}: cell ${cell} of blob ${e.blob} holds a non-canonical field element at element ${e.element}`,
      { op, blob: e.blob, cell, element: e.element },
      { cause: err },
    );
  }
  return new NativeError("CELLAR_ERR_NATIVE_INTERNAL", `${op}: the erasure kernel failed`, { op }, { cause: err });
}

function split(bytes: Uint8Array, size: number): Uint8Array[] {
  return Array.from({ length: bytes.length / size }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}

const perBlob = (bytes: Uint8Array): Uint8Array[][] =>
  split(bytes, CELLS_PER_EXT_BLOB * BYTES_PER_CELL).map((blob) => split(blob, BYTES_PER_CELL));

/** The Erasure operations over one kernel, with the input checks both backends share. */
export function erasureOver(backend: ErasureBackend, core: ErasureCore): Erasure {
  const run = (op: string, cellIndices: readonly number[], cells: readonly (readonly Uint8Array[])[], all: boolean) => {
    const indices = checkIndices(op, cellIndices);
    const { bytes, blobs } = gather(op, indices.length, cells);
    try {
      return core.recover(indices, bytes, blobs, all);
    } catch (err) {
      throw fromKernel(op, err, indices);
    }
  };
  const runAsync = async (
    op: string,
    cellIndices: readonly number[],
    cells: readonly (readonly Uint8Array[])[],
    all: boolean,
  ) => {
    const indices = checkIndices(op, cellIndices);
    const { bytes, blobs } = gather(op, indices.length, cells);
    try {
      return await core.recoverAsync(indices, bytes, blobs, all);
    } catch (err) {
      throw fromKernel(op, err, indices);
    }
  };
  return {
    backend,
    recoverBlobs: (cellIndices, cells) => split(run("recoverBlobs", cellIndices, cells, false), BYTES_PER_BLOB),
    recoverBlobsAsync: async (cellIndices, cells) =>
      split(await runAsync("recoverBlobs", cellIndices, cells, false), BYTES_PER_BLOB),
    recoverCells: (cellIndices, cells) => perBlob(run("recoverCells", cellIndices, cells, true)),
    recoverCellsAsync: async (cellIndices, cells) => perBlob(await runAsync("recoverCells", cellIndices, cells, true)),
    computeCells(blob) {
      if (!(blob instanceof Uint8Array) || blob.length !== BYTES_PER_BLOB) {
        throw new NativeError(
          "CELLAR_ERR_NATIVE_INVALID_LENGTH",
          `computeCells: blob must be ${BYTES_PER_BLOB} bytes, got ${blob instanceof Uint8Array ? blob.length : typeof blob}`,
          { op: "computeCells", expected: BYTES_PER_BLOB },
        );
      }
      try {
        return split(core.recover(ORIGINAL, blob, 1, true), BYTES_PER_CELL);
      } catch (err) {
        const e = err as Partial<KernelError>;
        if (e?.code !== "ERR_CELLAR_NATIVE_NON_CANONICAL") throw fromKernel("computeCells", err, ORIGINAL);
        const element = (e.cell as number) * FIELD_ELEMENTS_PER_CELL + (e.element as number);
        throw new NativeError(
          "CELLAR_ERR_NATIVE_INVALID_FIELD_ELEMENT",
          `computeCells: blob holds a non-canonical field element at element ${element}`,
          { op: "computeCells", element },
          { cause: err },
        );
      }
    },
  };
}
