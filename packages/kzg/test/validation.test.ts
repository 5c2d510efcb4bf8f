// Malformed input to every KZG operation, sync and async: refused before it reaches native code,
// with a KzgError whose code and context say what was wrong. The library's own failures (points
// that do not decode, a setup that cannot load) map to the same typed errors.

import { createKzg, type Kzg, KzgError } from "@cellar/kzg";
import { BLS_MODULUS, BYTES_PER_BLOB, BYTES_PER_CELL } from "@cellar/params";
import t from "tap";
import { fromLibraryError } from "../src/errors.js";

/** The test object tap hands to a subtest (the last overload of `t.test` takes just the callback). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

const kzg: Kzg = createKzg({ precompute: false });
const blob = new Uint8Array(BYTES_PER_BLOB);
const cell = new Uint8Array(BYTES_PER_CELL);
const point = new Uint8Array(48);
point[0] = 0xc0; // the compressed point at infinity: a valid G1 encoding
const scalar = new Uint8Array(32);
const modulus = Buffer.from(BLS_MODULUS.toString(16).padStart(64, "0"), "hex");

async function refuses(
  t: TapTest,
  name: string,
  sync: () => unknown,
  async: () => Promise<unknown>,
  match: { code: string; context?: object },
) {
  t.throws(sync, KzgError, `${name} (sync)`);
  t.throws(sync, match, `${name} (sync) code`);
  await t.rejects(async(), match, `${name} (async) code`);
}

t.test("blobs: length and canonical field elements", async (t) => {
  const nonCanonical = blob.slice();
  nonCanonical.set(modulus, 32 * 9);
  for (const [name, bad, match] of [
    [
      "short blob",
      new Uint8Array(100),
      { code: "CELLAR_ERR_KZG_INVALID_LENGTH", context: { expected: BYTES_PER_BLOB, actual: 100 } },
    ],
    [
      "not bytes",
      "blob" as unknown as Uint8Array,
      { code: "CELLAR_ERR_KZG_INVALID_LENGTH", context: { actual: "string" } },
    ],
    [
      "element equal to the modulus",
      nonCanonical,
      { code: "CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT", context: { element: 9 } },
    ],
  ] as const) {
    await refuses(
      t,
      `commitment: ${name}`,
      () => kzg.blobToCommitment(bad),
      () => kzg.blobToCommitmentAsync(bad),
      match,
    );
    await refuses(
      t,
      `cells: ${name}`,
      () => kzg.computeCells(bad),
      () => kzg.computeCellsAsync(bad),
      match,
    );
    await refuses(
      t,
      `cells+proofs: ${name}`,
      () => kzg.computeCellsAndProofs(bad),
      () => kzg.computeCellsAndProofsAsync(bad),
      match,
    );
    await refuses(
      t,
      `opening: ${name}`,
      () => kzg.computeProof(bad, scalar),
      () => kzg.computeProofAsync(bad, scalar),
      match,
    );
  }
  const below = blob.slice();
  below.set(modulus, 0);
  below[31] = 0; // modulus - 1 in the last byte: the largest canonical value
  t.ok(kzg.blobToCommitment(below).length === 48, "r - 1 is canonical");
});

t.test("openings: z and y must be canonical 32-byte scalars, points 48 bytes", async (t) => {
  await refuses(
    t,
    "z = r",
    () => kzg.computeProof(blob, modulus),
    () => kzg.computeProofAsync(blob, modulus),
    {
      code: "CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT",
      context: { what: "z" },
    },
  );
  const v = (c: Uint8Array, z: Uint8Array, y: Uint8Array, p: Uint8Array) =>
    [() => kzg.verifyProof(c, z, y, p), () => kzg.verifyProofAsync(c, z, y, p)] as const;
  await refuses(t, "short commitment", ...v(point.subarray(1), scalar, scalar, point), {
    code: "CELLAR_ERR_KZG_INVALID_LENGTH",
    context: { what: "commitment" },
  });
  await refuses(t, "short proof", ...v(point, scalar, scalar, point.subarray(2)), {
    code: "CELLAR_ERR_KZG_INVALID_LENGTH",
    context: { what: "proof" },
  });
  await refuses(t, "y = r", ...v(point, scalar, modulus, point), {
    code: "CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT",
    context: { what: "y" },
  });
  await refuses(t, "commitment not a point", ...v(new Uint8Array(48).fill(0x11), scalar, scalar, point), {
    code: "CELLAR_ERR_KZG_INVALID_POINT",
  });
  t.equal(kzg.verifyProof(point, scalar, scalar, point), true, "infinity opens the zero polynomial to 0 everywhere");
  t.equal(
    await kzg.verifyProofAsync(point, scalar, Uint8Array.of(...new Uint8Array(31), 1), point),
    false,
    "a wrong y is false, not an error",
  );
});

t.test("batch cell verification: shapes, indexes, cells and points", async (t) => {
  const v = (c: unknown[], i: unknown[], cells: unknown[], p: unknown[]) =>
    [
      () => kzg.verifyCellProofBatch(c as Uint8Array[], i as number[], cells as Uint8Array[], p as Uint8Array[]),
      () => kzg.verifyCellProofBatchAsync(c as Uint8Array[], i as number[], cells as Uint8Array[], p as Uint8Array[]),
    ] as const;
  await refuses(t, "lengths differ", ...v([point], [0, 1], [cell], [point]), {
    code: "CELLAR_ERR_KZG_MISMATCHED_INPUTS",
  });
  await refuses(t, "not an array", ...v(point as unknown as unknown[], [0], [cell], [point]), {
    code: "CELLAR_ERR_KZG_MISMATCHED_INPUTS",
  });
  await refuses(t, "index 128", ...v([point], [128], [cell], [point]), {
    code: "CELLAR_ERR_KZG_INVALID_CELL_INDEX",
    context: { index: 0, value: 128 },
  });
  await refuses(t, "index 1.5", ...v([point], [1.5], [cell], [point]), { code: "CELLAR_ERR_KZG_INVALID_CELL_INDEX" });
  await refuses(t, "short cell", ...v([point], [3], [cell.subarray(1)], [point]), {
    code: "CELLAR_ERR_KZG_INVALID_LENGTH",
    context: { what: "cell", index: 0 },
  });
  const badCell = cell.slice();
  badCell.fill(0xff, 64, 96);
  await refuses(t, "non-canonical cell", ...v([point], [3], [badCell], [point]), {
    code: "CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT",
    context: { what: "cell", element: 2 },
  });
  await refuses(t, "proof not a point", ...v([point], [3], [cell], [new Uint8Array(48).fill(0x11)]), {
    code: "CELLAR_ERR_KZG_INVALID_POINT",
  });
  t.equal(kzg.verifyCellProofBatch([point], [3], [cell], [point]), true, "zero cell of the zero blob verifies");
  t.equal(
    kzg.verifyCellProofBatch([], [], [], []),
    true,
    "an empty batch is vacuously true: callers must not treat it as evidence",
  );
});

t.test("recovery: enough unique ascending cells", async (t) => {
  const r = (i: number[], cells: Uint8Array[]) =>
    [() => kzg.recoverCellsAndProofs(i, cells), () => kzg.recoverCellsAndProofsAsync(i, cells)] as const;
  const half = Array.from({ length: 64 }, (_, i) => i);
  const cells = half.map(() => cell);
  await refuses(t, "63 cells", ...r(half.slice(1), cells.slice(1)), {
    code: "CELLAR_ERR_KZG_RECOVERY",
    context: { cells: 63 },
  });
  await refuses(
    t,
    "129 cells",
    ...r(
      Array.from({ length: 129 }, (_, i) => i),
      Array(129).fill(cell),
    ),
    { code: "CELLAR_ERR_KZG_RECOVERY" },
  );
  await refuses(t, "indices and cells differ", ...r(half, cells.slice(1)), {
    code: "CELLAR_ERR_KZG_MISMATCHED_INPUTS",
  });
  await refuses(t, "duplicate", ...r([0, ...half.slice(0, 63)], cells), {
    code: "CELLAR_ERR_KZG_RECOVERY",
    context: { index: 1 },
  });
  await refuses(t, "descending", ...r([...half].reverse(), cells), { code: "CELLAR_ERR_KZG_RECOVERY" });
  await refuses(t, "index out of range", ...r([...half.slice(0, 63), 200], cells), {
    code: "CELLAR_ERR_KZG_INVALID_CELL_INDEX",
  });
  await refuses(t, "not an array", ...r(half, cell as unknown as Uint8Array[]), {
    code: "CELLAR_ERR_KZG_MISMATCHED_INPUTS",
  });
});

t.test("library failures map to stable codes", async (t) => {
  const cases: [string, string][] = [
    ["Serialization(CouldNotDeserializeG1Point { bytes: [] })", "CELLAR_ERR_KZG_INVALID_POINT"],
    ["Serialization(CouldNotDeserializeScalar { bytes: [] })", "CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT"],
    ["Verifier(CellIndexOutOfRange { cell_index: 200 })", "CELLAR_ERR_KZG_INVALID_CELL_INDEX"],
    ["Recovery(NotEnoughCellsToReconstruct)", "CELLAR_ERR_KZG_RECOVERY"],
    ["something new", "CELLAR_ERR_KZG_INTERNAL"],
  ];
  for (const [message, code] of cases) {
    const err = fromLibraryError("op", new Error(message));
    t.equal(err.code, code, message);
    t.equal(err.context.detail, message);
    t.type(err.cause, Error);
  }
  t.equal(fromLibraryError("op", "a string").code, "CELLAR_ERR_KZG_INTERNAL");
});

t.test("a trusted setup that cannot load is a typed error", async (t) => {
  const { createKzg: failing } = await t.mockImport<typeof import("../src/kzg.js")>("../src/kzg.js", {
    "@crate-crypto/node-eth-kzg": {
      DasContextJs: {
        create() {
          throw new Error("trusted setup missing");
        },
      },
    },
  });
  t.throws(() => failing({ precompute: false }), { code: "CELLAR_ERR_KZG_SETUP", context: { precompute: false } });
});
