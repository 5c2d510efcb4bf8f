// The explorer's server side on a real Fastify server on port 0: the feed, the page's assets and
// routes, the event stream; and the page's pure helpers (confidence, manifest check) against the
// Node packages they mirror.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchIdFromRoot, buildManifest, manifestToJson } from "@cellar/codec";
import { Disperser, MemoryDisperserStore } from "@cellar/disperser";
import { DEFAULT_ASSETS_DIR, type ExplorerEvent, ExplorerFeed, registerExplorer } from "@cellar/explorer";
import { confidenceOf as lightConfidence, samplesFor as lightSamples } from "@cellar/light";
import { buildNodeSet, custodyTable, generateSecretKey } from "@cellar/protocol";
import { toHex } from "@cellar/utils";
import Fastify from "fastify";
import t from "tap";
import { request } from "undici";
import {
  confidenceOf,
  formatConfidence,
  missProbability,
  randomColumns,
  samplesFor,
  shuffled,
  uniform,
} from "../web/confidence.js";
import { batchRootOf, bytesToHex, checkManifest, hexToBytes } from "../web/manifest-check.js";

const root = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (i + n) & 0xff);
const nodes = buildNodeSet(
  Array.from({ length: 4 }, (_, i) => ({
    publicKey: generateSecretKey(new Uint8Array(32).fill(i + 1))
      .toPublicKey()
      .toBytes(),
    url: `http://127.0.0.1:${9000 + i}`,
  })),
);
const random = (out: Uint32Array) => crypto.getRandomValues(out);

t.test("the feed: encoding, then by root; settled stays; the oldest goes past the limit", async (t) => {
  const feed = new ExplorerFeed({ keep: 2 });
  const events: ExplorerEvent[] = [];
  const unsubscribe = feed.subscribe((e) => events.push(e));
  const pending = feed.encoding("sha256:aa", 1000);
  t.match(pending, { key: "sha256:aa", root: "", id: "", status: "encoding", size: 1000 });
  const dispersing = feed.update(root(1), { status: "dispersing", blobs: 1 }, "sha256:aa");
  t.match(dispersing, { key: toHex(root(1)), root: toHex(root(1)), id: batchIdFromRoot(root(1)), size: 1000 });
  t.same(
    events.map((e) => e.type),
    ["batch", "forget", "batch"],
    "the provisional entry is replaced",
  );
  t.equal(feed.get("sha256:aa"), undefined);
  feed.update(root(1), { status: "settled", settled: { txHash: "0x01", blockNumber: 3 } });
  feed.sampled(
    root(1),
    "available",
    { round: 1, confidence: 0.5, target: 0.9, samples: 1, verified: 1, failed: [], checkedAt: null, columns: [] },
    2,
  );
  t.match(feed.get(toHex(root(1)).toUpperCase().replace("0X", "0x")), {
    status: "settled",
    blobs: 2,
    settled: { txHash: "0x01" },
    sampling: { round: 1 },
  });
  feed.update(root(2), {});
  t.equal(feed.get(toHex(root(2)))?.status, "certified", "a root first seen with no status is a certified one");
  feed.sampled(root(2), "unavailable", {
    round: 1,
    confidence: 0,
    target: 0.9,
    samples: 1,
    verified: 0,
    failed: [4],
    checkedAt: null,
    columns: [{ column: 4, state: "missing" }],
  });
  t.equal(feed.get(toHex(root(2)))?.blobs, undefined);
  feed.column(root(2), 1, { column: 4, state: "fetching", node: 0 });
  t.match(events.at(-1), { type: "column", root: toHex(root(2)), round: 1, outcome: { column: 4 } });
  feed.update(root(3), { status: "certified" });
  t.same(
    feed.list().map((b) => b.root),
    [toHex(root(3)), toHex(root(2))],
    "the latest changed first; the oldest forgotten",
  );
  feed.forget("nothing");
  const count = events.length;
  unsubscribe();
  feed.update(root(3), {});
  t.equal(events.length, count, "no events after unsubscribing");
});

