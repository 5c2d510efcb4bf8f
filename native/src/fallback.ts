import { BLS_MODULUS } from "@cellar/params";
import { type ErasureCore, kernelError } from "./kernel.js";

// The same algorithm as csrc/erasure.c (read its header comment; the C adds half-size transforms
// when one half of the points holds no given or no wanted cell), in BigInt arithmetic: slower
// than the addon by one to two orders of magnitude, still several times faster than recovering the
// proofs too. Kept step for step beside the C so that one set of tests holds both.

const P = BLS_MODULUS;
const CELLS = 128;
const DATA_CELLS = 64;
const CELL_ELEMENTS = 64;
const CELL_BYTES = CELL_ELEMENTS * 32;

const add = (a: bigint, b: bigint): bigint => {
  const s = a + b;
  return s >= P ? s - P : s;
};
const sub = (a: bigint, b: bigint): bigint => {
  const d = a - b;
  return d < 0n ? d + P : d;
};
const mul = (a: bigint, b: bigint): bigint => (a * b) % P;

function pow(base: bigint, exponent: bigint): bigint {
  let acc = 1n;
  let b = base % P;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) acc = mul(acc, b);
    b = mul(b, b);
  }
  return acc;
}

const inv = (a: bigint): bigint => pow(a, P - 2n);

function brp(x: number, bits: number): number {
  let r = 0;
  for (let i = 0; i < bits; i++) r |= ((x >> i) & 1) << (bits - 1 - i);
  return r;
}

interface Tables {
  tw64: bigint[];
  itw64: bigint[];
  tw128: bigint[];
  itw128: bigint[];
  y: bigint[];
  hpow: bigint[][];
  hinv: bigint[][];
  iscale: bigint[];
}

let tables: Tables | undefined;

function buildTables(): Tables {
  const w = pow(7n, (P - 1n) / 8192n);
  const wInv = inv(w);
  const v = pow(w, 64n);
  const vInv = pow(wInv, 64n);
  const tw128 = Array.from({ length: 64 }, (_, k) => pow(v, BigInt(k)));
  const itw128 = Array.from({ length: 64 }, (_, k) => pow(vInv, BigInt(k)));
  const y: bigint[] = [];
  const hpow: bigint[][] = [];
  const hinv: bigint[][] = [];
  for (let c = 0; c < CELLS; c++) {
    const t = brp(c, 7);
    y.push(pow(v, BigInt(t)));
    const h = pow(w, BigInt(t));
    const hI = pow(wInv, BigInt(t));
    const a: bigint[] = [];
    const b: bigint[] = [];
    let x = 1n;
    let z = 1n;
    for (let k = 0; k < 64; k++) {
      a.push(x);
      b.push(z);
      x = mul(x, h);
      z = mul(z, hI);
    }
    hpow.push(a);
    hinv.push(b);
  }
  const inv20 = inv(1n << 20n);
  return {
    tw64: tw128.filter((_, k) => k % 2 === 0),
    itw64: itw128.filter((_, k) => k % 2 === 0),
    tw128,
    itw128,
    y,
    hpow,
    hinv,
    iscale: Array.from({ length: CELLS }, (_, i) => mul(BigInt(i), inv20)),
  };
}

/** In place, bit-reversed input to natural output. */
function nttDit(a: bigint[], offset: number, n: number, tw: readonly bigint[]): void {
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const step = n / len;
    for (let i = offset; i < offset + n; i += len) {
      for (let j = 0; j < half; j++) {
        const lo = a[i + j] as bigint;
        const hi = j === 0 ? (a[i + half] as bigint) : mul(a[i + j + half] as bigint, tw[j * step] as bigint);
        a[i + j] = add(lo, hi);
        a[i + j + half] = sub(lo, hi);
      }
    }
  }
}

/** In place, natural input to bit-reversed output. */
function nttDif(a: bigint[], offset: number, n: number, tw: readonly bigint[]): void {
  for (let len = n; len >= 2; len >>= 1) {
    const half = len >> 1;
    const step = n / len;
    for (let i = offset; i < offset + n; i += len) {
      for (let j = 0; j < half; j++) {
        const lo = a[i + j] as bigint;
        const hi = a[i + j + half] as bigint;
        a[i + j] = add(lo, hi);
        a[i + j + half] = j === 0 ? sub(lo, hi) : mul(sub(lo, hi), tw[j * step] as bigint);
      }
    }
  }
}

function load(view: DataView, offset: number): bigint {
  return (
    (view.getBigUint64(offset) << 192n) |
    (view.getBigUint64(offset + 8) << 128n) |
    (view.getBigUint64(offset + 16) << 64n) |
    view.getBigUint64(offset + 24)
  );
}

const MASK64 = (1n << 64n) - 1n;

function store(view: DataView, offset: number, x: bigint): void {
  view.setBigUint64(offset, x >> 192n);
  view.setBigUint64(offset + 8, (x >> 128n) & MASK64);
  view.setBigUint64(offset + 16, (x >> 64n) & MASK64);
  view.setBigUint64(offset + 24, x & MASK64);
}

