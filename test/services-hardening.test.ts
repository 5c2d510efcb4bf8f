// The services against strangers, on real sockets and real processes: dispersals refused before
// their bodies are read, floods that meet 429/503 while other clients are served, slow and
// oversized peers cut off by deadlines and size caps, bad cells found by bisection, a certified
// batch that always decodes, and a disperser SIGKILLed mid-post that forgets nothing it answered.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { DisperserClient, NodeClient, retrieveBatch } from "@cellar/client";
import { buildManifest, type Column, columnOf, encodeBatch, verifyColumns } from "@cellar/codec";
import { buildDisperserApp, Disperser } from "@cellar/disperser";
import { type Kzg, sharedKzg } from "@cellar/kzg";
import { LightNode, sampleBatch } from "@cellar/light";
import { sharedErasure } from "@cellar/native";
import {
  buildNodeSet,
  checkCertificate,
  custodyColumns,
  dispersalAuthHeaders,
  encodeDispersal,
  generateSecretKey,
  type NodeRecord,
  parseCertificate,
  signDispersal,
} from "@cellar/protocol";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";
import { type NodeProcess, startServerProcess } from "@cellar/test-utils/node-process";
import { boundEntry, nodeSetJson } from "@cellar/test-utils/node-set";
import { figure, rounds } from "@cellar/test-utils/reliability";
import { toHex } from "@cellar/utils";
import t from "tap";
import { Agent, request } from "undici";

const kzg = sharedKzg();
const erasure = sharedErasure();
const cluster = await startCluster(4, kzg);
t.teardown(() => cluster.stop());
const node = cluster.nodes[0] as NonNullable<(typeof cluster.nodes)[0]>;
const batch = await encodeBatch(new Uint8Array(randomBytes(150_000)), { kzg });
const rootHex = toHex(batch.manifest.root);
const mine = custodyColumns(cluster.set, node.identity.nodeId).map((c) => columnOf(batch, c));

/**
 * Sends a PUT's request line and headers only (the body it announces never comes) and resolves
 * with the status line of the answer: the node must decide without the body.
 */