t.test("the routes: page, assets, network, batches, a live event stream", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cellar-explorer-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>x</title>");
  writeFileSync(join(dir, "assets", "app.js"), "export {};");
  writeFileSync(join(dir, "assets", "notes.txt"), "not served");
  const feed = new ExplorerFeed();
  const app = Fastify();
  registerExplorer(app, { source: "light", feed, nodes: () => nodes, assetsDir: dir, target: 0.99, pingMs: 20 });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  let closed = false;
  t.teardown(() => (closed ? undefined : app.close()));

  const redirect = await request(`${url}/explorer`);
  t.equal(redirect.statusCode, 302);
  t.equal(redirect.headers.location, "/explorer/");
  await redirect.body.dump();
  const page = await request(`${url}/explorer/`);
  t.equal(page.statusCode, 200);
  t.match(page.headers["content-type"], /^text\/html/);
  t.match(page.headers["content-security-policy"], /default-src 'self'.*'wasm-unsafe-eval'/);
  t.equal(await page.body.text(), "<!doctype html><title>x</title>");
  const js = await request(`${url}/explorer/assets/app.js`);
  t.match(js.headers["content-type"], /^text\/javascript/);
  await js.body.dump();
  for (const path of ["assets/notes.txt", "assets/none.js", "..%2Fpackage.json"]) {
    const res = await request(`${url}/explorer/${path}`);
    t.equal(res.statusCode, 404, `${path} is not served`);
    await res.body.dump();
  }

  const network = (await (await request(`${url}/v1/explorer/network`)).body.json()) as {
    source: string;
    target: number;
    replication: number;
    nodes: { index: number; url: string }[];
    custody: number[][];
  };
  t.match(network, { source: "light", target: 0.99, replication: 2 });
  t.same(
    network.nodes,
    nodes.map((n) => ({ index: n.index, url: n.url })),
  );
  t.same(
    network.custody,
    custodyTable(nodes, 2).map((h) => h.map((n) => n.index)),
  );

  feed.update(root(1), { status: "certified" });
  t.same(
    ((await (await request(`${url}/v1/explorer/batches`)).body.json()) as { batches: { root: string }[] }).batches.map(
      (b) => b.root,
    ),
    [toHex(root(1))],
  );

  const stream = await request(`${url}/v1/explorer/events`);
  t.match(stream.headers["content-type"], /^text\/event-stream/);
  let text = "";
  const got = new Promise<void>((resolve) => {
    stream.body.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("event: column") && text.includes(": ping")) resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 50));
  feed.update(root(2), { status: "sampling" });
  feed.column(root(2), 1, { column: 7, state: "verified", node: 1 });
  await got;
  t.match(text, /^retry: 1000\n\n/);
  const batch = /event: batch\ndata: (.*)\n\n/.exec(text)?.[1] as string;
  t.match(JSON.parse(batch), { type: "batch", batch: { root: toHex(root(2)), status: "sampling" } });
  // Closing the server ends the open stream rather than waiting for the page to leave.
  const ended = new Promise<void>((resolve) => stream.body.on("end", () => resolve()));
  await app.close();
  closed = true;
  await ended;
  t.pass("the stream ended with the server");
});

t.test("a page that closes its stream unsubscribes", async (t) => {
  const feed = new ExplorerFeed();
  const app = Fastify();
  registerExplorer(app, { source: "disperser", feed, nodes: () => nodes, assetsDir: join(tmpdir(), "no-such-dir") });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(() => app.close());
  const page = await request(`${url}/explorer/`);
  t.equal(page.statusCode, 503, "an unbuilt page says so");
  t.match(await page.body.text(), /npm run build/);
  const network = (await (await request(`${url}/v1/explorer/network`)).body.json()) as { target: number };
  t.equal(network.target, 1 - 1e-6, "the default target");
  const controller = new AbortController();
  const stream = await request(`${url}/v1/explorer/events`, { signal: controller.signal });
  stream.body.on("error", () => {});
  stream.body.resume();
  await new Promise((r) => setTimeout(r, 50));
  controller.abort();
  await new Promise((r) => setTimeout(r, 100));
  feed.update(root(1), {});
  t.pass("no write to a closed stream");
});

