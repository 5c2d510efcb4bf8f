import { createHash, randomBytes } from "node:crypto";
import { buildManifest, columnOf, type EncodedBatch } from "@cellar/codec";
import { BYTES_PER_CELL, BYTES_PER_PROOF } from "@cellar/params";
import {
  attestationMessage,
  buildNodeSet,
  custodians,
  custodyColumns,
  custodyScore,
  custodyTable,
  decodeDispersal,
  encodeDispersal,
  generateSecretKey,
  nodeIdFromPublicKey,
  nodeSetToJson,
  parseNodeSet,
  parsePublicKey,
  parseSecretKey,
  parseSignature,
  proofOfPossession,
  signAttestation,
  verifyAttestation,
  verifyProofOfPossession,
} from "@cellar/protocol";
import * as blst from "@chainsafe/blst";
import t from "tap";

const keys = Array.from({ length: 7 }, () => generateSecretKey(randomBytes(32)));
const set = buildNodeSet(
  keys.map((k, i) => ({ publicKey: k.toPublicKey().toBytes(), url: `http://127.0.0.1:${7000 + i}` })),
);

t.test("node ids and proofs of possession", async (t) => {
  const pk = keys[0]?.toPublicKey().toBytes() as Uint8Array;
  t.same(nodeIdFromPublicKey(pk), new Uint8Array(createHash("sha256").update(pk).digest()));
  const pop = proofOfPossession(keys[0] as blst.SecretKey);
  t.ok(verifyProofOfPossession(pk, pop));
  const msg = Buffer.concat([Buffer.from("CELLAR-POP-v1"), pk]);
  t.ok(
    blst.verify(msg, blst.PublicKey.fromBytes(pk), blst.Signature.fromBytes(pop)),
    "PoP is a plain signature over the tag and the key",
  );
  t.notOk(verifyProofOfPossession(keys[1]?.toPublicKey().toBytes() as Uint8Array, pop), "not another key's");
  t.notOk(verifyProofOfPossession(pk, new Uint8Array(96)), "garbage is false, not a throw");
  t.throws(() => parsePublicKey(new Uint8Array(48)), { code: "CELLAR_ERR_PROTOCOL_INVALID_KEY" });
  const infinity = new Uint8Array(48);
  infinity[0] = 0xc0;
  t.throws(
    () => parsePublicKey(infinity),
    { code: "CELLAR_ERR_PROTOCOL_INVALID_KEY" },
    "the point at infinity is refused",
  );
  t.throws(() => parseSignature(new Uint8Array(10)), { code: "CELLAR_ERR_PROTOCOL_INVALID_KEY" });
  t.throws(() => parseSecretKey(new Uint8Array(32)), { code: "CELLAR_ERR_PROTOCOL_INVALID_KEY" }, "zero is not a key");
});

t.test("attestation message layout and signatures", async (t) => {
  const domain = { chainId: 10n, inbox: Uint8Array.from(randomBytes(20)) };
  const root = Uint8Array.from(randomBytes(32));
  const expected = createHash("sha256")
    .update("CELLAR-ATTEST-v1")
    .update(Buffer.from(`${"0".repeat(63)}a`, "hex"))
    .update(domain.inbox)
    .update(root)
    .digest();
  t.same(attestationMessage(domain, root), new Uint8Array(expected));
  const sig = signAttestation(keys[0] as blst.SecretKey, domain, root);
  t.equal(sig.length, 96);
  const pk = keys[0]?.toPublicKey().toBytes() as Uint8Array;
  t.ok(verifyAttestation(pk, domain, root, sig));
  t.notOk(verifyAttestation(pk, { ...domain, inbox: new Uint8Array(20) }, root, sig), "another inbox: replay refused");
  t.notOk(verifyAttestation(pk, domain, root, new Uint8Array(96)));
  t.throws(() => attestationMessage({ chainId: -1n, inbox: domain.inbox }, root), {
    code: "CELLAR_ERR_PROTOCOL_INVALID_DOMAIN",
  });
  t.throws(() => attestationMessage({ chainId: 1n, inbox: new Uint8Array(19) }, root), {
    code: "CELLAR_ERR_PROTOCOL_INVALID_DOMAIN",
  });
  t.throws(() => attestationMessage(domain, new Uint8Array(31)), { code: "CELLAR_ERR_PROTOCOL_INVALID_DOMAIN" });
});

