// The encode → columns → decode round trip on real KZG, cross-checked against c-kzg (an
// independent implementation of the same functions), and every way a rebuild must refuse.
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import {
  buildManifest,
  type Column,
  chooseColumns,
  columnOf,
  decodeBatch,
  type EncodedBatch,
  encodeBatch,
  frameBatch,
  manifestToJson,
  packBlobs,
  parseColumn,
  parseManifest,
  serializeColumn,
  verifyColumns,
} from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import {
  BYTES_PER_CELL,
  CELLS_PER_EXT_BLOB,
  DATA_COLUMNS,
  FRAME_HEADER_BYTES,
  PAYLOAD_BYTES_PER_BLOB,
} from "@cellar/params";
import fc from "fast-check";
import t from "tap";

const kzg = sharedKzg();
const erasure = sharedErasure();
const ckzg = createRequire(import.meta.url)("c-kzg") as {
  loadTrustedSetup(precompute: number): void;
  blobToKzgCommitment(blob: Uint8Array): Uint8Array;
  verifyCellKzgProofBatch(c: Uint8Array[], i: number[], cells: Uint8Array[], p: Uint8Array[]): boolean;
  computeCellsAndKzgProofs(blob: Uint8Array): [Uint8Array[], Uint8Array[]];
};
ckzg.loadTrustedSetup(0);

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const all = (batch: EncodedBatch) => Array.from({ length: CELLS_PER_EXT_BLOB }, (_, c) => columnOf(batch, c));

/** A uniformly random subset of `k` column indices. */
function randomColumns(k: number): number[] {
  const pool = Array.from({ length: CELLS_PER_EXT_BLOB }, (_, i) => i);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [pool[i], pool[j]] = [pool[j] as number, pool[i] as number];
  }
  return pool.slice(0, k);
}

const P = PAYLOAD_BYTES_PER_BLOB;
const sizes = [0, 1, 31, P - FRAME_HEADER_BYTES, P - 1, P, P + 1, 3 * P + 17];

t.test("round trip at every boundary: all columns, original half, random halves", async (t) => {
  for (const size of sizes) {
    const payload = new Uint8Array(randomBytes(size));
    const batch = await encodeBatch(payload, { kzg });
    const manifest = parseManifest(JSON.parse(JSON.stringify(manifestToJson(batch.manifest))));
    t.equal(manifest.size, size);
    t.equal(manifest.blobs.length, Math.max(1, Math.ceil((size + FRAME_HEADER_BYTES) / P)), `${size}: blob count`);
    t.same(await decodeBatch(manifest, all(batch), { kzg, erasure }), payload, `${size}: from all columns`);
    const original = Array.from({ length: DATA_COLUMNS }, (_, c) => columnOf(batch, c));
    t.same(await decodeBatch(manifest, original, { kzg, erasure }), payload, `${size}: from columns 0..63`);
    const parity = Array.from({ length: DATA_COLUMNS }, (_, c) => columnOf(batch, c + DATA_COLUMNS));
    t.same(await decodeBatch(manifest, parity, { kzg, erasure }), payload, `${size}: from the parity columns alone`);
    const subset = randomColumns(DATA_COLUMNS);
    t.same(
      await decodeBatch(
        manifest,
        subset.map((c) => columnOf(batch, c)),
        { kzg, erasure },
      ),
      payload,
      `${size}: from random columns ${subset.slice(0, 5).join(",")}…`,
    );
  }
});

t.test("property: random payloads rebuild exactly from random 64-column subsets", async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 2 * P + 100, size: "max" }),
      fc.shuffledSubarray([...Array(CELLS_PER_EXT_BLOB).keys()], {
        minLength: DATA_COLUMNS,
        maxLength: DATA_COLUMNS + 8,
      }),
      fc.constantFrom("none" as const, "brotli" as const),
      async (payload, columns, compression) => {
        const batch = await encodeBatch(payload, { kzg, compression });
        const back = await decodeBatch(
          batch.manifest,
          columns.map((c) => columnOf(batch, c)),
          { kzg, erasure },
        );
        return Buffer.compare(back, payload) === 0;
      },
    ),
    { numRuns: 6 },
  );
  t.pass("6 random payloads, compressions and column subsets round-tripped");
});

