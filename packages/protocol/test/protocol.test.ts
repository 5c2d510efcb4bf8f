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
  const binding = { operator: new Uint8Array(20).fill(0xaa), chainId: 31337n, registry: new Uint8Array(20).fill(0xbb) };
  const pop = proofOfPossession(keys[0] as blst.SecretKey, binding);
  t.ok(verifyProofOfPossession(pk, pop, binding));
  const msg = Buffer.concat([
    Buffer.from("CELLAR-POP-v2"),
    binding.operator,
    Buffer.from(`${"0".repeat(60)}7a69`, "hex"),
    binding.registry,
    pk,
  ]);
  t.ok(
    blst.verify(msg, blst.PublicKey.fromBytes(pk), blst.Signature.fromBytes(pop)),
    "PoP is a plain signature over tag, operator, chain id, registry and key",
  );
  t.notOk(verifyProofOfPossession(keys[1]?.toPublicKey().toBytes() as Uint8Array, pop, binding), "not another key's");
  t.notOk(verifyProofOfPossession(pk, pop, { ...binding, operator: new Uint8Array(20) }), "not another operator's");
  t.notOk(verifyProofOfPossession(pk, pop, { ...binding, chainId: 1n }), "not another chain's");
  t.notOk(verifyProofOfPossession(pk, pop, { ...binding, registry: new Uint8Array(20) }), "not another registry's");
  t.notOk(verifyProofOfPossession(pk, new Uint8Array(96), binding), "garbage is false, not a throw");
  t.notOk(verifyProofOfPossession(pk, pop, { ...binding, registry: new Uint8Array(3) }), "a malformed binding");
  t.throws(() => proofOfPossession(keys[0] as blst.SecretKey, { ...binding, chainId: -1n }), {
    code: "CELLAR_ERR_PROTOCOL_INVALID_DOMAIN",
  });
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
    .update("CELLAR-ATTEST-v2")
    .update(Buffer.from(`${"0".repeat(63)}a`, "hex"))
    .update(domain.inbox)
    .update(root)
    .update(Buffer.from(`${"0".repeat(61)}1c8`, "hex"))
    .digest();
  t.same(attestationMessage(domain, root, 456n), new Uint8Array(expected));
  const sig = signAttestation(keys[0] as blst.SecretKey, domain, root, 456n);
  t.equal(sig.length, 96);
  const pk = keys[0]?.toPublicKey().toBytes() as Uint8Array;
  t.ok(verifyAttestation(pk, domain, root, sig, 456n));
  t.notOk(verifyAttestation(pk, domain, root, sig, 455n), "another reference block: refused");
  t.throws(() => attestationMessage(domain, root, 1n << 64n), { code: "CELLAR_ERR_PROTOCOL_INVALID_DOMAIN" });
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
    // PROTOCOL.md §10's score, computed here rather than by the code under test.
    const score = (nodeId: Uint8Array) =>
      createHash("sha256")
        .update(Buffer.concat([nodeId, Uint8Array.of(c)]))
        .digest("hex");
    const scores = set
      .map((n) => score(n.nodeId))
      .sort()
      .reverse();
    t.same(
      holders.map((n) => score(n.nodeId)),
      scores.slice(0, 2),
      `column ${c}: the two highest scores`,
    );
    t.equal(custodyScore(holders[0]?.nodeId as Uint8Array, c).toString("hex"), scores[0], "custodyScore is that score");
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

t.test("node sets: JSON round trip with bound proofs, and refusals", async (t) => {
  const binding = { chainId: 5n, registry: new Uint8Array(20).fill(3) };
  const operator = new Uint8Array(20).fill(4);
  const withProofs = set.map((n, i) => ({
    ...n,
    operator,
    proofOfPossession: proofOfPossession(keys[i] as blst.SecretKey, { ...binding, operator }),
  }));
  const json = nodeSetToJson(withProofs, binding);
  const back = parseNodeSet(JSON.parse(JSON.stringify(json)));
  t.same(
    back.map((n) => [n.url, n.stake]),
    set.map((n) => [n.url, 1n]),
  );
  const pk = json.nodes[0]?.publicKey as string;
  const entry = json.nodes[0] as NonNullable<(typeof json.nodes)[number]>;
  const file = (nodes: unknown[], extra: Record<string, unknown> = {}) => ({ ...json, nodes, ...extra });
  const cases: [string, unknown][] = [
    ["not an object", 5],
    ["no nodes", { nodes: [] }],
    ["no chain id or registry", { nodes: json.nodes }],
    ["a bad registry", file(json.nodes, { registry: "0x12" })],
    ["bad key hex", file([{ ...entry, publicKey: "0x12" }])],
    ["key not a point", file([{ ...entry, publicKey: `0x${"11".repeat(48)}` }])],
    ["duplicate key", file([entry, { ...entry, url: "http://b" }])],
    ["no URL", file([{ ...entry, url: undefined }])],
    ["not http", file([{ ...entry, url: "ftp://x" }])],
    ["no proof of possession", file([{ publicKey: pk, url: "http://a", operator: entry.operator }])],
    ["no operator", file([{ publicKey: pk, url: "http://a", proofOfPossession: entry.proofOfPossession }])],
    ["another operator's proof", file([{ ...entry, operator: `0x${"05".repeat(20)}` }])],
    ["another chain's proof", file(json.nodes, { chainId: "6" })],
    ["another registry's proof", file(json.nodes, { registry: `0x${"09".repeat(20)}` })],
    ["a stake that is not wei", file([{ ...entry, stake: "1.5" }])],
    ["a zero stake", file([{ ...entry, stake: "0" }])],
    ["an index that is not a number", file([{ ...entry, index: "0" }])],
  ];
  for (const [name, value] of cases)
    t.throws(() => parseNodeSet(value), { code: "CELLAR_ERR_PROTOCOL_INVALID_NODE_SET" }, name);
  t.same(nodeSetToJson(set).registry, `0x${"00".repeat(20)}`, "a set without a binding names none");
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