t.test("custody by rendezvous hashing", async (t) => {
  const table = custodyTable(set);
  t.equal(table.length, 128);
  for (const [c, holders] of table.entries()) {
    t.equal(holders.length, 2);
    const scores = set
      .map((n) => custodyScore(n.nodeId, c).toString("hex"))
      .sort()
      .reverse();
    t.same(
      holders.map((n) => custodyScore(n.nodeId, c).toString("hex")),
      scores.slice(0, 2),
      `column ${c}: the two highest scores`,
    );
  }
  const total = set.reduce((n, node) => n + custodyColumns(set, node.nodeId).length, 0);
  t.equal(total, 256, "every column counted twice over all nodes");
  t.same(
    custodians([...set].reverse(), 5).map((n) => n.index),
    custodians(set, 5).map((n) => n.index),
    "order of the list does not matter",
  );
  // Removing a node moves only the columns it held.
  const without = set.filter((n) => n.index !== 3);
  for (let c = 0; c < 128; c++) {
    const before = custodians(set, c).map((n) => n.index);
    if (!before.includes(3))
      t.same(
        custodians(without, c).map((n) => n.index),
        before,
        `column ${c} unmoved`,
      );
  }
  t.equal(custodyColumns(set.slice(0, 1), set[0]?.nodeId as Uint8Array).length, 128, "a lone node keeps everything");
  t.equal(custodians(set, 0, 3).length, 3);
});

t.test("node sets: JSON round trip and refusals", async (t) => {
  const json = nodeSetToJson(set);
  t.same(
    parseNodeSet(JSON.parse(JSON.stringify(json))).map((n) => n.url),
    set.map((n) => n.url),
  );
  const pk = json.nodes[0]?.publicKey as string;
  const cases: [string, unknown][] = [
    ["not an object", 5],
    ["no nodes", { nodes: [] }],
    ["bad key hex", { nodes: [{ publicKey: "0x12", url: "http://a" }] }],
    ["key not a point", { nodes: [{ publicKey: `0x${"11".repeat(48)}`, url: "http://a" }] }],
    [
      "duplicate key",
      {
        nodes: [
          { publicKey: pk, url: "http://a" },
          { publicKey: pk, url: "http://b" },
        ],
      },
    ],
    ["no URL", { nodes: [{ publicKey: pk }] }],
    ["not http", { nodes: [{ publicKey: pk, url: "ftp://x" }] }],
  ];
  for (const [name, value] of cases)
    t.throws(() => parseNodeSet(value), { code: "CELLAR_ERR_PROTOCOL_INVALID_NODE_SET" }, name);
});

t.test("dispersal body: round trip and framing errors", async (t) => {
  // Cells need not be valid for the framing layer: it only moves bytes.
  const blobs = 2;
  const manifest = buildManifest([randomBytes(48), randomBytes(48)], 1000);
  const fake = {
    manifest,
    blobs: Array.from({ length: blobs }, () => ({
      commitment: randomBytes(48),
      cells: Array.from({ length: 128 }, () => Uint8Array.from(randomBytes(BYTES_PER_CELL))),
      proofs: Array.from({ length: 128 }, () => Uint8Array.from(randomBytes(BYTES_PER_PROOF))),
    })),
  } as unknown as EncodedBatch;
  const columns = [7, 3, 90].map((c) => columnOf(fake, c));
  const body = encodeDispersal(manifest, columns);
  const back = decodeDispersal(body);
  t.same((back.manifest as { root: string }).root, `0x${Buffer.from(manifest.root).toString("hex")}`);
  t.same(
    back.columns.map((c) => c.index),
    [3, 7, 90],
    "sorted ascending",
  );
  t.same(back.columns[1]?.cells[1], columns[0]?.cells[1]);
  const cases: [string, Uint8Array][] = [
    ["short", body.subarray(0, 6)],
    ["magic", Uint8Array.from([0, ...body.subarray(1)])],
    ["truncated manifest", body.subarray(0, 20)],
    ["truncated columns", body.subarray(0, body.length - 1)],
    ["extra bytes", Uint8Array.from([...body, 0])],
  ];
  for (const [name, bytes] of cases)
    t.throws(() => decodeDispersal(bytes), { code: "CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL" }, name);
  const jsonLength = new DataView(body.buffer).getUint32(5);
  const countAt = 9 + jsonLength;
  const zero = body.slice();
  zero[countAt] = 0;
  t.throws(() => decodeDispersal(zero), { code: "CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL" }, "no columns");
  const unordered = body.slice();
  unordered[countAt + 1] = 90;
  t.throws(() => decodeDispersal(unordered), { code: "CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL" }, "indexes out of order");
  const notJson = body.slice();
  notJson[9] = 0x7b + 1;
  t.throws(() => decodeDispersal(notJson), { code: "CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL" }, "manifest not JSON");
  t.throws(
    () => decodeDispersal(body, 10),
    { code: "CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL" },
    "manifest over the limit",
  );
});