function checkArguments(indices: unknown, cells: unknown, blobs: unknown, allCells: unknown): void {
  if (
    !(indices instanceof Uint8Array) ||
    !(cells instanceof Uint8Array) ||
    typeof blobs !== "number" ||
    typeof allCells !== "boolean"
  ) {
    throw kernelError(
      "ERR_CELLAR_NATIVE_ARGUMENTS",
      "expected (indices: Uint8Array, cells: Uint8Array, blobs: number, allCells: boolean)",
    );
  }
  if (!Number.isInteger(blobs) || blobs < 0 || blobs > 65536) {
    throw kernelError("ERR_CELLAR_NATIVE_ARGUMENTS", "blobs must be an integer in 0..65536");
  }
  if (indices.length < DATA_CELLS || indices.length > CELLS) {
    throw kernelError("ERR_CELLAR_NATIVE_INDICES", "between 64 and 128 cell indices are needed");
  }
  if (cells.length !== blobs * indices.length * CELL_BYTES) {
    throw kernelError("ERR_CELLAR_NATIVE_ARGUMENTS", "cells must hold blobs * indices.length * 2048 bytes");
  }
  for (let i = 0; i < indices.length; i++) {
    if ((indices[i] as number) >= CELLS || (i > 0 && (indices[i] as number) <= (indices[i - 1] as number))) {
      throw kernelError("ERR_CELLAR_NATIVE_INDICES", "cell indices must be ascending, unique and below 128");
    }
  }
}

/** The kernel's synchronous call, in TypeScript: same arguments, output and errors as the addon's. */
export function recoverFallback(indices: Uint8Array, cells: Uint8Array, blobs: number, allCells: boolean): Uint8Array {
  checkArguments(indices, cells, blobs, allCells);
  const count = indices.length;
  const view = new DataView(cells.buffer, cells.byteOffset, cells.byteLength);
  const values: bigint[] = new Array(cells.length / 32);
  for (let w = 0; w < values.length; w++) {
    const x = load(view, w * 32);
    if (x >= P) {
      const cell = Math.floor(w / CELL_ELEMENTS);
      throw kernelError("ERR_CELLAR_NATIVE_NON_CANONICAL", "a field element is not canonical", {
        blob: Math.floor(cell / count),
        cell: cell % count,
        element: w % CELL_ELEMENTS,
      });
    }
    values[w] = x;
  }

  const outCells = allCells ? CELLS : DATA_CELLS;
  const out = new Uint8Array(blobs * outCells * CELL_BYTES);
  const given = new Set(indices);
  const missing: number[] = [];
  for (let c = 0; c < CELLS; c++) if (!given.has(c)) missing.push(c);
  const wanted = missing.filter((c) => c < outCells);
  for (let b = 0; b < blobs; b++) {
    for (let i = 0; i < count; i++) {
      const c = indices[i] as number;
      if (c >= outCells) continue;
      const from = (b * count + i) * CELL_BYTES;
      out.set(cells.subarray(from, from + CELL_BYTES), (b * outCells + c) * CELL_BYTES);
    }
  }
  if (wanted.length === 0) return out;

  tables ??= buildTables();
  const T = tables;
  const tin = Array.from(indices, (c) => {
    let z = 1n;
    for (const m of missing) z = mul(z, sub(T.y[c] as bigint, T.y[m] as bigint));
    return (T.hinv[c] as bigint[]).map((h) => mul(z, h));
  });
  const tout = wanted.map((c) => {
    let z = 1n;
    for (const s of indices) z = mul(z, sub(T.y[c] as bigint, T.y[s] as bigint));
    return (T.hpow[c] as bigint[]).map((h) => mul(z, h));
  });

  const outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const work: bigint[] = new Array(64 * CELLS);
  const buf: bigint[] = new Array(64);
  for (let b = 0; b < blobs; b++) {
    for (const m of missing) for (let k = 0; k < 64; k++) work[k * CELLS + m] = 0n;
    for (let i = 0; i < count; i++) {
      const base = (b * count + i) * CELL_ELEMENTS;
      for (let e = 0; e < 64; e++) buf[e] = values[base + e] as bigint;
      nttDit(buf, 0, 64, T.itw64);
      const c = indices[i] as number;
      const twist = tin[i] as bigint[];
      for (let k = 0; k < 64; k++) work[k * CELLS + c] = mul(buf[k] as bigint, twist[k] as bigint);
    }
    for (let k = 0; k < 64; k++) {
      const offset = k * CELLS;
      nttDit(work, offset, CELLS, T.itw128);
      for (let i = 0; i < CELLS; i++) work[offset + i] = mul(work[offset + i] as bigint, T.iscale[i] as bigint);
      nttDif(work, offset, CELLS, T.tw128);
    }
    wanted.forEach((c, j) => {
      const twist = tout[j] as bigint[];
      for (let k = 0; k < 64; k++) buf[k] = mul(work[k * CELLS + c] as bigint, twist[k] as bigint);
      nttDif(buf, 0, 64, T.tw64);
      const dst = (b * outCells + c) * CELL_BYTES;
      for (let e = 0; e < 64; e++) store(outView, dst + 32 * e, buf[e] as bigint);
    });
  }
  return out;
}

/** The fallback kernel; its async form runs on the calling thread (there is no pool to hand it to). */
export const fallbackKernel: ErasureCore = {
  recover: recoverFallback,
  async recoverAsync(indices, cells, blobs, allCells) {
    return recoverFallback(indices, cells, blobs, allCells);
  },
};
