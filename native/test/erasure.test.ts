// Data-only recovery and extension, on both backends (the addon when it is built, and the
// TypeScript fallback always): the official vectors' cells byte for byte, node-eth-kzg's cells
// over random blobs and random subsets of 64 or more cells, batches sharing their missing cells,
// and every refusal as a NativeError with its code.

import { sharedKzg } from "@cellar/kzg";
import { type Erasure, erasureOver, fallbackKernel, loadAddon, NativeError } from "@cellar/native";
import { BYTES_PER_BLOB, BYTES_PER_CELL, CELLS_PER_EXT_BLOB } from "@cellar/params";
import fc from "fast-check";
import t from "tap";
import { bytes, hex, loadSuite } from "../../test/helpers/vectors.js";

const addon = loadAddon();
const backends: Erasure[] = [erasureOver("js", fallbackKernel)];
if (!(addon instanceof Error)) backends.unshift(erasureOver("native", addon));

const kzg = sharedKzg({ precompute: false });
const list = (value: unknown): Uint8Array[] => (value as unknown[]).map(bytes);

/** A random blob of canonical field elements (top byte below the modulus' 0x73). */
function randomBlob(seed: number): Uint8Array {
  const blob = new Uint8Array(BYTES_PER_BLOB);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < blob.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    blob[i] = x >>> 24;
  }
  for (let i = 0; i < blob.length; i += 32) blob[i] = (blob[i] as number) % 0x73;
  return blob;
}

t.test("the addon is built (or the fallback alone is tested)", async (t) => {
  if (addon instanceof Error) t.comment(`native addon not loaded: ${addon.message}`);
  t.ok(backends.length >= 1);
});

