// The disperser against real storage nodes on loopback: post → certificate → bytes back, quorum
// failures, forged attestations, corrupted cells, limits, and the OP Stack alt-DA routes driven
// exactly as op-alt-da's DAClient drives them.
import { randomBytes } from "node:crypto";
import { DisperserClient } from "@cellar/client";
import { columnOf, encodeBatch } from "@cellar/codec";
import { Disperser, DisperserService } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import {
  buildNodeSet,
  checkCertificate,
  custodyTable,
  generateSecretKey,
  parseCertificate,
  signAttestation,
} from "@cellar/protocol";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";
import { toHex } from "@cellar/utils";
import Fastify from "fastify";
import t from "tap";
import { request } from "undici";

const kzg = sharedKzg();
const erasure = sharedErasure();
const cluster = await startCluster(8, kzg);
t.teardown(() => cluster.stop());

async function serve(disperser: Disperser, daLayerByte?: number) {
  const service = new DisperserService(disperser, daLayerByte === undefined ? {} : { daLayerByte });
  const url = await service.start();
  return { url, close: () => service.stop() };
}

// No payload cache: every read below rebuilds from the nodes, which is what these tests check.
const disperser = new Disperser(
  { key: TEST_DISPERSER_KEY, nodes: cluster.set, domain: TEST_DOMAIN, maxBatchBytes: 4 * 1024 * 1024, cacheBytes: 0 },
  { kzg, erasure },
);
const server = await serve(disperser);
t.teardown(() => server.close());
const client = new DisperserClient(server.url);
t.teardown(() => client.close());

const payload = new Uint8Array(randomBytes(300_000));
let posted: Awaited<ReturnType<DisperserClient["post"]>>;

t.test("post → certificate → the same bytes back", async (t) => {
  posted = await client.post(payload);
  t.equal(posted.status, "certified");
  t.equal(posted.size, payload.length);
  t.equal(posted.blobs.length, 3);
  t.match(posted.id, /^bafkrwi/);
  t.ok(posted.certificate, "a certificate");
  const certificate = parseCertificate(posted.certificate);
  t.equal(
    checkCertificate(certificate, cluster.set, TEST_DOMAIN),
    null,
    "the certificate verifies against the node set",
  );
  t.same(posted.certificate?.signers, [0, 1, 2, 3, 4, 5, 6, 7], "every healthy node signed");
  t.equal(
    checkCertificate(certificate, cluster.set, { ...TEST_DOMAIN, chainId: 1n }),
    "the aggregate signature does not verify",
  );
  const back = await client.data(posted.id);
  t.ok(Buffer.from(back).equals(payload), "GET data returns the exact bytes");
  t.same((await client.status(posted.root)).certificate, posted.certificate, "status by root carries the certificate");
  // Each node holds exactly its custody columns.
  for (const node of cluster.nodes) {
    const record = node.store.getBatch(certificate.root);
    t.same(
      record?.columns,
      [...node.custody].sort((a, b) => a - b),
      `node ${node.url}: its custody columns, no more`,
    );
  }
});

t.test("posting the same bytes twice does the work once", async (t) => {
  const again = await client.post(payload);
  t.same(again, posted);
  const metrics = await (await request(`${server.url}/metrics`)).body.text();
  t.match(metrics, /cellar_disperser_batches_total\{result="repeat"\} 1/);
  t.match(metrics, /cellar_disperser_certificates_total 1/);
  t.match(metrics, /cellar_disperser_encode_seconds_count 1/);
});