t.test("alreadyVerified skips the second verification, and only that", async (t) => {
  const payload = new Uint8Array(randomBytes(P + 10));
  const batch = await encodeBatch(payload, { kzg });
  let verifyCalls = 0;
  const counting = {
    verifyCellProofBatchAsync: (...args: Parameters<typeof kzg.verifyCellProofBatchAsync>) => {
      verifyCalls++;
      return kzg.verifyCellProofBatchAsync(...args);
    },
  };
  const columns = randomColumns(DATA_COLUMNS).map((c) => columnOf(batch, c));
  t.same(await decodeBatch(batch.manifest, columns, { kzg: counting, erasure }), payload);
  t.ok(verifyCalls > 0, "verified by default");
  verifyCalls = 0;
  t.same(await decodeBatch(batch.manifest, columns, { kzg: counting, erasure, alreadyVerified: true }), payload);
  t.equal(verifyCalls, 0, "not verified again when the caller has");
});

t.test("compressed batches round-trip and record the original size", async (t) => {
  const payload = new TextEncoder().encode("tx:transfer(0xabc,0xdef,100);".repeat(20_000));
  const plain = await encodeBatch(payload, { kzg });
  const packed = await encodeBatch(payload, { kzg, compression: "brotli" });
  t.equal(packed.manifest.size, payload.length);
  t.ok(packed.blobs.length < plain.blobs.length, `${packed.blobs.length} blobs instead of ${plain.blobs.length}`);
  const subset = randomColumns(DATA_COLUMNS).map((c) => columnOf(packed, c));
  t.same(await decodeBatch(packed.manifest, subset, { kzg, erasure }), payload);
});

t.test("an 8 MiB batch round-trips through columns files from random 64-column subsets", async (t) => {
  const payload = new Uint8Array(randomBytes(8 * 1024 * 1024));
  let progress = 0;
  const batch = await encodeBatch(payload, { kzg, onProgress: (p) => (progress = p.blobsDone) });
  t.equal(batch.blobs.length, 67);
  t.equal(progress, 67, "progress reached every blob");
  const files = new Map(all(batch).map((c) => [c.index, serializeColumn(c)]));
  const originals = Array.from({ length: DATA_COLUMNS }, (_, c) => c);
  for (const [round, chosen] of [
    ["random subset", randomColumns(DATA_COLUMNS)],
    ["columns 0..63", originals],
  ] as const) {
    const columns = chosen.map((c) => parseColumn(files.get(c) as Uint8Array, c, batch.blobs.length));
    const back = await decodeBatch(batch.manifest, columns, { kzg, erasure });
    t.ok(Buffer.compare(back, payload) === 0, `${round}: bit-exact`);
  }
});

t.test("c-kzg, an independent implementation, accepts every commitment, cell and proof", async (t) => {
  const payload = new Uint8Array(randomBytes(2 * P + 1000));
  const batch = await encodeBatch(payload, { kzg });
  const blobs = packBlobs(frameBatch(payload));
  t.equal(blobs.length, batch.blobs.length);
  for (const [b, blob] of blobs.entries()) {
    const ours = batch.blobs[b];
    if (!ours) continue;
    t.equal(hex(ckzg.blobToKzgCommitment(blob)), hex(ours.commitment), `blob ${b}: same commitment`);
    const commitments = Array<Uint8Array>(CELLS_PER_EXT_BLOB).fill(ours.commitment);
    const indices = Array.from({ length: CELLS_PER_EXT_BLOB }, (_, i) => i);
    t.ok(
      ckzg.verifyCellKzgProofBatch(commitments, indices, [...ours.cells], [...ours.proofs]),
      `blob ${b}: cells verify`,
    );
  }
  const [cells, proofs] = ckzg.computeCellsAndKzgProofs(blobs[0] as Uint8Array);
  t.same(cells.map(hex), batch.blobs[0]?.cells.map(hex), "same cells as c-kzg");
  t.same(proofs.map(hex), batch.blobs[0]?.proofs.map(hex), "same proofs as c-kzg");
});