for (const erasure of backends) {
  t.test(`${erasure.backend}: compute_cells vectors`, async (t) => {
    const cases = loadSuite("compute_cells");
    t.equal(cases.length, 11);
    for (const c of cases) {
      if (c.output === null) {
        t.throws(() => erasure.computeCells(bytes(c.input.blob)), NativeError, `${c.name}: refused`);
      } else {
        t.same(erasure.computeCells(bytes(c.input.blob)).map(hex), c.output, `${c.name}: cells match`);
      }
    }
  });

  t.test(`${erasure.backend}: recover_cells_and_kzg_proofs vectors (cells)`, async (t) => {
    const cases = loadSuite("recover_cells_and_kzg_proofs");
    t.equal(cases.length, 18);
    for (const c of cases) {
      const indices = c.input.cell_indices as number[];
      const cells = [list(c.input.cells)];
      if (c.output === null) {
        t.throws(() => erasure.recoverCells(indices, cells), NativeError, `${c.name}: refused`);
        await t.rejects(erasure.recoverCellsAsync(indices, cells), NativeError, `${c.name}: async refused`);
        continue;
      }
      const [expected] = c.output as [string[]];
      t.same((erasure.recoverCells(indices, cells)[0] as Uint8Array[]).map(hex), expected, `${c.name}: cells`);
      const [blob] = await erasure.recoverBlobsAsync(indices, cells);
      t.equal(
        hex(blob as Uint8Array),
        `0x${expected
          .slice(0, 64)
          .map((h) => h.slice(2))
          .join("")}`,
        `${c.name}: blob`,
      );
    }
  });

  t.test(`${erasure.backend}: random blobs and random subsets of at least 64 cells match node-eth-kzg`, async (t) => {
    const runs = erasure.backend === "native" ? 24 : 4;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.uniqueArray(fc.integer({ min: 0, max: CELLS_PER_EXT_BLOB - 1 }), { minLength: 64, maxLength: 128 }),
        async (seed, subset) => {
          const blob = randomBlob(seed);
          const cells = kzg.computeCells(blob);
          const indices = [...subset].sort((a, b) => a - b);
          const given = [indices.map((i) => cells[i] as Uint8Array)];
          const all = (await erasure.recoverCellsAsync(indices, given))[0] as Uint8Array[];
          const same = all.every((cell, i) => Buffer.compare(cell, cells[i] as Uint8Array) === 0);
          const [back] = erasure.recoverBlobs(indices, given);
          return same && Buffer.compare(back as Uint8Array, blob) === 0;
        },
      ),
      { numRuns: runs },
    );
    const blob = randomBlob(7);
    t.same(erasure.computeCells(blob).map(hex), kzg.computeCells(blob).map(hex), "the extension equals computeCells");
  });

  t.test(`${erasure.backend}: many blobs missing the same cells in one call`, async (t) => {
    const blobs = [1, 2, 3].map(randomBlob);
    const cells = blobs.map((b) => kzg.computeCells(b));
    const parity = Array.from({ length: 64 }, (_, i) => 64 + i);
    const given = cells.map((c) => parity.map((i) => c[i] as Uint8Array));
    const want = blobs.map(hex);
    t.same(erasure.recoverBlobs(parity, given).map(hex), want, "each blob from the parity half");
    t.same((await erasure.recoverBlobsAsync(parity, given)).map(hex), want, "async");
    t.same(
      (await erasure.recoverCellsAsync(parity, given)).map((b) => b.map(hex)),
      cells.map((b) => b.map(hex)),
      "every cell of each blob",
    );
    t.same(erasure.recoverBlobs(parity, []), [], "no blobs, no work");
    const original = Array.from({ length: 64 }, (_, i) => i);
    const direct = erasure.recoverBlobs(
      original,
      cells.map((c) => c.slice(0, 64)),
    );
    t.same(direct.map(hex), want, "the original half is the blob");
  });

  t.test(`${erasure.backend}: refusals`, async (t) => {
    const cells = kzg.computeCells(randomBlob(3));
    const indices = Array.from({ length: 64 }, (_, i) => 2 * i);
    const given = indices.map((i) => cells[i] as Uint8Array);
    const refuse = async (name: string, code: string, args: [unknown, unknown], context?: object) => {
      const [i, c] = args as [number[], Uint8Array[][]];
      t.throws(() => erasure.recoverBlobs(i, c), { name: "NativeError", code, ...(context ? { context } : {}) }, name);
      await t.rejects(erasure.recoverCellsAsync(i, c), { code }, `${name} (async)`);
    };
    await refuse("indices not an array", "CELLAR_ERR_NATIVE_MISMATCHED_INPUTS", ["0,1", [given]]);
    await refuse("63 cells", "CELLAR_ERR_NATIVE_NOT_ENOUGH_CELLS", [indices.slice(1), [given.slice(1)]]);
    await refuse("index 128", "CELLAR_ERR_NATIVE_INVALID_CELL_INDEX", [[...indices.slice(0, 63), 128], [given]]);
    await refuse("index 1.5", "CELLAR_ERR_NATIVE_INVALID_CELL_INDEX", [[1.5, ...indices.slice(1)], [given]]);
    await refuse("a repeated index", "CELLAR_ERR_NATIVE_INVALID_CELL_INDEX", [[0, ...indices.slice(0, 63)], [given]]);
    await refuse("cells not an array", "CELLAR_ERR_NATIVE_MISMATCHED_INPUTS", [indices, "cells"]);
    await refuse("a blob short of a cell", "CELLAR_ERR_NATIVE_MISMATCHED_INPUTS", [indices, [given.slice(1)]]);
    await refuse("a blob not an array", "CELLAR_ERR_NATIVE_MISMATCHED_INPUTS", [indices, [7]]);
    await refuse("a short cell", "CELLAR_ERR_NATIVE_INVALID_LENGTH", [
      indices,
      [[...given.slice(0, 63), new Uint8Array(2047)]],
    ]);
    await refuse("a cell that is not bytes", "CELLAR_ERR_NATIVE_INVALID_LENGTH", [
      indices,
      [[...given.slice(0, 63), 5]],
    ]);
    const bad = Uint8Array.from(given[5] as Uint8Array);
    bad.fill(0xff, 32 * 9, 32 * 10);
    const withBad = [given, [...given.slice(0, 5), bad, ...given.slice(6)]];
    await refuse("a non-canonical element", "CELLAR_ERR_NATIVE_INVALID_FIELD_ELEMENT", [indices, withBad], {
      blob: 1,
      cell: 10,
      element: 9,
    });
    t.throws(() => erasure.computeCells(new Uint8Array(BYTES_PER_BLOB - 1)), {
      code: "CELLAR_ERR_NATIVE_INVALID_LENGTH",
    });
    t.throws(() => erasure.computeCells("blob" as unknown as Uint8Array), { code: "CELLAR_ERR_NATIVE_INVALID_LENGTH" });
    const blob = randomBlob(4);
    blob.fill(0xff, 32 * 100, 32 * 101);
    t.throws(() => erasure.computeCells(blob), {
      code: "CELLAR_ERR_NATIVE_INVALID_FIELD_ELEMENT",
      context: { element: 100 },
    });
    t.equal(BYTES_PER_CELL, 2048);
  });
}

t.test("a kernel failure other than a bad word is CELLAR_ERR_NATIVE_INTERNAL", async (t) => {
  const broken = erasureOver("js", {
    recover() {
      throw Object.assign(new Error("out of memory"), { code: "ERR_CELLAR_NATIVE_MEMORY" });
    },
    async recoverAsync() {
      throw new Error("boom");
    },
  });
  const indices = Array.from({ length: 64 }, (_, i) => i);
  const cells = [indices.map(() => new Uint8Array(BYTES_PER_CELL))];
  t.throws(() => broken.recoverBlobs(indices, cells), { code: "CELLAR_ERR_NATIVE_INTERNAL" });
  await t.rejects(broken.recoverBlobsAsync(indices, cells), { code: "CELLAR_ERR_NATIVE_INTERNAL" });
  t.throws(() => broken.computeCells(new Uint8Array(BYTES_PER_BLOB)), { code: "CELLAR_ERR_NATIVE_INTERNAL" });
});
