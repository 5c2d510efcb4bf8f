// Repair over real HTTP on loopback with real LMDB files and real KZG proofs (PROTOCOL.md §14.1):
// after a custodian leaves and another loses its disk, the network's nodes, each running repair
// passes, bring every column of the batch back to r verified holders: stand-ins adopt batches
// they were never sent (on a snapshot member's attestation), lost columns are fetched and
// verified, and a column nobody holds any more is rebuilt from 64 verified columns.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Http, NodeClient } from "@cellar/client";
import { columnOf, type EncodedBatch, encodeBatch, parseColumn, serializeColumn, verifyColumns } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { discoverBatches, Liveness, StorageNode, type StorageNodeOptions } from "@cellar/node";
import {
  buildNodeSet,
  custodyColumns,
  generateSecretKey,
  holdersTable,
  type NodeRecord,
  verifyAttestation,
} from "@cellar/protocol";
import { TEST_DISPERSER, TEST_DISPERSER_KEY } from "@cellar/test-utils/cluster";
import { fromHex, toHex } from "@cellar/utils";
import t from "tap";
import { request } from "undici";

const kzg = sharedKzg();
const domain = { chainId: 31337n, inbox: Uint8Array.from(randomBytes(20)) };
const dirs: string[] = [];
const client = new NodeClient({ disperserKey: TEST_DISPERSER_KEY, attempts: 1 });
t.teardown(async () => {
  await client.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function newNode(snapshot: () => readonly NodeRecord[], options: Partial<StorageNodeOptions> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "cellar-repair-"));
  dirs.push(dataDir);
  return new StorageNode(
    {
      dataDir,
      domain,
      dispersers: [TEST_DISPERSER],
      scrubIntervalMs: 3_600_000,
      repairCellsPerSecond: 1_000_000,
      repairGraceMs: 0,
      repairTimeoutMs: 2000,
      // One fixed snapshot: the set the batch was dispersed under, whoever joins or leaves later.
      snapshots: { latest: async () => 0n, nodesAt: async () => snapshot() },
      ...options,
    },
    { kzg },
  );
}

async function get(url: string) {
  const res = await request(url);
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) };
}

/** For every column, the live nodes serving it with every cell verified. */
async function verifiedHolders(batch: EncodedBatch, nodes: readonly StorageNode[]): Promise<number[][]> {
  const out: number[][] = [];
  for (let c = 0; c < 128; c++) {
    const holders: number[] = [];
    for (const [i, node] of nodes.entries()) {
      const res = await get(`${node.url}/v1/batches/${toHex(batch.manifest.root)}/columns/${c}`);
      if (res.status !== 200) continue;
      const column = parseColumn(new Uint8Array(res.body), c, batch.manifest.blobs.length);
      if ((await verifyColumns(batch.manifest, [column], { kzg })).length === 0) holders.push(i);
    }
    out.push(holders);
  }
  return out;
}

let snapshot: NodeRecord[] = [];
const nodes = Array.from({ length: 6 }, () => newNode(() => snapshot));
await Promise.all(nodes.map((n) => n.start()));
t.teardown(() => Promise.allSettled(nodes.map((n) => n.stop())));
const all = buildNodeSet(nodes.map((n) => ({ publicKey: n.identity.publicKey, url: n.url })));
snapshot = all.slice(0, 5);
for (const [i, node] of nodes.entries()) node.setNodes(i < 5 ? snapshot : all);

const batch = await encodeBatch(new Uint8Array(randomBytes(200_000)), { kzg });
const rootHex = toHex(batch.manifest.root);
for (const record of snapshot) {
  const columns = custodyColumns(snapshot, record.nodeId).map((c) => columnOf(batch, c));
  const result = await client.disperse(record, batch.manifest, columns, domain);
  if (!result.ok) throw new Error(`dispersal to node ${record.index} failed: ${result.reason}`);
}

