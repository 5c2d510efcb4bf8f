// The light client against real storage nodes on loopback: honest networks, withheld columns
// (the observed false-accept rate against the analytic bound), nodes that lie, and nodes that
// never answer. It must never call a batch available once more than 64 columns are gone.
import { randomBytes } from "node:crypto";
import { NodeClient } from "@cellar/client";
import { columnOf, encodeBatch } from "@cellar/codec";
import { Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import {
  chooseSampleColumns,
  confidenceOf,
  DEFAULT_TARGET,
  LightNode,
  missProbability,
  sampleBatch,
  samplesFor,
  trustCertificate,
} from "@cellar/light";
import { sharedErasure } from "@cellar/native";
import { buildNodeSet, custodyTable, generateSecretKey, type NodeRecord, parseCertificate } from "@cellar/protocol";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";
import { binomialUpperBound, seededRandom, testSeed } from "@cellar/test-utils/random";
import Fastify from "fastify";
import t from "tap";
import { request } from "undici";

const kzg = sharedKzg();
const erasure = sharedErasure();
const cluster = await startCluster(8, kzg);
t.teardown(() => cluster.stop());
// Every node here answers at once (or not at all, when a test says so): a generous timeout, so a
// loaded machine is never mistaken for a node that does not answer.
const client = new NodeClient({ timeoutMs: 30_000, attempts: 1 });
t.teardown(() => client.close());

async function certified(bytes: Uint8Array) {
  const d = new Disperser({ key: TEST_DISPERSER_KEY, nodes: cluster.set, domain: TEST_DOMAIN }, { kzg, erasure });
  const posted = await d.post(bytes);
  await d.close();
  return posted;
}

t.test("the sample count and confidence formulas", async (t) => {
  t.equal(confidenceOf(0), 0, "zero samples are no evidence");
  t.equal(missProbability(1), 63 / 128);
  t.equal(missProbability(64), 0);
  const s = samplesFor(DEFAULT_TARGET);
  t.ok(missProbability(s) <= 1e-6 && missProbability(s - 1) > 1e-6, `S = ${s} is the smallest for 1 - 1e-6`);
  t.equal(samplesFor(0.5), 1, "one sample misses with probability 63/128 < 0.5");
  t.equal(samplesFor(0.52), 2);
  t.throws(() => samplesFor(1), { code: "CELLAR_ERR_LIGHT_INVALID_TARGET" });
  t.throws(() => samplesFor(0), { code: "CELLAR_ERR_LIGHT_INVALID_TARGET" });
  const cols = chooseSampleColumns(20);
  t.equal(new Set(cols).size, 20, "distinct");
  t.ok(cols.every((c) => c >= 0 && c < 128));
});

t.test("honest network: available at the target, requests spread over the nodes", async (t) => {
  const posted = await certified(new Uint8Array(randomBytes(200_000)));
  const root = trustCertificate(parseCertificate(posted.certificate), cluster.set, TEST_DOMAIN);
  const verdict = await sampleBatch(root, { nodes: cluster.set, client, kzg });
  t.equal(verdict.available, true);
  t.ok(verdict.confidence >= DEFAULT_TARGET, `confidence ${verdict.confidence}`);
  t.equal(verdict.samples, samplesFor(DEFAULT_TARGET));
  t.equal(verdict.verified, verdict.samples * 2, "every cell of every sampled column, both blobs");
  t.same(verdict.failed, []);
  t.same(verdict.strikes, []);
  const asked = Object.values(verdict.asked);
  const fair = Math.ceil(verdict.samples / cluster.nodes.length);
  t.ok(
    Math.max(...asked) <= fair + 1,
    `no node asked for more than ${fair + 1} of ${verdict.samples} columns (${asked.join(", ")})`,
  );
  t.throws(
    () =>
      trustCertificate({ ...parseCertificate(posted.certificate), root: new Uint8Array(32) }, cluster.set, TEST_DOMAIN),
    {
      code: "CELLAR_ERR_LIGHT_UNTRUSTED_ROOT",
    },
  );
});

t.test("withheld columns: the observed false-accept rate stays within the analytic bound", async (t) => {
  const bytes = new Uint8Array(randomBytes(20_000));
  const posted = await certified(bytes);
  const root = parseCertificate(posted.certificate).root;
  const batch = await encodeBatch(bytes, { kzg });
  // The column choices are seeded (and the seed logged), so a failure can be replayed.
  const seed = testSeed();
  t.comment(`seed ${seed} (CELLAR_TEST_SEED=${seed} replays this test's column choices)`);
  const random = seededRandom(seed);
  const missingSets: Record<string, number[]> = {
    "first half": Array.from({ length: 65 }, (_, i) => i),
    "second half": Array.from({ length: 65 }, (_, i) => 127 - i),
    alternate: [...Array.from({ length: 64 }, (_, i) => 2 * i), 1],
    random: chooseSampleColumns(65, random),
  };
  const target = 0.9; // a low target, so that false accepts happen often enough to count
  const s = samplesFor(target);
  const bound = missProbability(s); // chance that S samples all miss 65 missing columns
  const trials = 150;
  // A correct sampler exceeds this count of false accepts with probability below 1e-9 per pattern.
  const most = binomialUpperBound(trials, bound, 1e-9);
  for (const [pattern, missing] of Object.entries(missingSets)) {
    // Mute every custodian of the missing columns.
    for (const node of cluster.nodes) {
      for (const c of missing)
        if (node.custody.has(c)) for (let b = 0; b < batch.blobs.length; b++) await node.store.dropCell(root, b, c);
    }
    let accepted = 0;
    for (let i = 0; i < trials; i++)
      if ((await sampleBatch(root, { nodes: cluster.set, client, kzg, target, random })).available) accepted++;
    t.ok(
      accepted <= most,
      `${pattern}: ${accepted}/${trials} false accepts, at most ${most} (the bound ${bound.toFixed(3)} per trial)`,
    );
    // At the default target, never.
    for (let i = 0; i < 20; i++) {
      const verdict = await sampleBatch(root, { nodes: cluster.set, client, kzg });
      if (verdict.available) t.fail(`${pattern}: called available at the default target`);
      else if (i === 0)
        t.ok(
          verdict.failed.length > 0 && verdict.confidence === 0,
          `${pattern}: unavailable, failed columns ${verdict.failed.slice(0, 5).join(",")}…`,
        );
    }
    // Restore for the next pattern.
    for (const node of cluster.nodes) {
      const mine = [...node.custody].filter((c) => missing.includes(c)).map((c) => columnOf(batch, c));
      if (mine.length > 0) await node.store.putBatch(batch.manifest, mine);
    }
    t.equal(
      (await sampleBatch(root, { nodes: cluster.set, client, kzg })).available,
      true,
      `${pattern}: available again once restored`,
    );
  }
});

t.test("a node serving another blob's cells or flipped bits is rejected and worked around", async (t) => {
  const bytes = new Uint8Array(randomBytes(200_000));
  const posted = await certified(bytes);
  const root = parseCertificate(posted.certificate).root;
  const batch = await encodeBatch(bytes, { kzg });
  // Two liars that never hold the same column, so every column keeps one honest custodian.
  const [liar, flipper] = [cluster.nodes[1], cluster.nodes[5]];
  if (!liar || !flipper) return;
  const flipped = [...flipper.custody].filter((c) => !liar.custody.has(c));
  await liar.store.putBatch(
    batch.manifest,
    [...liar.custody].map((c) => {
      const col = columnOf(batch, c);
      return { ...col, cells: [...col.cells].reverse(), proofs: [...col.proofs].reverse() };
    }),
  );
  await flipper.store.putBatch(
    batch.manifest,
    flipped.map((c) => {
      const col = columnOf(batch, c);
      return { ...col, cells: col.cells.map((cell) => Uint8Array.from(cell, (v, i) => (i === 100 ? v ^ 4 : v))) };
    }),
  );
  let struck = 0;
  for (let i = 0; i < 5; i++) {
    const verdict = await sampleBatch(root, { nodes: cluster.set, client, kzg });
    t.equal(verdict.available, true, `round ${i}: still available through the honest custodians`);
    for (const s of verdict.strikes) {
      t.equal(s.reason, "invalid-cells");
      t.ok([1, 5].includes(s.node), "only the liars are struck");
      struck++;
    }
  }
  t.ok(struck > 0, `${struck} lies caught`);
});

t.test("a custodian that withholds is struck; a stand-in that does not hold the column is not", async (t) => {
  const posted = await certified(new Uint8Array(randomBytes(30_000)));
  const root = trustCertificate(parseCertificate(posted.certificate), cluster.set, TEST_DOMAIN);
  // Every custodian drops every column it holds (one blob): each original answers 404, and so
  // does every stand-in and spare asked after it, none of which was ever given the column.
  for (const node of cluster.nodes) for (const c of node.custody) await node.store.dropCell(root, 0, c);
  const table = custodyTable(cluster.set, 2).map((list) => new Set(list.map((n) => n.index)));
  const askedOf: [number, number][] = [];
  const verdict = await sampleBatch(root, {
    nodes: cluster.set,
    client,
    kzg,
    onColumn: (o) => {
      if (o.state === "fetching" && o.node !== undefined) askedOf.push([o.column, o.node]);
    },
  });
  t.equal(verdict.available, false);
  t.equal(verdict.blobs, 1);
  t.equal(verdict.failed.length, verdict.samples, "every sampled column failed");
  t.equal(verdict.strikes.length, verdict.samples * 2, "both custodians of each sampled column struck");
  t.ok(
    verdict.strikes.every((s) => s.reason === "CELLAR_ERR_CLIENT_HTTP" && table[s.column]?.has(s.node)),
    "each strike is a custodian's 404 for a column of its own",
  );
  const standIns = askedOf.filter(([c, n]) => !table[c]?.has(n));
  t.ok(standIns.length > 0, `${standIns.length} requests to stand-ins after the custodians, none struck`);
});

t.test("every node adversarial: unavailable, within the timeout, not a hang", async (t) => {
  const bytes = new Uint8Array(randomBytes(10_000));
  const batch = await encodeBatch(bytes, { kzg });
  const apps: { app: ReturnType<typeof Fastify>; url: string }[] = [];
  for (let i = 0; i < 4; i++) {
    const app = Fastify({ forceCloseConnections: true });
    app.get("/v1/batches/:root/manifest", async () =>
      JSON.parse(JSON.stringify((await import("@cellar/codec")).manifestToJson(batch.manifest))),
    );
    // Half hang forever, half answer garbage.
    if (i % 2 === 0) app.get("/v1/batches/:root/columns/:c", () => new Promise(() => {}));
    else
      app.get("/v1/batches/:root/columns/:c", async (_req, reply) =>
        reply.type("application/octet-stream").send(randomBytes(2096)),
      );
    apps.push({ app, url: await app.listen({ host: "127.0.0.1", port: 0 }) });
  }
  t.teardown(() => Promise.all(apps.map((a) => a.app.close())));
  const set = buildNodeSet(
    apps.map((a) => ({ publicKey: generateSecretKey(randomBytes(32)).toPublicKey().toBytes(), url: a.url })),
  );
  const quick = new NodeClient({ timeoutMs: 2_000, attempts: 1 });
  t.teardown(() => quick.close());
  // The round's own deadline is far beyond the request timeouts: a verdict (rather than
  // CELLAR_ERR_LIGHT_DEADLINE) shows each hung request was ended by its timeout.
  const verdict = await sampleBatch(batch.manifest.root, {
    nodes: set,
    client: quick,
    kzg,
    manifest: batch.manifest,
    deadlineMs: 300_000,
  });
  t.equal(verdict.available, false);
  t.equal(verdict.confidence, 0);
  t.equal(verdict.failed.length, verdict.samples, "every sampled column failed");
  const hung = new Set(set.filter((n) => apps.findIndex((a) => a.url === n.url) % 2 === 0).map((n) => n.index));
  const timedOut = verdict.strikes.filter((s) => hung.has(s.node));
  t.ok(timedOut.length > 0, `${timedOut.length} requests to the nodes that never answer`);
  t.same(
    [...new Set(timedOut.map((s) => s.reason))],
    ["CELLAR_ERR_CLIENT_TIMEOUT"],
    "each ended by its request timeout",
  );
});

t.test("the light node: register with a certificate, serve the verdict", async (t) => {
  const posted = await certified(new Uint8Array(randomBytes(50_000)));
  const light = new LightNode({ nodes: cluster.set, domain: TEST_DOMAIN, intervalMs: 3_600_000 }, { kzg });
  const url = await light.listen();
  t.teardown(() => light.stop());
  const reg = await request(`${url}/v1/batches/${posted.id}`, {
    method: "PUT",
    body: JSON.stringify({ certificate: posted.certificate }),
    headers: { "content-type": "application/json" },
  });
  t.equal(reg.statusCode, 200);
  await reg.body.dump();
  // The same certificate again: answered without verifying it again; another one is verified.
  const again = await request(`${url}/v1/batches/${posted.id}`, {
    method: "PUT",
    body: JSON.stringify({ certificate: posted.certificate }),
    headers: { "content-type": "application/json" },
  });
  t.equal(again.statusCode, 200);
  t.match(await again.body.json(), { status: /sampling|available/ });
  const forged = await request(`${url}/v1/batches/${posted.id}`, {
    method: "PUT",
    body: JSON.stringify({ certificate: { ...posted.certificate, signature: `0x${"00".repeat(96)}` } }),
    headers: { "content-type": "application/json" },
  });
  t.equal(forged.statusCode, 422, "another certificate for a tracked batch is still verified");
  await forged.body.dump();
  let view: Record<string, unknown> = {};
  for (let i = 0; i < 100 && view.status !== "available"; i++) {
    view = (await (await request(`${url}/v1/batches/${posted.id}/availability`)).body.json()) as Record<
      string,
      unknown
    >;
    if (view.status !== "available") await new Promise((r) => setTimeout(r, 50));
  }
  t.match(view, { status: "available", samples: samplesFor(DEFAULT_TARGET), failed: [], rounds: 1 });
  t.ok((view.confidence as number) >= DEFAULT_TARGET);
  const noCert = await request(`${url}/v1/batches/0x${"11".repeat(32)}`, { method: "PUT" });
  t.equal(noCert.statusCode, 422);
  t.equal(((await noCert.body.json()) as { error: { code: string } }).error.code, "CELLAR_ERR_LIGHT_UNTRUSTED_ROOT");
  const wrong = await request(`${url}/v1/batches/0x${"11".repeat(32)}`, {
    method: "PUT",
    body: JSON.stringify({ certificate: posted.certificate }),
    headers: { "content-type": "application/json" },
  });
  t.equal(wrong.statusCode, 422, "a certificate for another root");
  await wrong.body.dump();
  t.equal((await request(`${url}/v1/batches/0x${"22".repeat(32)}/availability`)).statusCode, 404);
  t.equal((await request(`${url}/v1/batches/nope/availability`)).statusCode, 400);
  t.match(await (await request(`${url}/metrics`)).body.text(), /cellar_light_rounds_total\{verdict="available"\} 1/);
  // The batch's holders now: with nobody gone, its custodians and no stand-ins (PROTOCOL.md §10.1).
  const holders = (await (await request(`${url}/v1/batches/${posted.id}/holders`)).body.json()) as {
    columns: { column: number; originals: number[]; standIns: number[]; gone: number[] }[];
  };
  t.equal(holders.columns.length, 128);
  t.same(
    holders.columns.map((h) => h.originals),
    custodyTable(cluster.set, 2).map((list) => list.map((n) => n.index)),
  );
  t.ok(holders.columns.every((h) => h.standIns.length === 0 && h.gone.length === 0));
  // A custodian leaves the registry: its columns get stand-ins.
  const leaver = cluster.set[0] as NodeRecord;
  light.setNodes(cluster.set.slice(1));
  t.teardown(() => light.setNodes(cluster.set));
  const after = (await (await request(`${url}/v1/batches/${posted.id}/holders`)).body.json()) as typeof holders;
  for (const h of after.columns)
    t.equal(h.standIns.length, h.originals.includes(leaver.index) ? 1 : 0, `column ${h.column}`);
  t.equal((await request(`${url}/v1/batches/0x${"22".repeat(32)}/holders`)).statusCode, 404);
});

t.test("with registry snapshots the light node judges and samples a batch by its certificate's snapshot", async (t) => {
  const posted = await certified(new Uint8Array(randomBytes(50_000)));
  const reference = BigInt(posted.certificate?.reference ?? "0");
  const asked: bigint[] = [];
  const snapshots = {
    latest: async () => reference,
    nodesAt: async (r: bigint) => {
      asked.push(r);
      if (r !== reference) throw new Error("no such snapshot");
      return cluster.set;
    },
  };
  // The light node's own set is the wrong one: only the snapshot makes the certificate hold.
  const light = new LightNode(
    { nodes: cluster.set.slice(0, 1), snapshots, domain: TEST_DOMAIN, intervalMs: 3_600_000 },
    { kzg },
  );
  const url = await light.listen();
  t.teardown(() => light.stop());
  const reg = await request(`${url}/v1/batches/${posted.id}`, {
    method: "PUT",
    body: JSON.stringify({ certificate: posted.certificate }),
    headers: { "content-type": "application/json" },
  });
  t.equal(reg.statusCode, 200, "the certificate holds against its snapshot");
  await reg.body.dump();
  let view: Record<string, unknown> = {};
  for (let i = 0; i < 100 && view.status !== "available"; i++) {
    view = (await (await request(`${url}/v1/batches/${posted.id}/availability`)).body.json()) as Record<
      string,
      unknown
    >;
    if (view.status !== "available") await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(view.status, "available", "sampled with the snapshot's custody");
  t.ok(asked.every((r) => r === reference));
  const elsewhere = await request(`${url}/v1/batches/${posted.id}`, {
    method: "PUT",
    body: JSON.stringify({ certificate: { ...posted.certificate, reference: String(reference + 1n) } }),
    headers: { "content-type": "application/json" },
  });
  t.equal(elsewhere.statusCode, 422, "no snapshot at that reference");
  t.match(((await elsewhere.body.json()) as { error: { message: string } }).error.message, /no registry snapshot/);
});

t.test("a light node follows its feeds from start to stop: node set, and the batches the inbox records", async (t) => {
  const posted = await certified(new Uint8Array(randomBytes(30_000)));
  let pushNodes: ((nodes: readonly (typeof cluster.set)[number][]) => void) | undefined;
  let failNodes: ((err: unknown) => void) | undefined;
  let pushBatch:
    | ((b: { root: Uint8Array; reference: bigint; txHash: string; blockNumber: bigint }) => void)
    | undefined;
  let stopped = 0;
  const light = new LightNode(
    {
      nodes: cluster.set.slice(0, 1),
      domain: TEST_DOMAIN,
      intervalMs: 3_600_000,
      nodeFeed: {
        follow(apply, onError) {
          pushNodes = apply;
          failNodes = onError;
          return () => stopped++;
        },
      },
      inboxFeed: {
        follow(apply) {
          pushBatch = apply;
          return () => stopped++;
        },
      },
    },
    { kzg },
  );
  const url = await light.start();
  t.ok(pushNodes && pushBatch, "both feeds followed once started");
  pushNodes?.(cluster.set);
  t.equal(light.nodes.length, cluster.set.length, "the node set the feed delivered");
  failNodes?.(new Error("registry unreachable"));
  t.equal(light.nodes.length, cluster.set.length, "a failure keeps it");
  const txHash = `0x${"ab".repeat(32)}`;
  pushBatch?.({
    root: Buffer.from(posted.root.slice(2), "hex"),
    reference: BigInt(posted.certificate?.reference ?? "0"),
    txHash,
    blockNumber: 7n,
  });
  let view: Record<string, unknown> = {};
  for (let i = 0; i < 600 && view.status !== "available"; i++) {
    view = (await (await request(`${url}/v1/batches/${posted.id}/availability`)).body.json()) as typeof view;
    if (view.status !== "available") await new Promise((r) => setTimeout(r, 50));
  }
  t.match(view, { status: "available", settled: { txHash, blockNumber: 7 } }, "sampled, shown settled");
  await light.stop();
  t.equal(stopped, 2, "stop() ends both feeds");
});