function headersOnly(url: string, path: string, headers: Record<string, string>): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("no answer without the body"));
    }, 10_000);
    let answer = "";
    socket.on("connect", () => {
      const lines = Object.entries({
        host: "127.0.0.1",
        "content-type": "application/octet-stream",
        "content-length": "100000000",
        ...headers,
      }).map(([k, v]) => `${k}: ${v}`);
      socket.write(`PUT ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
    });
    socket.on("data", (d) => {
      answer += d.toString();
      if (answer.includes("\r\n")) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf("\r\n")));
      }
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const authFor = (key = TEST_DISPERSER_KEY, target = node, now?: number) =>
  dispersalAuthHeaders(
    signDispersal(key, TEST_DOMAIN, target.identity.nodeId, batch.manifest.root, now === undefined ? {} : { now }),
  );

t.test("a stranger's dispersal is refused from its headers, before its body is read", async (t) => {
  const path = `/v1/batches/${rootHex}/columns`;
  const stranger = generateSecretKey(new Uint8Array(randomBytes(32)));
  t.match(await headersOnly(node.url, path, {}), /^HTTP\/1\.1 401/, "unsigned: 401");
  t.match(await headersOnly(node.url, path, authFor(stranger)), /^HTTP\/1\.1 403/, "an unknown disperser: 403");
  t.match(
    await headersOnly(node.url, path, authFor(TEST_DISPERSER_KEY, node, Date.now() - 600_000)),
    /^HTTP\/1\.1 401/,
    "expired: 401",
  );
  const other = cluster.nodes[1] as typeof node;
  t.match(
    await headersOnly(node.url, path, authFor(TEST_DISPERSER_KEY, other)),
    /^HTTP\/1\.1 401/,
    "signed for another node: 401",
  );
  const once = authFor();
  t.match(await headersOnly(node.url, path, once), /^HTTP\/1\.1 413/, "authorised, but larger than custody allows");
  t.match(await headersOnly(node.url, path, once), /^HTTP\/1\.1 401/, "the same authorisation again: 401");
  t.equal(node.store.getBatch(batch.manifest.root), undefined, "nothing stored");

  // The authorised disperser, through the client that signs each attempt.
  const client = new NodeClient({ disperserKey: TEST_DISPERSER_KEY, attempts: 1 });
  t.teardown(() => client.close());
  const self = cluster.set.find((n) => n.url === node.url) as NodeRecord;
  const result = await client.disperse(self, batch.manifest, mine, TEST_DOMAIN);
  t.equal(result.ok, true, "the authorised dispersal is stored and signed");
  const verifiesBefore = node.store.usageOf(toHex(TEST_DISPERSER_KEY.toPublicKey().toBytes())) > 0;
  t.ok(verifiesBefore, "its bytes are charged to the disperser");

  // A repeat answers from the store without reading, verifying or writing again.
  const metrics = async () => (await (await request(`${node.url}/metrics`)).body.text()).toString();
  const count = (text: string) => Number(/cellar_node_verify_seconds_count (\d+)/.exec(text)?.[1]);
  const before = count(await metrics());
  t.match(await headersOnly(node.url, path, authFor()), /^HTTP\/1\.1 200/, "a repeat is answered from its headers");
  const again = await client.disperse(self, batch.manifest, mine, TEST_DOMAIN);
  t.equal(again.ok, true, "and its attestation verifies");
  t.equal(count(await metrics()), before, "no verification for the repeats");
});

t.test("a dispersal without a content-length is counted as it streams", async (t) => {
  const target = cluster.nodes[1] as typeof node;
  const own = custodyColumns(cluster.set, target.identity.nodeId).map((c) => columnOf(batch, c));
  const sign = () =>
    dispersalAuthHeaders(signDispersal(TEST_DISPERSER_KEY, TEST_DOMAIN, target.identity.nodeId, batch.manifest.root));
  const chunked = (bytes: Uint8Array, times = 1) =>
    Readable.from(
      (function* () {
        for (let i = 0; i < times; i++)
          for (let at = 0; at < bytes.length; at += 65_536) yield Buffer.from(bytes.subarray(at, at + 65_536));
      })(),
    );
  // 200 copies of the body: more than this node's custody allows (35 MB), streamed without a length.
  const over = await request(`${target.url}/v1/batches/${rootHex}/columns`, {
    method: "PUT",
    body: chunked(encodeDispersal(batch.manifest, own), 200),
    headers: { "content-type": "application/octet-stream", ...sign() },
  }).catch((err: Error) => ({ statusCode: 0, err, body: { dump: async () => {} } }));
  t.ok(over.statusCode === 413 || over.statusCode === 0, `refused while streaming (${over.statusCode || "closed"})`);
  await over.body.dump();
  t.equal(target.store.getBatch(batch.manifest.root), undefined, "nothing stored");
  const ok = await request(`${target.url}/v1/batches/${rootHex}/columns`, {
    method: "PUT",
    body: chunked(encodeDispersal(batch.manifest, own)),
    headers: { "content-type": "application/octet-stream", ...sign() },
  });
  t.equal(ok.statusCode, 200, "the same dispersal once, streamed, is stored");
  await ok.body.dump();
});

t.test("the node's refusals come before any KZG work, and name the rule", async (t) => {
  const nodeInfo = (await (await request(`${node.url}/v1/info`)).body.json()) as {
    limits: { bodyLimit: number; authorisedDispersers: number };
  };
  t.equal(nodeInfo.limits.authorisedDispersers, 1);
  t.ok(nodeInfo.limits.bodyLimit < 256 * 128 * 2096, "the body limit follows this node's custody, not all columns");
  // A batch whose manifest claims one byte more than its frame holds: the keeper of column 0
  // refuses it before verifying anything; a certificate could never include data that fails to decode.
  const payload = new Uint8Array(randomBytes(5000));
  const honest = await encodeBatch(payload, { kzg });
  const lying = buildManifest(
    honest.blobs.map((b) => b.commitment),
    payload.length + 1,
  );
  const keeper = cluster.nodes.find((n) => n.custody.has(0)) as typeof node;
  const columns = custodyColumns(cluster.set, keeper.identity.nodeId).map((c) => columnOf(honest, c));
  const res = await request(`${keeper.url}/v1/batches/${toHex(lying.root)}/columns`, {
    method: "PUT",
    body: encodeDispersal(lying, columns),
    headers: {
      "content-type": "application/octet-stream",
      ...dispersalAuthHeaders(signDispersal(TEST_DISPERSER_KEY, TEST_DOMAIN, keeper.identity.nodeId, lying.root)),
    },
  });
  t.equal(res.statusCode, 422);
  t.match(await res.body.json(), { error: { code: "CELLAR_ERR_CODEC_SIZE_MISMATCH" } });
  t.equal(keeper.store.getBatch(lying.root), undefined);
});

t.test("bad cells are found by bisection: O(bad · log n) batch calls", async (t) => {
  const one = await encodeBatch(new Uint8Array(randomBytes(100_000)), { kzg });
  const all = Array.from({ length: 128 }, (_, c) => columnOf(one, c));
  let calls = 0;
  const counting: Pick<Kzg, "verifyCellProofBatchAsync"> = {
    verifyCellProofBatchAsync: (...args) => {
      calls++;
      return kzg.verifyCellProofBatchAsync(...args);
    },
  };
  const corrupt = (columns: Column[], which: number[]) =>
    columns.map((c) =>
      which.includes(c.index) ? { ...c, cells: c.cells.map((cell) => cell.map((b, i) => (i === 5 ? b ^ 1 : b))) } : c,
    );
  t.same(await verifyColumns(one.manifest, all, { kzg: counting, chunkBlobs: 1 }), []);
  t.equal(calls, 1, "all good: one call");
  calls = 0;
  t.same(await verifyColumns(one.manifest, corrupt(all, [77]), { kzg: counting, chunkBlobs: 1 }), [
    { blob: 0, column: 77 },
  ]);
  t.ok(calls <= 16, `one bad cell in 128 found with ${calls} batch calls (at most 16)`);
  calls = 0;
  const three = await verifyColumns(one.manifest, corrupt(all, [0, 64, 127]), { kzg: counting, chunkBlobs: 1 });
  t.same(
    three.map((b) => b.column),
    [0, 64, 127],
  );
  t.ok(calls <= 1 + 3 * 2 * 7, `three bad cells found with ${calls} batch calls`);
});

t.test("posts: a budget per client, a share per client, a bounded queue", async (t) => {
  const d = new Disperser(
    { key: TEST_DISPERSER_KEY, nodes: cluster.set, domain: TEST_DOMAIN, postConcurrency: 1, postQueue: 1 },
    { kzg, erasure },
  );
  const app = buildDisperserApp(d, { postsPerMinute: 4 });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(async () => {
    await app.close();
    await d.close();
  });
  const a = new Agent({ localAddress: "127.0.0.1" });
  const b = new Agent({ localAddress: "127.0.0.2" });
  const c = new Agent({ localAddress: "127.0.0.3" });
  t.teardown(() => Promise.all([a.close(), b.close(), c.close()]));
  const post = async (dispatcher: Agent, bytes = randomBytes(100)) => {
    const res = await request(`${url}/v1/batches`, { method: "POST", body: bytes, dispatcher });
    const json = (await res.body.json()) as { status?: string; error?: { code: string } };
    return { status: res.statusCode, json, retryAfter: res.headers["retry-after"] };
  };
  // One client floods: its budget of 4 posts a minute, then 429 with Retry-After.
  const flood: Awaited<ReturnType<typeof post>>[] = [];
  for (let i = 0; i < 7; i++) flood.push(await post(a));
  t.same(
    flood.map((r) => r.status),
    [200, 200, 200, 200, 429, 429, 429],
  );
  t.match(flood[6], { json: { error: { code: "CELLAR_ERR_SERVICE_RATE_LIMITED" } }, retryAfter: /^\d+$/ });
  // Another client is served meanwhile.
  t.match(await post(b), { status: 200, json: { status: "certified" } }, "another client's post is certified");
  // Three posts at once from three clients: one runs, one waits, the third is refused at once.
  const started = Date.now();
  const burst = await Promise.all([post(b, randomBytes(200_000)), post(c, randomBytes(200_000)), post(c)]);
  const statuses = burst.map((r) => r.status).sort();
  t.ok(statuses.includes(503) || statuses.includes(429), `a full queue refuses at once: ${statuses.join(", ")}`);
  const refused = burst.find((r) => r.status === 503 || r.status === 429);
  t.match(refused?.json, { error: { code: /CELLAR_ERR_SERVICE_(BUSY|CLIENT_BUSY)/ } });
  t.ok(refused?.retryAfter !== undefined, "with Retry-After");
  t.ok(Date.now() - started < 60_000);
  const metrics = await (await request(`${url}/metrics`)).body.text();
  t.match(metrics, /cellar_http_refused_total\{code="CELLAR_ERR_SERVICE_RATE_LIMITED"\} 3/);
});

/** A fake node: answers every request by trickling `bytes` bytes, one every `everyMs`. */
async function trickler(everyMs: number, bytes: number, status = 200): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    res.writeHead(status, { "content-type": "application/octet-stream" });
    let sent = 0;
    const timer = setInterval(() => {
      if (sent >= bytes || res.destroyed) {
        clearInterval(timer);
        res.end();
        return;
      }
      res.write(Buffer.alloc(Math.min(bytes - sent, bytes > 1_000_000 ? 1 << 20 : 1)));
      sent += bytes > 1_000_000 ? 1 << 20 : 1;
    }, everyMs);
    req.on("close", () => clearInterval(timer));
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

t.test("a trickling or oversized node is cut off by deadlines and size caps", async (t) => {
  // One byte every 200 ms, forever as far as any idle timeout can tell.
  const slow = await trickler(200, 100_000);
  const set = buildNodeSet([{ publicKey: node.identity.publicKey, url: slow.url }]);
  const self = set[0] as NodeRecord;
  const client = new NodeClient({ timeoutMs: 1000, attempts: 1 });
  t.teardown(() => client.close());
  let started = Date.now();
  await t.rejects(client.column(self, batch.manifest, 0), { code: "CELLAR_ERR_CLIENT_TIMEOUT" });
  // The trickle would last hours; a bound of a minute tells the deadline from it on a loaded machine.
  t.ok(Date.now() - started < 60_000, `one request ends at its deadline (${Date.now() - started} ms)`);

  const patient = new NodeClient({ timeoutMs: 60_000, attempts: 1 });
  t.teardown(() => patient.close());
  started = Date.now();
  await t.rejects(
    sampleBatch(batch.manifest.root, { nodes: set, client: patient, kzg, manifest: batch.manifest, deadlineMs: 1500 }),
    { code: "CELLAR_ERR_LIGHT_DEADLINE" },
  );
  t.ok(Date.now() - started < 60_000, `a sampling round ends at its deadline (${Date.now() - started} ms)`);
  started = Date.now();
  await t.rejects(
    retrieveBatch(batch.manifest.root, {
      nodes: set,
      client: patient,
      kzg,
      erasure,
      manifest: batch.manifest,
      deadlineMs: 1500,
    }),
    { code: "CELLAR_ERR_CLIENT_DEADLINE" },
  );
  t.ok(Date.now() - started < 60_000, `a retrieval ends at its deadline (${Date.now() - started} ms)`);

  // 50 MiB for a column of two blobs (4,192 bytes): cut off once past the cap.
  const big = await trickler(1, 50 * 1024 * 1024);
  const bigSet = buildNodeSet([{ publicKey: node.identity.publicKey, url: big.url }]);
  await t.rejects(patient.column(bigSet[0] as NodeRecord, batch.manifest, 0), { code: "CELLAR_ERR_CLIENT_TOO_LARGE" });
});

t.test("a light node's verdict says when it was computed and goes stale while a round is stuck", async (t) => {
  const slow = await trickler(200, 100_000);
  const set = buildNodeSet([{ publicKey: node.identity.publicKey, url: slow.url }]);
  const light = new LightNode(
    { nodes: set, domain: TEST_DOMAIN, requireCertificate: false, intervalMs: 200, roundDeadlineMs: 1500 },
    { kzg },
  );
  const url = await light.listen();
  t.teardown(() => light.stop());
  const put = await request(`${url}/v1/batches/${rootHex}`, {
    method: "PUT",
    body: "{}",
    headers: { "content-type": "application/json" },
  });
  t.equal(put.statusCode, 200);
  await put.body.dump();
  type View = { status: string; checkedAt: string | null; stale: boolean; roundInProgress: boolean };
  const view = async () => (await (await request(`${url}/v1/batches/${rootHex}/availability`)).body.json()) as View;
  t.match(await view(), { status: "sampling", checkedAt: null, roundInProgress: true });
  let v = await view();
  for (let i = 0; i < 100 && v.checkedAt === null; i++) {
    await sleep(100);
    v = await view();
  }
  t.match(v, { status: "unavailable" }, "the round that hit its deadline counts as unavailable");
  t.match(v.checkedAt, /^\d{4}-\d\d-\d\dT/, "with the time it was computed");
  // The next round is stuck too: the verdict ages past two intervals and says so.
  for (let i = 0; i < 50 && !v.stale; i++) {
    await sleep(100);
    v = await view();
  }
  t.match(v, { stale: true, roundInProgress: true }, "stale while the next round is stuck");
});

t.test("a certified batch always decodes, at every size edge", async (t) => {
  const d = new Disperser(
    { key: TEST_DISPERSER_KEY, nodes: cluster.set, domain: TEST_DOMAIN, cacheBytes: 0 },
    { kzg, erasure },
  );
  t.teardown(() => d.close());
  for (const size of [0, 1, 126_963, 126_964, 126_965, 253_940, 300_001]) {
    const payload = new Uint8Array(randomBytes(size));
    const posted = await d.post(payload);
    t.equal(posted.status, "certified", `${size} bytes certified`);
    const back = await d.data(parseCertificate(posted.certificate).root);
    t.ok(Buffer.from(back).equals(payload), `${size} bytes decode exactly`);
  }
});

t.test("a 1 GiB streamed upload is refused at the body limit without buffering it", async (t) => {
  const d = new Disperser(
    { key: TEST_DISPERSER_KEY, nodes: cluster.set, domain: TEST_DOMAIN, maxBatchBytes: 8 * 1024 * 1024 },
    { kzg, erasure },
  );
  const app = buildDisperserApp(d);
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(async () => {
    await app.close();
    await d.close();
  });
  const chunk = Buffer.alloc(1 << 20, 7);
  let sent = 0;
  const upload = new Readable({
    read() {
      if (sent >= 1024) this.push(null);
      else {
        sent++;
        this.push(chunk);
      }
    },
  });
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  let status = 0;
  let code = "";
  try {
    const res = await request(`${url}/v1/batches`, { method: "POST", body: upload });
    status = res.statusCode;
    code = ((await res.body.json()) as { error: { code: string } }).error.code;
  } catch (err) {
    // The server may close the socket as soon as it has answered: the upload then fails here.
    code = (err as { code?: string }).code ?? "closed";
  } finally {
    clearInterval(sampler);
  }
  // Either the 413 arrives, or the server closed the socket first (reset or broken pipe here).
  t.ok(status === 413 || ["UND_ERR_SOCKET", "EPIPE", "ECONNRESET"].includes(code), `refused (${status || code})`);
  if (status === 413) t.equal(code, "CELLAR_ERR_DISPERSER_TOO_LARGE");
  t.ok(sent < 1024, `the upload was cut off after ${sent} of 1024 MiB`);
  const grown = peak - baseline;
  t.ok(grown < 2 * 8 * 1024 * 1024, `resident memory grew by ${(grown / 2 ** 20).toFixed(1)} MiB (limit 16 MiB)`);
});

t.test("a disperser SIGKILLed mid-post forgets nothing it answered; a retry succeeds", async (t) => {
  const dir = t.testdir({});
  // Three of seven nodes never answer, so a post waits for a quorum it cannot reach: in flight.
  const silent = await trickler(60_000, 1);
  const mine = cluster.nodes.map((n) => boundEntry(n.identity.secretKey, n.url));
  const stalled = [
    ...mine,
    ...[1, 2, 3].map(() => boundEntry(generateSecretKey(new Uint8Array(randomBytes(32))), silent.url)),
  ];
  const good = join(dir, "nodes.json");
  const slow = join(dir, "stalled.json");
  writeFileSync(good, nodeSetJson(mine));
  writeFileSync(slow, nodeSetJson(stalled));
  const data = join(dir, "data");
  const start = (nodes: string) =>
    startServerProcess(
      "disperser",
      [
        "--nodes",
        nodes,
        "--data",
        data,
        "--chain-id",
        "31337",
        "--inbox",
        toHex(TEST_DOMAIN.inbox),
        "--deadline",
        "60",
      ],
      120_000,
    );
  let proc: NodeProcess = await start(good);
  t.teardown(() => proc.child.kill("SIGKILL"));
  const client = new DisperserClient(proc.url);
  const payloads = [randomBytes(50_000), randomBytes(130_000)];
  const certified = [];
  for (const p of payloads) certified.push(await client.post(p));
  await client.close();
  proc.child.kill("SIGKILL");
  await proc.exited;

  // Each round: restart with the stalled set, post, kill while the post waits for its quorum,
  // restart with the good set; what was certified before still is, the interrupted post is
  // failed (never half-certified), and posting it again certifies it.
  const kills = rounds("disperser_kills", 1, 20);
  let lost = 0;
  let halfCertified = 0;
  let retried = 0;
  for (let round = 0; round < kills; round++) {
    proc = await start(slow);
    const inFlight = new Uint8Array(randomBytes(70_000));
    const expected = (await encodeBatch(inFlight, { kzg })).manifest;
    void request(`${proc.url}/v1/batches`, { method: "POST", body: inFlight })
      .then((r) => r.body.dump())
      .catch(() => {});
    let state = "";
    for (let i = 0; i < 300 && state !== "dispersing"; i++) {
      await sleep(100);
      const res = await request(`${proc.url}/v1/batches/${expected.id}`);
      state = ((await res.body.json()) as { status?: string }).status ?? "";
    }
    t.equal(state, "dispersing", `round ${round}: the post is in flight`);
    proc.child.kill("SIGKILL");
    await proc.exited;

    proc = await start(good);
    const after = new DisperserClient(proc.url);
    for (const [i, before] of certified.entries()) {
      const status = await after.status(before.id);
      const same =
        status.status === "certified" &&
        JSON.stringify(status.certificate) === JSON.stringify(before.certificate) &&
        checkCertificate(parseCertificate(status.certificate), cluster.set, TEST_DOMAIN) === null;
      if (!same) lost++;
      t.ok(same, `round ${round}: batch ${i} is still certified, with the same certificate, which verifies`);
    }
    const interrupted = await after.status(expected.id);
    if (interrupted.status !== "failed" || interrupted.certificate !== undefined) halfCertified++;
    t.match(
      interrupted,
      { status: "failed", error: { code: "CELLAR_ERR_DISPERSER_INTERRUPTED" } },
      `round ${round}: never half-certified`,
    );
    t.equal(interrupted.certificate, undefined);
    const again = await after.post(inFlight);
    t.match(again, { id: expected.id, status: "certified" }, `round ${round}: posting it again succeeds`);
    const exact = Buffer.from(await after.data(expected.id)).equals(inFlight);
    t.ok(exact, `round ${round}: and it reads back exactly`);
    if (again.status === "certified" && exact) retried++;
    certified.push(again);
    await after.close();
    proc.child.kill("SIGKILL");
    await proc.exited;
  }
  figure(t, {
    area: "crashes",
    guarantee: "no half-certified batch, a retry succeeds, certificates survive",
    attack: "the disperser SIGKILLed mid-post (waiting for its quorum), restarted",
    count: kills,
    observed: `${halfCertified} half-certified, ${retried}/${kills} retries certified and exact, ${lost} certificates lost or changed`,
    bound: "0, 100%, 0",
  });
});

t.test("every service's public routes cross their limits: budget, body, listing", async (t) => {
  // A node with a budget of 30 requests a minute per address: reads past it get 429.
  const [small] = (await startCluster(1, kzg, TEST_DOMAIN, { limits: { rateLimit: { max: 30, windowMs: 60_000 } } }))
    .nodes as [typeof node];
  t.teardown(() => small.stop());
  const routes = [
    `/v1/batches/${rootHex}/cells/0/0`,
    `/v1/batches/${rootHex}/columns/0`,
    `/v1/batches/${rootHex}/manifest`,
    "/v1/info",
  ];
  const seen: number[] = [];
  for (let i = 0; i < 40; i++) {
    const res = await request(`${small.url}${routes[i % routes.length]}`);
    seen.push(res.statusCode);
    await res.body.dump();
  }
  t.equal(seen.filter((s) => s === 429).length, 10, "every read route counts against one budget: 10 of 40 refused");

  // The light node: a registration body past 64 KiB is refused before it is parsed.
  const light = new LightNode(
    { nodes: cluster.set, domain: TEST_DOMAIN, limits: { rateLimit: { max: 5, windowMs: 60_000 } } },
    { kzg },
  );
  const lightUrl = await light.listen();
  t.teardown(() => light.stop());
  const huge = await request(`${lightUrl}/v1/batches/${rootHex}`, {
    method: "PUT",
    body: JSON.stringify({ certificate: "x".repeat(70_000) }),
    headers: { "content-type": "application/json" },
  });
  t.equal(huge.statusCode, 413);
  t.match(await huge.body.json(), { error: { code: "CELLAR_ERR_LIGHT_TOO_LARGE" } });
  const bad = await request(`${lightUrl}/v1/batches/${rootHex}`, {
    method: "PUT",
    body: JSON.stringify({ certificate: { root: "nonsense" } }),
    headers: { "content-type": "application/json" },
  });
  t.equal(bad.statusCode, 400, "an unparsable certificate is a 400, not a 500");
  t.match(await bad.body.json(), { error: { code: "CELLAR_ERR_PROTOCOL_INVALID_CERTIFICATE" } });
  const lightSeen: number[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await request(`${lightUrl}/v1/batches/${rootHex}/availability`);
    lightSeen.push(res.statusCode);
    await res.body.dump();
  }
  t.ok(lightSeen.includes(429), `the light node's budget: ${lightSeen.join(", ")}`);
  t.equal((await request(`${lightUrl}/readyz`)).statusCode, 200, "ready once it has a node set");

  // The disperser: listings are capped at 500 whatever the caller asks.
  const d = new Disperser({ key: TEST_DISPERSER_KEY, nodes: cluster.set, domain: TEST_DOMAIN }, { kzg, erasure });
  const app = buildDisperserApp(d);
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(async () => {
    await app.close();
    await d.close();
  });
  await d.post(new Uint8Array(randomBytes(10)));
  const listing = (await (await request(`${url}/v1/batches?limit=100000`)).body.json()) as { batches: unknown[] };
  t.equal(listing.batches.length, 1);
  t.same(((await (await request(`${url}/readyz`)).body.json()) as { status: string }).status, "ready");
});