t.test("with nothing lost a pass finds nothing to do", async (t) => {
  const pass = await nodes[0]?.repair();
  t.match(pass, { batches: 1, missing: 0, repaired: 0, rebuilt: 0, outstanding: 0 });
});

t.test("the batch listing pages by root and refuses a bad limit", async (t) => {
  const listed = JSON.parse((await get(`${nodes[0]?.url}/v1/batches?limit=1`)).body.toString());
  t.equal(listed.batches.length, 1);
  t.equal(listed.batches[0].root, rootHex);
  t.equal(listed.batches[0].reference, "0");
  t.same(listed.batches[0].columns, custodyColumns(snapshot, (snapshot[0] as NodeRecord).nodeId));
  t.equal(listed.next, rootHex, "a full page names where the next starts");
  const after = JSON.parse((await get(`${nodes[0]?.url}/v1/batches?after=${rootHex}`)).body.toString());
  t.same(after, { batches: [], next: null });
  const bad = await get(`${nodes[0]?.url}/v1/batches?limit=257`);
  t.equal(bad.status, 400);
  t.equal(JSON.parse(bad.body.toString()).error.code, "CELLAR_ERR_NODE_BAD_PATH");
  const notRoot = await get(`${nodes[0]?.url}/v1/batches?after=xyz`);
  t.equal(notRoot.status, 400);
});

t.test("departure and disk loss: repair restores r verified holders, rebuilding a column nobody has", async (t) => {
  // Column c's two custodians: one leaves the registry, the other loses its disk.
  const table = holdersTable({ snapshot });
  const target = table.find((h) => h.originals.length === 2) as (typeof table)[number];
  const [leaver, loser] = target.originals as [NodeRecord, NodeRecord];
  const current = all.filter((n) => n.index !== leaver.index);
  const live = nodes.filter((_, i) => i !== leaver.index);
  await nodes[leaver.index]?.stop();
  await nodes[loser.index]?.store.deleteBatch(batch.manifest.root);
  for (const node of live) node.setNodes(current);
  // A scrub-dropped cell on a third node.
  const third = live.find((n) => n.custody.size > 0 && n !== nodes[loser.index]) as StorageNode;
  const dropped = [...(await custodyColumns(snapshot, third.identity.nodeId))][0] as number;
  await third.store.dropCell(batch.manifest.root, 0, dropped);

  const before = await verifiedHolders(batch, live);
  t.same(before[target.column], [], `column ${target.column} is held by nobody`);
  const totals = { repaired: 0, rebuilt: 0 };
  for (let round = 0; round < 3; round++) {
    for (const node of live) {
      const pass = await node.repair();
      totals.repaired += pass.repaired;
      totals.rebuilt += pass.rebuilt;
    }
  }
  t.ok(totals.rebuilt >= batch.manifest.blobs.length, "the lost column was rebuilt");
  t.ok(totals.repaired > 0, "the rest was fetched from holders");
  const after = await verifiedHolders(batch, live);
  const view = holdersTable({ snapshot, current });
  for (let c = 0; c < 128; c++) {
    t.ok((after[c] as number[]).length >= 2, `column ${c} has ${(after[c] as number[]).length} verified holders`);
    const expected = [...(view[c]?.originals ?? []), ...(view[c]?.standIns ?? [])]
      .filter((n) => n.index !== leaver.index)
      .map((n) => live.indexOf(nodes[n.index] as StorageNode));
    for (const i of expected) t.ok((after[c] as number[]).includes(i), `column ${c}: holder ${i} serves it`);
  }
  // The newcomer, never sent the batch, stands in for the leaver and attests to it.
  const newcomer = nodes[5] as StorageNode;
  const adopted = newcomer.store.getBatch(batch.manifest.root);
  if (view.some((h) => h.standIns.some((n) => n.index === 5))) {
    t.ok(adopted && adopted.columns.length > 0, "the newcomer adopted its stand-in columns");
    const att = JSON.parse((await get(`${newcomer.url}/v1/batches/${rootHex}/attestation`)).body.toString());
    t.ok(verifyAttestation(newcomer.identity.publicKey, domain, batch.manifest.root, fromHex(att.signature, 96), 0n));
    t.same(att.columns, adopted?.columns);
  }
  const metrics = (await get(`${live[0]?.url}/metrics`)).body.toString();
  t.match(metrics, /cellar_node_repair_cells_missing 0/);
  t.match(metrics, /cellar_node_repair_seconds_behind 0/);
  t.match(metrics, /cellar_node_repair_passes_total [34]\b/);
  // Every node holds what it must: a further pass has nothing to do.
  for (const node of live) t.match(await node.repair(), { missing: 0, outstanding: 0 });
});