t.test("a rebuild refuses, with a typed error, anything it cannot vouch for", async (t) => {
  const payload = new Uint8Array(randomBytes(P + 5000));
  const batch = await encodeBatch(payload, { kzg });
  const columns = all(batch);
  const take = (list: number[]) => list.map((c) => columns[c] as Column);

  await t.rejects(decodeBatch(batch.manifest, take(randomColumns(63)), { kzg, erasure }), {
    code: "CELLAR_ERR_CODEC_NOT_ENOUGH_COLUMNS",
    context: { available: 63, needed: 64 },
  });
  t.throws(() => chooseColumns([1, 1, 2]), { code: "CELLAR_ERR_CODEC_NOT_ENOUGH_COLUMNS" }, "duplicates count once");

  const tampered = (c: number, b: number, edit: (cell: Uint8Array) => void): Column => {
    const column = columns[c] as Column;
    const cells = column.cells.map((cell) => cell.slice());
    edit(cells[b] as Uint8Array);
    return { ...column, cells };
  };
  const flipped = tampered(5, 1, (cell) => {
    cell[100] = (cell[100] as number) ^ 1;
  });
  const withFlipped = [...take([...Array(64).keys()]).filter((c) => c.index !== 5), flipped];
  await t.rejects(decodeBatch(batch.manifest, withFlipped, { kzg, erasure }), {
    code: "CELLAR_ERR_CODEC_INVALID_CELL",
    context: { bad: [{ blob: 1, column: 5 }] },
  });
  const nonCanonical = tampered(70, 0, (cell) => cell.fill(0xff, 0, 32));
  const parity = [...take(Array.from({ length: 64 }, (_, i) => i + 64)).filter((c) => c.index !== 70), nonCanonical];
  await t.rejects(
    decodeBatch(batch.manifest, parity, { kzg, erasure }),
    {
      code: "CELLAR_ERR_CODEC_INVALID_CELL",
      context: { bad: [{ blob: 0, column: 70 }] },
    },
    "a non-canonical cell is a failed cell, not a crash",
  );
  const badProof = {
    ...(columns[3] as Column),
    proofs: (columns[3] as Column).proofs.map(() => new Uint8Array(48).fill(7)),
  };
  t.same(
    await verifyColumns(batch.manifest, [badProof, columns[4] as Column], { kzg }),
    [
      { blob: 0, column: 3 },
      { blob: 1, column: 3 },
    ],
    "proofs that are not points fail, and each is named",
  );

  // Cells of another blob under this manifest's commitments.
  const other = await encodeBatch(new Uint8Array(randomBytes(P + 5000)), { kzg });
  await t.rejects(
    decodeBatch(
      batch.manifest,
      take(randomColumns(64)).map((c) => columnOf(other, c.index)),
      { kzg, erasure },
    ),
    {
      code: "CELLAR_ERR_CODEC_INVALID_CELL",
    },
  );
  // This batch's cells under a manifest carrying another blob's commitment.
  const forged = buildManifest(
    [batch.manifest.blobs[0]?.commitment as Uint8Array, other.manifest.blobs[1]?.commitment as Uint8Array],
    payload.length,
  );
  await t.rejects(decodeBatch(forged, take(randomColumns(64)), { kzg, erasure }), {
    code: "CELLAR_ERR_CODEC_INVALID_CELL",
  });

  const short = { ...(columns[0] as Column), cells: (columns[0] as Column).cells.slice(0, 1) };
  await t.rejects(
    decodeBatch(batch.manifest, [...take(randomColumns(64)).filter((c) => c.index !== 0), short], { kzg, erasure }),
    {
      code: "CELLAR_ERR_CODEC_INVALID_COLUMN",
    },
  );
  t.equal(BYTES_PER_CELL, 2048);
});

t.test("blobs that commit correctly but frame wrongly are refused, never misread", async (t) => {
  const commitAll = async (blobs: Uint8Array[]) => {
    const encoded = await Promise.all(
      blobs.map(async (blob) => ({
        commitment: await kzg.blobToCommitmentAsync(blob),
        ...(await kzg.computeCellsAndProofsAsync(blob)),
      })),
    );
    return encoded;
  };
  const decodeRaw = async (blobs: Uint8Array[], size: number) => {
    const encoded = await commitAll(blobs);
    const manifest = buildManifest(
      encoded.map((b) => b.commitment),
      size,
    );
    const batch = { manifest, blobs: encoded };
    return decodeBatch(
      manifest,
      randomColumns(64).map((c) => columnOf(batch, c)),
      { kzg, erasure },
    );
  };
  const framed = frameBatch(new Uint8Array([1, 2, 3]));
  await t.rejects(
    decodeRaw(packBlobs(framed), 4),
    { code: "CELLAR_ERR_CODEC_SIZE_MISMATCH" },
    "size differs from header",
  );
  const padded = [...packBlobs(framed), new Uint8Array(131072)];
  await t.rejects(decodeRaw(padded, 3), { code: "CELLAR_ERR_CODEC_INVALID_PACKING" }, "an extra blob");
  const noHeader = packBlobs(new Uint8Array(40).fill(9));
  await t.rejects(decodeRaw(noHeader, 3), { code: "CELLAR_ERR_CODEC_INVALID_FRAME" }, "no frame header");
  const topByte = packBlobs(framed);
  (topByte[0] as Uint8Array)[0] = 1;
  await t.rejects(decodeRaw(topByte, 3), { code: "CELLAR_ERR_CODEC_INVALID_PACKING" }, "non-zero top byte");
});