t.test("a disperser lists the batches its store kept from before it started", async (t) => {
  const store = new MemoryDisperserStore();
  const manifest = manifestToJson(buildManifest([new Uint8Array(48).fill(0xc0)], 10));
  const base = { id: manifest.id, payloadHash: `0x${"00".repeat(32)}`, size: 10, manifest, createdAt: 1, updatedAt: 1 };
  await store.put({
    ...base,
    root: manifest.root,
    status: "certified",
    certificate: { root: manifest.root, reference: "0", signerBitmap: "0x03", signature: "0x", signers: [0, 1] },
  });
  const other = manifestToJson(buildManifest([new Uint8Array(48).fill(0xa1)], 20));
  await store.put({
    ...base,
    ...other,
    payloadHash: `0x${"11".repeat(32)}`,
    root: other.root,
    manifest: other,
    status: "failed",
    error: { code: "CELLAR_ERR_DISPERSER_NO_QUORUM", message: "no quorum" },
    createdAt: 2,
  });
  const disperser = new Disperser(
    { nodes, domain: { chainId: 1n, inbox: new Uint8Array(20) }, store },
    { kzg: {} as never, erasure: {} as never },
  );
  t.teardown(() => disperser.close());
  await disperser.start();
  t.match(disperser.explorer.list(), [
    { root: other.root, status: "failed", error: "no quorum", blobs: 1 },
    { root: manifest.root, status: "certified", certified: { signers: [0, 1] }, size: 10 },
  ]);
});

t.test("the built page is where the package looks for it", async (t) => {
  t.match(DEFAULT_ASSETS_DIR, /packages\/explorer\/dist\/web\/$/);
});

t.test("the page's confidence rule is the light client's", async (t) => {
  for (let s = 0; s <= 70; s++) t.equal(confidenceOf(s), lightConfidence(s), `S = ${s}`);
  for (const target of [0.5, 0.9, 0.999, 1 - 1e-6, 1 - 1e-9, 1 - 1e-12])
    t.equal(samplesFor(target), lightSamples(target), `target ${target}`);
  t.equal(samplesFor(1), 64, "certainty takes 64 columns");
  t.equal(missProbability(64), 0);
  const cols = randomColumns(128, random);
  t.same(
    [...cols].sort((a, b) => a - b),
    Array.from({ length: 128 }, (_, i) => i),
    "all 128, each once",
  );
  t.equal(randomColumns(200, random).length, 128);
  t.same(shuffled([4, 7, 9], random).sort(), [4, 7, 9], "a shuffle keeps every element");
  let calls = 0;
  const biased = (out: Uint32Array) => {
    // First a word in the biased tail (rejected), then zero.
    out[0] = calls++ === 0 ? 0xffff_ffff : 0;
    return out;
  };
  t.equal(uniform(3, biased), 0, "a word past the unbiased range is drawn again");
  t.equal(calls, 2);
  t.equal(formatConfidence(0), "0");
  t.equal(formatConfidence(1), "1");
  t.equal(formatConfidence(0.5), "0.500");
  t.equal(formatConfidence(1 - 6.8e-7), "1 − 6.8×10⁻⁷");
  t.equal(formatConfidence(1 - 0.002), "1 − 2.0×10⁻³");
});

t.test("the page's manifest check agrees with the codec's", async (t) => {
  const manifest = buildManifest(
    [new Uint8Array(48).fill(0xc0), new Uint8Array(48).fill(0xa1), new Uint8Array(48).fill(0x07)],
    300_000,
  );
  const json = manifestToJson(manifest);
  t.equal(
    bytesToHex(
      batchRootOf(
        manifest.blobs.map((b) => b.versionedHash),
        manifest.size,
      ),
    ),
    toHex(manifest.root),
  );
  const checked = checkManifest(json, json.root.toUpperCase().replace("0X", "0x"));
  t.equal(checked.size, 300_000);
  t.same(
    checked.commitments.map(bytesToHex),
    json.blobs.map((b) => b.commitment),
  );
  t.same(hexToBytes("0x00ff10"), Uint8Array.of(0, 255, 16));
  t.throws(() => hexToBytes("0x0"), /not 0x-hex/);
  const bad = (patch: Record<string, unknown>, why: RegExp) =>
    t.throws(() => checkManifest({ ...json, ...patch }, json.root), why);
  bad({ blobs: [] }, /no blobs/);
  t.throws(() => checkManifest(null, json.root), /no blobs/);
  bad({ size: -1 }, /no valid size/);
  bad({ size: 299_999 }, /does not hash to the batch root/);
  bad({ blobs: [{ commitment: "0x00", versionedHash: "0x00" }] }, /not 48 bytes/);
  bad(
    { blobs: [{ ...json.blobs[0], versionedHash: json.blobs[1]?.versionedHash }, ...json.blobs.slice(1)] },
    /versioned hash does not match/,
  );
  t.throws(() => checkManifest(json, toHex(root(9))), /does not hash to the batch root/);
});