t.test("a peer serving cells that fail their proofs is not believed", async (t) => {
  // A registered impostor lists the batch and serves a column with one flipped bit.
  const key = generateSecretKey(new Uint8Array(32).fill(7));
  const served = new Set<string>();
  const server = createServer((req, res) => {
    served.add(req.url ?? "");
    const column = /\/columns\/(\d+)$/.exec(req.url ?? "");
    if (req.url?.startsWith("/v1/batches?")) {
      res.end(
        JSON.stringify({
          batches: [{ root: rootHex, reference: "0", storedAt: Date.now(), columns: [...Array(128).keys()] }],
          next: null,
        }),
      );
    } else if (column) {
      const bytes = Buffer.from(serializeColumn(columnOf(batch, Number(column[1]))));
      bytes[10] = (bytes[10] as number) ^ 1;
      res.end(bytes);
    } else {
      res.statusCode = 404;
      res.end("{}");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const port = (server.address() as { port: number }).port;
  const lone = newNode(() => [impostor, ...lonely]);
  await lone.start();
  t.teardown(() => lone.stop());
  const impostor = buildNodeSet([
    { publicKey: key.toPublicKey().toBytes(), url: `http://127.0.0.1:${port}`, index: 0 },
  ])[0] as NodeRecord;
  const lonely = buildNodeSet([{ publicKey: lone.identity.publicKey, url: lone.url, index: 1 }]);
  lone.setNodes([impostor, ...lonely]);
  const first = await lone.repair();
  t.match(first, { repaired: 0, outstanding: 128 });
  t.equal(lone.store.getBatch(batch.manifest.root), undefined, "not adopted without an attestation");
  t.ok(
    [...served].some((u) => u.endsWith("/attestation")),
    "the attestation was asked for",
  );
  t.ok(lone.isGone(impostor) === false, "a peer that answers is not gone");
  // With the batch known (one column held), every other column is asked of the impostor: refused.
  await lone.store.putBatch(batch.manifest, [columnOf(batch, 0)]);
  const second = await lone.repair();
  t.match(second, { repaired: 0, rebuilt: 0 });
  t.ok(second.outstanding > 0, "the gap stays open");
  t.same(lone.store.getBatch(batch.manifest.root)?.columns, [0], "no tampered cell stored");
  const metrics = (await get(`${lone.url}/metrics`)).body.toString();
  t.match(metrics, /cellar_node_repair_cells_rejected_total [1-9]/);
  t.match(metrics, /cellar_node_repair_seconds_behind [0-9.]+/);
});

t.test("a peer that does not answer is gone after the grace period; one answering garbage is not", async (t) => {
  const garbage = createServer((req, res) => {
    if (req.url?.includes("after=")) res.end("not json");
    else if (req.url?.startsWith("/v1/batches?"))
      res.end(JSON.stringify({ batches: [{ root: "0x12", reference: "0", storedAt: 1, columns: [] }], next: null }));
    else res.end("{}");
  });
  await new Promise<void>((resolve) => garbage.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise((resolve) => garbage.close(resolve)));
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const deadPort = (closed.address() as { port: number }).port;
  await new Promise((resolve) => closed.close(resolve));
  const keys = [8, 9].map((i) => generateSecretKey(new Uint8Array(32).fill(i)));
  const node = newNode(() => set);
  await node.start();
  t.teardown(() => node.stop());
  const set = buildNodeSet([
    { publicKey: keys[0]?.toPublicKey().toBytes() as Uint8Array, url: `http://127.0.0.1:${deadPort}`, index: 0 },
    {
      publicKey: keys[1]?.toPublicKey().toBytes() as Uint8Array,
      url: `http://127.0.0.1:${(garbage.address() as { port: number }).port}`,
      index: 1,
    },
    { publicKey: node.identity.publicKey, url: node.url, index: 2 },
  ]);
  node.setNodes(set);
  const pass = await node.repair();
  t.match(pass, { batches: 0, missing: 0 });
  t.ok(node.isGone(set[0] as NodeRecord), "the silent peer is gone (grace 0)");
  t.notOk(node.isGone(set[1] as NodeRecord), "the peer answering garbage is up");
});

t.test("adoption: paced, charged to the attester's quota, within retention, under a readable snapshot", async (t) => {
  // A and B keep every column (r = 2 of 2); A leaves, and a newcomer stands in for it everywhere.
  let pair: NodeRecord[] = [];
  const [a, b] = [newNode(() => pair), newNode(() => pair)] as [StorageNode, StorageNode];
  await Promise.all([a.start(), b.start()]);
  t.teardown(() => Promise.allSettled([a.stop(), b.stop()]));
  pair = buildNodeSet([a, b].map((n) => ({ publicKey: n.identity.publicKey, url: n.url })));
  for (const n of [a, b]) n.setNodes(pair);
  const small = await encodeBatch(new Uint8Array(randomBytes(1000)), { kzg });
  for (const record of pair) {
    const result = await client.disperse(
      record,
      small.manifest,
      [...Array(128).keys()].map((c) => columnOf(small, c)),
      domain,
    );
    t.ok(result.ok);
  }
  await a.stop();
  const join = async (options: Partial<StorageNodeOptions>, nodesAt?: () => Promise<readonly NodeRecord[]>) => {
    const node = newNode(() => pair, options);
    await node.start();
    t.teardown(() => node.stop());
    const current = [
      pair[1] as NodeRecord,
      ...buildNodeSet([{ publicKey: node.identity.publicKey, url: node.url, index: 5 }]),
    ];
    node.setNodes(current);
    if (nodesAt) (options.snapshots as { nodesAt: unknown }).nodesAt = nodesAt;
    return node;
  };
  const stingy = await join({ disperserQuotaBytes: 1000 });
  t.match(await stingy.repair(), { repaired: 0, outstanding: 128 }, "over the attester's quota: nothing adopted");
  t.equal(stingy.store.getBatch(small.manifest.root), undefined);

  const started = performance.now();
  const paced = await join({ repairCellsPerSecond: 1000 });
  t.match(await paced.repair(), { missing: 128, repaired: 128, outstanding: 0 });
  t.ok(performance.now() - started >= 100, "128 cells at 1,000 a second take at least 0.1 s");
  t.equal(paced.store.usageOf(`repair:${toHex(b.identity.publicKey)}`), 128 * 2096, "charged to the attester");
  t.same(paced.store.getBatch(small.manifest.root)?.columns, [...Array(128).keys()]);

  const expired = await join({ retentionMs: 1 });
  await new Promise((resolve) => setTimeout(resolve, 5));
  t.match(await expired.repair(), { batches: 0, missing: 0 }, "a batch past retention is not repaired");

  const unread = await join({
    snapshots: {
      latest: async () => 0n,
      nodesAt: async () => {
        throw new Error("L1 is down");
      },
    },
  });
  t.match(await unread.repair(), { batches: 1, missing: 0 }, "no snapshot, no duty: skipped");
  const aborted = await paced.repair(AbortSignal.abort());
  t.match(aborted, { missing: 0 }, "an aborted pass stops at once");
});

t.test("listings: pages followed, malformed pages and conflicting references ignored", async (t) => {
  const other = `0x${"ab".repeat(32)}`;
  const pages: Record<string, unknown> = {
    first: { batches: [{ root: rootHex, reference: "0", storedAt: 1, columns: [1, 2] }], next: other },
    second: { batches: [{ root: other, reference: "0", storedAt: Date.now() + 1e9, columns: [] }], next: null },
  };
  const bodies = [
    (url: string) => (url.includes("after=") ? pages.second : pages.first),
    () => ({ batches: [{ root: rootHex, reference: "x", storedAt: 1, columns: [] }] }),
    () => ({ batches: [{ root: rootHex, reference: "0", storedAt: "y", columns: [] }] }),
    () => ({ batches: [{ root: rootHex, reference: "0", storedAt: 1, columns: [128] }] }),
    () => ({ batches: "none" }),
    () => ({ batches: [{ root: rootHex, reference: "7", storedAt: 1, columns: [3] }], next: null }),
  ];
  const servers = await Promise.all(
    bodies.map(async (body, i) => {
      const server = createServer((req, res) => {
        if (i === 1 && req.url?.includes("limit")) res.statusCode = 200;
        res.end(JSON.stringify(body(req.url ?? "")));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      t.teardown(() => new Promise((resolve) => server.close(resolve)));
      return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    }),
  );
  const refusing = createServer((_req, res) => {
    res.statusCode = 503;
    res.end("{}");
  });
  await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise((resolve) => refusing.close(resolve)));
  const peers = buildNodeSet(
    [...servers, `http://127.0.0.1:${(refusing.address() as { port: number }).port}`].map((url, i) => ({
      publicKey: generateSecretKey(new Uint8Array(32).fill(20 + i))
        .toPublicKey()
        .toBytes(),
      url,
    })),
  );
  const http = new Http({ timeoutMs: 2000, attempts: 1 });
  t.teardown(() => http.close());
  const liveness = new Liveness(0);
  const found = await discoverBatches(peers, http, liveness, { maxPages: 4, signal: new AbortController().signal });
  t.same([...found.keys()].sort(), [rootHex, other].sort(), "both pages read");
  const mine = found.get(rootHex);
  t.same(
    mine?.listers.map((n) => n.index),
    [0],
    "listers naming another reference are not believed",
  );
  t.same([...(mine?.holders.keys() ?? [])], [1, 2]);
  t.ok((found.get(other)?.storedAt ?? Infinity) <= Date.now(), "a storage time in the future is clamped");
  for (const peer of peers) t.notOk(liveness.isGone(peer), `peer ${peer.index} answered`);
});

t.test("the background loop runs passes on its own until the node stops", async (t) => {
  let set: NodeRecord[] = [];
  const node = newNode(() => set, { repairIntervalMs: 20 });
  await node.start();
  set = buildNodeSet([{ publicKey: node.identity.publicKey, url: node.url }]);
  node.setNodes(set);
  for (let i = 0; i < 200 && node.lastRepair === undefined; i++) await new Promise((r) => setTimeout(r, 20));
  t.match(node.lastRepair, { batches: 0, missing: 0 });
  await node.stop();
});

t.test("unknown batches have no attestation; options are checked", async (t) => {
  const res = await get(`${nodes[5]?.url}/v1/batches/0x${"00".repeat(32)}/attestation`);
  t.equal(res.status, 404);
  t.throws(() => new StorageNode({ dataDir: "x", domain, repairCellsPerSecond: 0 }, { kzg }), {
    code: "CELLAR_ERR_NODE_CONFIG",
  });
  t.throws(() => new StorageNode({ dataDir: "x", domain, repairIntervalMs: -1 }, { kzg }), {
    code: "CELLAR_ERR_NODE_CONFIG",
  });
  t.throws(() => new StorageNode({ dataDir: "x", domain, repairGraceMs: -1 }, { kzg }), {
    code: "CELLAR_ERR_NODE_CONFIG",
  });
});
