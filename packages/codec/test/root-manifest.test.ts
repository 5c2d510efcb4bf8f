import { createHash, randomBytes } from "node:crypto";
import {
  batchIdFromRoot,
  batchRoot,
  blobProof,
  blobsRoot,
  blobsRootFromProof,
  buildManifest,
  CodecError,
  manifestToJson,
  parseColumn,
  parseManifest,
  rootFromBatchId,
  serializeColumn,
  versionedHash,
} from "@cellar/codec";
import { BYTES_PER_CELL, BYTES_PER_COLUMN_ENTRY, BYTES_PER_PROOF } from "@cellar/params";
import { keccak_256 } from "@noble/hashes/sha3";
import t from "tap";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const u256 = (n: number) => Buffer.from(n.toString(16).padStart(64, "0"), "hex");
const keccak = (...parts: Uint8Array[]) => keccak_256(Buffer.concat(parts));

t.test("keccak-256 is Ethereum's keccak, not SHA3", async (t) => {
  t.equal(hex(keccak_256(new Uint8Array(0))), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
});

t.test("versioned hash is 0x01 || sha256(commitment)[1:]", async (t) => {
  const commitment = randomBytes(48);
  const expected = createHash("sha256").update(commitment).digest();
  expected[0] = 1;
  t.equal(hex(versionedHash(commitment)), expected.toString("hex"));
  t.throws(() => versionedHash(new Uint8Array(47)), CodecError);
});

t.test("batch root binds the blobs tree, the blob count and the size", async (t) => {
  const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const zero = new Uint8Array(32);
  t.equal(hex(blobsRoot([a])), hex(a), "one blob: the root of the tree is its leaf");
  t.equal(hex(blobsRoot([a, b])), hex(keccak(a, b)));
  t.equal(hex(blobsRoot([a, b, c])), hex(keccak(keccak(a, b), keccak(c, zero))), "padded with zero leaves");
  t.equal(hex(batchRoot([a, b, c], 1000)), hex(keccak(keccak(keccak(a, b), keccak(c, zero)), u256(3), u256(1000))));
  t.not(hex(batchRoot([a, b], 10)), hex(batchRoot([a, b], 11)), "size is bound");
  t.not(hex(batchRoot([a, b, zero], 10)), hex(batchRoot([a, b], 10)), "blob count is bound even with zero leaves");
  t.throws(() => blobsRoot([]), CodecError);
  t.throws(() => blobsRoot([new Uint8Array(31)]), CodecError);
});

t.test("membership proofs fold back to the blobs root for every index", async (t) => {
  for (const n of [1, 2, 3, 5, 8, 13]) {
    const leaves = Array.from({ length: n }, () => randomBytes(32));
    const root = hex(blobsRoot(leaves));
    for (let i = 0; i < n; i++) {
      const proof = blobProof(leaves, i);
      t.equal(proof.length, Math.ceil(Math.log2(n)), `${n} leaves: proof length`);
      t.equal(hex(blobsRootFromProof(leaves[i] as Uint8Array, i, proof)), root, `${n} leaves, index ${i}`);
      if (n > 1) t.not(hex(blobsRootFromProof(leaves[i] as Uint8Array, i ^ 1, proof)), root, "wrong index fails");
    }
  }
  t.throws(() => blobProof([randomBytes(32)], 1), CodecError);
});

t.test("batch ids are CIDs that name the root, and only the root", async (t) => {
  const root = randomBytes(32);
  const id = batchIdFromRoot(root);
  t.match(id, /^bafkrwi[a-z2-7]+$/, "CIDv1, raw codec, keccak-256 multihash, base32");
  t.same(rootFromBatchId(id), new Uint8Array(root));
  t.same(rootFromBatchId(`0x${hex(root)}`), new Uint8Array(root), "a 0x root is accepted as an id");
  t.throws(() => rootFromBatchId("not-a-cid"), { code: "CELLAR_ERR_CODEC_INVALID_ID" });
  // A valid CID of something else (sha2-256 raw) is not a batch id.
  t.throws(() => rootFromBatchId("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"), {
    code: "CELLAR_ERR_CODEC_INVALID_ID",
  });
  t.throws(() => batchIdFromRoot(new Uint8Array(31)), { code: "CELLAR_ERR_CODEC_INVALID_ID" });
});

t.test("manifest round-trips through JSON and every tampering is caught", async (t) => {
  const commitments = [randomBytes(48), randomBytes(48), randomBytes(48)];
  const manifest = buildManifest(commitments, 300_000);
  const json = manifestToJson(manifest);
  t.same(Object.keys(json), ["version", "id", "root", "size", "blobs"]);
  t.match(json.root, /^0x[0-9a-f]{64}$/);
  const parsed = parseManifest(JSON.parse(JSON.stringify(json)));
  t.same(manifestToJson(parsed), json);
  t.same(parseManifest(json, manifest.root).root, manifest.root, "expected root accepted");

  const edits: [string, (m: Record<string, unknown> & typeof json) => void, string][] = [
    ["size changed", (m) => (m.size += 1), "CELLAR_ERR_CODEC_ROOT_MISMATCH"],
    ["root changed", (m) => (m.root = `0x${"11".repeat(32)}`), "CELLAR_ERR_CODEC_ROOT_MISMATCH"],
    ["blob dropped", (m) => m.blobs.pop(), "CELLAR_ERR_CODEC_ROOT_MISMATCH"],
    ["blobs swapped", (m) => m.blobs.reverse(), "CELLAR_ERR_CODEC_ROOT_MISMATCH"],
    [
      "commitment of another blob, with its versioned hash",
      (m) => {
        const other = randomBytes(48);
        m.blobs[1] = { commitment: `0x${hex(other)}`, versionedHash: `0x${hex(versionedHash(other))}` };
      },
      "CELLAR_ERR_CODEC_ROOT_MISMATCH",
    ],
    [
      "commitment swapped, versioned hash kept",
      (m) => ((m.blobs[0] as { commitment: string }).commitment = `0x${hex(randomBytes(48))}`),
      "CELLAR_ERR_CODEC_INVALID_MANIFEST",
    ],
    ["id of another batch", (m) => (m.id = batchIdFromRoot(randomBytes(32))), "CELLAR_ERR_CODEC_INVALID_MANIFEST"],
    ["version", (m) => (m.version = 2), "CELLAR_ERR_CODEC_INVALID_MANIFEST"],
    ["negative size", (m) => (m.size = -1), "CELLAR_ERR_CODEC_INVALID_MANIFEST"],
    ["fractional size", (m) => (m.size = 1.5), "CELLAR_ERR_CODEC_INVALID_MANIFEST"],
    ["no blobs", (m) => (m.blobs = []), "CELLAR_ERR_CODEC_INVALID_MANIFEST"],
    ["blob not an object", (m) => ((m.blobs as unknown[])[0] = 5), "CELLAR_ERR_CODEC_INVALID_MANIFEST"],
    [
      "short commitment",
      (m) => ((m.blobs[0] as { commitment: string }).commitment = "0x00"),
      "CELLAR_ERR_CODEC_INVALID_MANIFEST",
    ],
    ["root not hex", (m) => (m.root = "zz"), "CELLAR_ERR_CODEC_INVALID_MANIFEST"],
  ];
  for (const [name, edit, code] of edits) {
    const copy = JSON.parse(JSON.stringify(json));
    edit(copy);
    t.throws(() => parseManifest(copy), { code }, name);
  }
  for (const notObject of [null, 5, "manifest", [json]]) {
    t.throws(() => parseManifest(notObject), { code: "CELLAR_ERR_CODEC_INVALID_MANIFEST" });
  }
  t.throws(() => parseManifest(json, randomBytes(32)), { code: "CELLAR_ERR_CODEC_ROOT_MISMATCH" }, "other root");
});

t.test("column files: cell then proof per blob; exact length or a typed error", async (t) => {
  const cells = [randomBytes(BYTES_PER_CELL), randomBytes(BYTES_PER_CELL)];
  const proofs = [randomBytes(BYTES_PER_PROOF), randomBytes(BYTES_PER_PROOF)];
  const bytes = serializeColumn({ index: 9, cells, proofs });
  t.equal(bytes.length, 2 * BYTES_PER_COLUMN_ENTRY);
  t.same(bytes.subarray(0, BYTES_PER_CELL), new Uint8Array(cells[0] as Buffer));
  t.same(bytes.subarray(BYTES_PER_CELL, BYTES_PER_COLUMN_ENTRY), new Uint8Array(proofs[0] as Buffer));
  const parsed = parseColumn(bytes, 9, 2);
  t.same(parsed.cells.map(hex), cells.map(hex));
  t.same(parsed.proofs.map(hex), proofs.map(hex));
  t.throws(() => parseColumn(bytes.subarray(0, bytes.length - 1), 9, 2), {
    code: "CELLAR_ERR_CODEC_INVALID_COLUMN",
    context: { column: 9, expected: 2 * BYTES_PER_COLUMN_ENTRY },
  });
  t.throws(() => parseColumn(bytes, 9, 3), { code: "CELLAR_ERR_CODEC_INVALID_COLUMN" }, "too short for the blobs");
  t.throws(() => parseColumn(bytes, 128, 2), { code: "CELLAR_ERR_CODEC_INVALID_COLUMN" });
  t.throws(() => parseColumn(bytes, -1, 2), { code: "CELLAR_ERR_CODEC_INVALID_COLUMN" });
  t.throws(() => serializeColumn({ index: 1, cells, proofs: [proofs[0] as Buffer] }), {
    code: "CELLAR_ERR_CODEC_INVALID_COLUMN",
  });
  t.throws(() => serializeColumn({ index: 1, cells: [new Uint8Array(5)], proofs: [proofs[0] as Buffer] }), {
    code: "CELLAR_ERR_CODEC_INVALID_COLUMN",
  });
});