t.test("a node returning a forged attestation is left out of the aggregate", async (t) => {
  // A stand-in at a registered URL that answers every dispersal with a signature of the wrong key.
  const impostor = generateSecretKey(randomBytes(32));
  const fake = Fastify();
  fake.addContentTypeParser("*", { parseAs: "buffer" }, (_r, b, done) => done(null, b));
  fake.put<{ Params: { root: string } }>("/v1/batches/:root/columns", async (req) => ({
    signature: toHex(signAttestation(impostor, TEST_DOMAIN, Buffer.from(req.params.root.slice(2), "hex"))),
  }));
  const fakeUrl = await fake.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(() => fake.close());
  const set = buildNodeSet([
    ...cluster.set.map((n) => ({ publicKey: n.publicKey, url: n.url })),
    { publicKey: generateSecretKey(randomBytes(32)).toPublicKey().toBytes(), url: fakeUrl },
  ]);
  // The honest nodes accept the larger set (their custody changes with it).
  for (const node of cluster.nodes) node.setNodes(set);
  t.teardown(() => {
    for (const node of cluster.nodes) node.setNodes(cluster.set);
  });
  const d = new Disperser({ key: TEST_DISPERSER_KEY, nodes: set, domain: TEST_DOMAIN }, { kzg, erasure });
  const res = await d.post(new Uint8Array(randomBytes(50_000)));
  await d.close();
  t.equal(res.status, "certified");
  t.notOk(res.certificate?.signers.includes(8), "the impostor's index is not in the bitmap");
  t.equal(checkCertificate(parseCertificate(res.certificate), set, TEST_DOMAIN), null, "the aggregate still verifies");
  t.match(
    await d.metrics.registry.metrics(),
    /cellar_disperser_attestations_failed_total\{reason="bad-attestation"\} 1/,
  );
});

t.test("a node serving corrupted cells is skipped; the bytes come back exact", async (t) => {
  const batch = await encodeBatch(payload, { kzg });
  // Corrupt two original columns on one of their custodians, under valid checksums. The victim is
  // the node that leads (is asked first for) the most original columns: 64 columns over 8 nodes,
  // so it leads at least 8 whatever the nodes' random keys.
  const table = custodyTable(cluster.set);
  const leads = (node: (typeof cluster.nodes)[number]) =>
    [...node.custody].filter((c) => c < 64 && table[c]?.[0]?.url === node.url);
  const victim = cluster.nodes.reduce((best, node) => (leads(node).length > leads(best).length ? node : best));
  const columns = leads(victim).slice(0, 2);
  t.equal(columns.length, 2, `the victim (${victim.url}) leads two original columns`);
  for (const c of columns) {
    const col = columnOf(batch, c);
    await victim.store.putBatch(batch.manifest, [
      { ...col, cells: col.cells.map((cell) => Uint8Array.from(cell, (b, i) => (i === 77 ? b ^ 1 : b))) },
    ]);
  }
  const back = await client.data(posted.id);
  t.ok(Buffer.from(back).equals(payload), "exact bytes despite the bad node");
  t.match(
    await disperser.metrics.registry.metrics(),
    /cellar_disperser_bad_node_answers_total\{reason="invalid-cells"\} [1-9]/,
  );
  // Heal the node for the tests that follow.
  for (const c of columns) await victim.store.putBatch(batch.manifest, [columnOf(batch, c)]);
});

t.test("a third of the nodes down: the bytes still come back", async (t) => {
  const extra = await startCluster(6, kzg);
  t.teardown(() => extra.stop());
  const d = new Disperser(
    { key: TEST_DISPERSER_KEY, nodes: extra.set, domain: TEST_DOMAIN, nodeAttempts: 1 },
    { kzg, erasure },
  );
  const s = await serve(d);
  t.teardown(() => s.close());
  const c = new DisperserClient(s.url);
  t.teardown(() => c.close());
  const bytes = new Uint8Array(randomBytes(200_000));
  const res = await c.post(bytes);
  await extra.nodes[0]?.stop();
  await extra.nodes[3]?.stop();
  t.ok(Buffer.from(await c.data(res.id)).equals(bytes), "rebuilt with 2 of 6 nodes down");
});

