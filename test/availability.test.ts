// Sample before commit: the disperser's alt-DA `/put` and `POST /v1/batches?wait=available`
// answer only once a light client has sampled the certified batch to the target confidence, say
// who vouched, and answer 503 when that does not happen in time. Real nodes, a real light node.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { buildDisperserApp, Disperser, encodeAltDaCommitment } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { DEFAULT_TARGET, LightNode } from "@cellar/light";
import { sharedErasure } from "@cellar/native";
import { buildNodeSet } from "@cellar/protocol";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";
import { fromHex } from "@cellar/utils";
import t from "tap";
import { request } from "undici";

const kzg = sharedKzg();
const erasure = sharedErasure();
const cluster = await startCluster(4, kzg);
t.teardown(() => cluster.stop());

async function serve(options: Partial<ConstructorParameters<typeof Disperser>[0]>) {
  const d = new Disperser(
    { key: TEST_DISPERSER_KEY, nodes: cluster.set, domain: TEST_DOMAIN, sampleBeforeCommit: true, ...options },
    { kzg, erasure },
  );
  const app = buildDisperserApp(d);
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(async () => {
    await app.close();
    await d.close();
  });
  return { d, url };
}

async function startLight(nodes = cluster.set) {
  const light = new LightNode({ nodes, domain: TEST_DOMAIN, intervalMs: 3_600_000 }, { kzg });
  const url = await light.listen();
  t.teardown(() => light.stop());
  return { light, url };
}

t.test("alt-DA /put answers only once the light node found the batch available", async (t) => {
  const { url: lightUrl } = await startLight();
  const { url } = await serve({ lightNodes: [lightUrl] });
  const payload = new Uint8Array(randomBytes(150_000));
  // As op-alt-da's DAClient does in generic mode: POST {url}/put with the raw bytes, read the
  // raw commitment back, later GET {url}/get/0x{hex of the commitment}.
  const put = await request(`${url}/put`, {
    method: "POST",
    body: payload,
    headers: { "content-type": "application/octet-stream" },
  });
  t.equal(put.statusCode, 200);
  const commitment = new Uint8Array(await put.body.arrayBuffer());
  t.equal(commitment.length, 34);
  const root = commitment.subarray(2);
  // By the time the batcher holds the commitment, the light node has already vouched.
  const seen = (await (
    await request(`${lightUrl}/v1/batches/0x${Buffer.from(root).toString("hex")}/availability`)
  ).body.json()) as {
    status: string;
    confidence: number;
  };
  t.equal(seen.status, "available", "the light node's own verdict");
  t.ok(seen.confidence >= DEFAULT_TARGET);
  const status = (await (await request(`${url}/v1/batches/0x${Buffer.from(root).toString("hex")}`)).body.json()) as {
    status: string;
    availability: { by: string; independent: boolean; confidence: number; at: string };
  };
  t.match(status, {
    status: "available",
    availability: { by: lightUrl, independent: true, at: /^\d{4}-/ },
  });
  t.ok(status.availability.confidence >= DEFAULT_TARGET);
  t.same(commitment, encodeAltDaCommitment(fromHex(`0x${Buffer.from(root).toString("hex")}`, 32)));
  const get = await request(`${url}/get/0x${Buffer.from(commitment).toString("hex")}`);
  t.equal(get.statusCode, 200);
  t.ok(Buffer.from(await get.body.arrayBuffer()).equals(payload), "GET /get returns the exact bytes");
  const unknown = await request(`${url}/get/0x0143${"ab".repeat(32)}`);
  t.equal(unknown.statusCode, 404, "an unknown commitment is a 404, as DAClient expects (ErrNotFound)");
  await unknown.body.dump();

  // The native route: plain posts answer at the certificate, `?wait=available` after sampling.
  const plain = (await (
    await request(`${url}/v1/batches`, { method: "POST", body: randomBytes(1000) })
  ).body.json()) as {
    status: string;
  };
  t.equal(plain.status, "certified");
  const waited = await request(`${url}/v1/batches?wait=available`, { method: "POST", body: randomBytes(1000) });
  t.match(await waited.body.json(), { status: "available", availability: { by: lightUrl } });
  const bad = await request(`${url}/v1/batches?wait=soon`, { method: "POST", body: randomBytes(10) });
  t.equal(bad.statusCode, 400);
  await bad.body.dump();
  // A repeat of an available batch is answered from the store.
  const again = await request(`${url}/put`, { method: "POST", body: payload });
  t.equal(again.statusCode, 200);
  t.same(new Uint8Array(await again.body.arrayBuffer()), commitment);
});

t.test("without a light node the disperser samples itself, and says so", async (t) => {
  const { url } = await serve({});
  const res = await request(`${url}/v1/batches?wait=available`, { method: "POST", body: randomBytes(5000) });
  t.equal(res.statusCode, 200);
  t.match(await res.body.json(), { status: "available", availability: { by: "disperser", independent: false } });
});

t.test("a batch no light client can sample in time: 503, and it stays only certified", async (t) => {
  // A light node that knows the keys but asks a server that never answers: it cannot vouch.
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    silent.closeAllConnections();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const nowhere = buildNodeSet(
    cluster.set.map((n) => ({
      publicKey: n.publicKey,
      url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    })),
  );
  const { url: lightUrl } = await startLight(nowhere);
  const { url } = await serve({ lightNodes: [lightUrl], availabilityDeadlineMs: 1500 });
  const payload = randomBytes(2000);
  const put = await request(`${url}/put`, { method: "POST", body: payload });
  t.equal(put.statusCode, 503, "the batcher's signal to retry or fall back to L1");
  t.ok(put.headers["retry-after"] !== undefined, "with Retry-After");
  t.match(await put.body.json(), { error: { code: "CELLAR_ERR_DISPERSER_NOT_AVAILABLE" } });
  const listing = (await (await request(`${url}/v1/batches`)).body.json()) as {
    batches: { status: string; availability?: unknown }[];
  };
  t.equal(listing.batches[0]?.status, "certified", "certified, never claimed available");
  t.equal(listing.batches[0]?.availability, undefined);
});