t.test("below quorum: 503 with a reason, nothing certified", async (t) => {
  const small = await startCluster(3, kzg);
  t.teardown(() => small.stop());
  await small.nodes[0]?.stop();
  await small.nodes[1]?.stop();
  const d = new Disperser(
    { key: TEST_DISPERSER_KEY, nodes: small.set, domain: TEST_DOMAIN, nodeAttempts: 1, nodeTimeoutMs: 2000 },
    { kzg, erasure },
  );
  const s = await serve(d);
  t.teardown(() => s.close());
  const bytes = new Uint8Array(randomBytes(10_000));
  const res = await request(`${s.url}/v1/batches`, { method: "POST", body: bytes });
  t.equal(res.statusCode, 503);
  const json = (await res.body.json()) as { error: { code: string; message: string } };
  t.equal(json.error.code, "CELLAR_ERR_DISPERSER_NO_QUORUM");
  t.match(json.error.message, /1 of 3 nodes attested holding 1 of 3 stake, 2 needed .*node 0: unreachable/);
  const batch = await encodeBatch(bytes, { kzg });
  const status = (await (await request(`${s.url}/v1/batches/${batch.manifest.id}`)).body.json()) as Record<
    string,
    unknown
  >;
  t.equal(status.status, "failed");
  t.equal(status.certificate, undefined, "no certificate, not even a partial one");
  const put = await request(`${s.url}/put/`, {
    method: "POST",
    body: bytes,
    headers: { "content-type": "application/octet-stream" },
  });
  t.equal(put.statusCode, 503, "the alt-DA /put answers 503: OP's failover signal");
  await put.body.dump();
});

t.test("limits and malformed input", async (t) => {
  const big = await request(`${server.url}/v1/batches`, { method: "POST", body: new Uint8Array(4 * 1024 * 1024 + 1) });
  t.equal(big.statusCode, 413);
  t.equal(((await big.body.json()) as { error: { code: string } }).error.code, "CELLAR_ERR_DISPERSER_TOO_LARGE");
  for (const [path, status, code] of [
    ["/v1/batches/not-an-id", 400, "CELLAR_ERR_DISPERSER_BAD_REQUEST"],
    ["/v1/batches/0x1234/data", 400, "CELLAR_ERR_DISPERSER_BAD_REQUEST"],
    [`/v1/batches/0x${"ab".repeat(32)}`, 404, "CELLAR_ERR_DISPERSER_NOT_FOUND"],
    [`/v1/batches/0x${"ab".repeat(32)}/data`, 404, "CELLAR_ERR_DISPERSER_UNAVAILABLE"],
    ["/nowhere", 404, "CELLAR_ERR_DISPERSER_NOT_FOUND"],
  ] as const) {
    const res = await request(`${server.url}${path}`);
    t.equal(res.statusCode, status, path);
    t.equal(((await res.body.json()) as { error: { code: string } }).error.code, code, path);
  }
  t.match(await (await request(`${server.url}/healthz`)).body.json(), { status: "ok", nodes: 8 });
});

t.test("OP Stack alt-DA: the routes behave as op-alt-da's DAClient expects", async (t) => {
  const batch = new Uint8Array(randomBytes(40_000));
  // DAClient.setInput: POST {url}/put/ with content-type application/octet-stream, raw body;
  // expects 200 and reads the raw commitment bytes, decoded with DecodeCommitmentData.
  const put = await request(`${server.url}/put/`, {
    method: "POST",
    body: batch,
    headers: { "content-type": "application/octet-stream" },
  });
  t.equal(put.statusCode, 200);
  t.equal(put.headers["content-type"], "application/octet-stream");
  const commitment = Buffer.from(await put.body.arrayBuffer());
  t.equal(commitment.length, 34);
  t.equal(commitment[0], 0x01, "generic commitment type");
  t.equal(commitment[1], 0x43, "Cellar's DA-layer byte, inside the [0, 127) the alt-DA spec allows");
  const encoded = await encodeBatch(batch, { kzg });
  t.ok(commitment.subarray(2).equals(Buffer.from(encoded.manifest.root)), "the payload is the batch root");
  // DAClient.GetInput: GET {url}/get/0x{hex(comm.Encode())}, where Encode() = type byte ‖ data.
  const get = await request(`${server.url}/get/0x${commitment.toString("hex")}`);
  t.equal(get.statusCode, 200);
  t.ok(Buffer.from(await get.body.arrayBuffer()).equals(batch), "the raw batch bytes");
  // POST /put without the slash works too, and the same bytes give the same commitment.
  const again = await request(`${server.url}/put`, {
    method: "POST",
    body: batch,
    headers: { "content-type": "application/octet-stream" },
  });
  t.ok(Buffer.from(await again.body.arrayBuffer()).equals(commitment));
  // Unknown but well-formed: 404 (DAClient maps it to ErrNotFound). Malformed: 400.
  const unknown = Buffer.concat([commitment.subarray(0, 2), Buffer.alloc(32, 7)]);
  const missing = await request(`${server.url}/get/0x${unknown.toString("hex")}`);
  t.equal(missing.statusCode, 404);
  await missing.body.dump();
  for (const bad of [
    "0x",
    "zz",
    `0x00ce${"11".repeat(32)}`,
    `0x0100${"11".repeat(32)}`,
    `0x01ce${"11".repeat(31)}`,
    `01ce${"11".repeat(32)}`,
  ]) {
    const res = await request(`${server.url}/get/${bad}`);
    t.equal(res.statusCode, 400, `/get/${bad.slice(0, 12)}…`);
    t.equal(((await res.body.json()) as { error: { code: string } }).error.code, "CELLAR_ERR_DISPERSER_BAD_COMMITMENT");
  }
  const empty = await request(`${server.url}/put/`, {
    method: "POST",
    body: new Uint8Array(0),
    headers: { "content-type": "application/octet-stream" },
  });
  t.equal(empty.statusCode, 400, "empty input refused");
  await empty.body.dump();
  const keccak = await request(`${server.url}/put/0x00${"aa".repeat(32)}`, { method: "POST", body: batch });
  t.equal(keccak.statusCode, 400, "precomputed keccak commitments are refused with a reason");
  await keccak.body.dump();
  // A configurable DA-layer byte.
  const other = await serve(
    new Disperser({ key: TEST_DISPERSER_KEY, nodes: cluster.set, domain: TEST_DOMAIN }, { kzg, erasure }),
    0x42,
  );
  t.teardown(() => other.close());
  const put42 = await request(`${other.url}/put/`, {
    method: "POST",
    body: batch,
    headers: { "content-type": "application/octet-stream" },
  });
  const c42 = Buffer.from(await put42.body.arrayBuffer());
  t.equal(c42[1], 0x42);
  t.equal((await request(`${other.url}/get/0x${c42.toString("hex")}`)).statusCode, 200);
});

t.test("the disperser service follows its node feed from start to stop", async (t) => {
  let push: ((nodes: readonly (typeof cluster.set)[number][]) => void) | undefined;
  let fail: ((err: unknown) => void) | undefined;
  let stopped = 0;
  const d = new Disperser(
    { key: TEST_DISPERSER_KEY, nodes: cluster.set.slice(0, 2), domain: TEST_DOMAIN },
    { kzg, erasure },
  );
  const service = new DisperserService(d, {
    nodeFeed: {
      follow(apply, onError) {
        push = apply;
        fail = onError;
        return () => stopped++;
      },
    },
  });
  t.equal(push, undefined, "nothing followed before start()");
  const url = await service.start();
  const health = await request(`${url}/healthz`);
  t.match(await health.body.json(), { nodes: 2 });
  push?.(cluster.set);
  t.equal(d.nodes.length, cluster.set.length, "new batches go to the node set the feed delivered");
  fail?.(new Error("registry unreachable"));
  t.equal(d.nodes.length, cluster.set.length, "a failure keeps it");
  await service.stop();
  t.equal(stopped, 1, "stop() ends the feed");
});
