// Storage nodes over real HTTP on loopback with real LMDB files: dispersal, attestation,
// serving, and every refusal, with nothing stored and nothing signed when a request is refused.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Column, columnOf, type EncodedBatch, encodeBatch, manifestToJson, serializeColumn } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { StorageNode } from "@cellar/node";
import { BYTES_PER_CELL, BYTES_PER_COLUMN_ENTRY } from "@cellar/params";
import {
  attestationMessage,
  buildNodeSet,
  custodyColumns,
  dispersalAuthHeaders,
  encodeDispersal,
  generateSecretKey,
  type NodeRecord,
  signDispersal,
  verifyAttestation,
} from "@cellar/protocol";
import { TEST_DISPERSER, TEST_DISPERSER_KEY } from "@cellar/test-utils/cluster";
import { fromHex, toHex } from "@cellar/utils";
import * as blst from "@chainsafe/blst";
import t from "tap";
import { request } from "undici";

const kzg = sharedKzg();
const domain = { chainId: 31337n, inbox: Uint8Array.from(randomBytes(20)) };
const ckzg = createRequire(import.meta.url)("c-kzg");
ckzg.loadTrustedSetup(0);

const root = (b: EncodedBatch) => toHex(b.manifest.root);
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "cellar-node-"));
  dirs.push(d);
  return d;
};

const byUrl = new Map<string, StorageNode>();

async function startNodes(n: number, opts: { maxBlobs?: number } = {}) {
  const nodes = Array.from(
    { length: n },
    () => new StorageNode({ dataDir: tempDir(), domain, dispersers: [TEST_DISPERSER], ...opts }, { kzg }),
  );
  await Promise.all(nodes.map((node) => node.start()));
  const set = buildNodeSet(nodes.map((node) => ({ publicKey: node.identity.publicKey, url: node.url })));
  for (const node of nodes) node.setNodes(set);
  for (const node of nodes) byUrl.set(node.url, node);
  return { nodes, set };
}

/** The test disperser's authorisation for sending `rootHex` to the node at `url` (none if it cannot be made). */
function authFor(url: string, rootHex: string): Record<string, string> {
  const node = byUrl.get(url);
  if (node === undefined || !/^0x[0-9a-f]{64}$/.test(rootHex)) return {};
  return dispersalAuthHeaders(signDispersal(TEST_DISPERSER_KEY, domain, node.identity.nodeId, fromHex(rootHex, 32)));
}

async function put(url: string, rootHex: string, body: Uint8Array | string, contentType = "application/octet-stream") {
  const res = await request(`${url}/v1/batches/${rootHex}/columns`, {
    method: "PUT",
    body,
    headers: { "content-type": contentType, ...authFor(url, rootHex) },
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: JSON.parse(text) };
}

async function get(url: string, path: string) {
  const res = await request(`${url}${path}`);
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, bytes, type: res.headers["content-type"] };
}

const columnsFor = (batch: EncodedBatch, set: NodeRecord[], node: StorageNode) =>
  custodyColumns(set, node.identity.nodeId).map((c) => columnOf(batch, c));

const { nodes, set } = await startNodes(4);
t.teardown(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const batch = await encodeBatch(new Uint8Array(randomBytes(200_000)), { kzg });
const other = await encodeBatch(new Uint8Array(randomBytes(200_000)), { kzg });

t.test("custody: every column has two custodians among four nodes", async (t) => {
  const counts = new Array(128).fill(0);
  for (const node of nodes) for (const c of node.custody) counts[c]++;
  t.ok(
    counts.every((n) => n === 2),
    "each column kept by exactly 2 nodes",
  );
  t.same(
    [...(nodes[0] as StorageNode).custody].sort((a, b) => a - b),
    custodyColumns(set, (nodes[0] as StorageNode).identity.nodeId),
  );
});

t.test("a dispersal is verified, stored and attested; the attestation verifies with blst", async (t) => {
  for (const node of nodes) {
    const columns = columnsFor(batch, set, node);
    const res = await put(node.url, root(batch), encodeDispersal(batch.manifest, columns));
    t.equal(res.status, 200, JSON.stringify(res.json));
    t.same(
      res.json.columns,
      columns.map((c) => c.index),
    );
    t.equal(res.json.publicKey, toHex(node.identity.publicKey));
    const sig = Buffer.from(res.json.signature.slice(2), "hex");
    t.ok(verifyAttestation(node.identity.publicKey, domain, batch.manifest.root, sig), "verifies");
    // The same check straight through blst, with the message built here.
    t.ok(
      blst.verify(
        attestationMessage(domain, batch.manifest.root),
        blst.PublicKey.fromBytes(node.identity.publicKey),
        blst.Signature.fromBytes(sig),
      ),
    );
    t.notOk(
      verifyAttestation(node.identity.publicKey, { ...domain, chainId: 1n }, batch.manifest.root, sig),
      "bound to the chain id",
    );
    t.notOk(verifyAttestation(node.identity.publicKey, domain, other.manifest.root, sig), "bound to the root");
    const again = await put(node.url, root(batch), encodeDispersal(batch.manifest, columns));
    t.same(again.json, res.json, "the same dispersal again: the same answer");
  }
});

t.test("serving: cells, columns and the manifest come back intact and verify in c-kzg", async (t) => {
  const node = nodes[1] as StorageNode;
  const mine = [...node.custody];
  const c = mine[0] as number;
  for (let b = 0; b < batch.blobs.length; b++) {
    const res = await get(node.url, `/v1/batches/${root(batch)}/cells/${b}/${c}`);
    t.equal(res.status, 200);
    t.equal(res.type, "application/octet-stream");
    t.equal(res.bytes.length, BYTES_PER_COLUMN_ENTRY);
    const blob = batch.blobs[b];
    t.ok(res.bytes.subarray(0, BYTES_PER_CELL).equals(blob?.cells[c] as Uint8Array), `cell ${b}/${c}`);
    t.ok(
      ckzg.verifyCellKzgProofBatch(
        [blob?.commitment],
        [c],
        [res.bytes.subarray(0, BYTES_PER_CELL)],
        [res.bytes.subarray(BYTES_PER_CELL)],
      ),
      "c-kzg accepts the served cell and proof",
    );
  }
  const col = await get(node.url, `/v1/batches/${batch.manifest.id}/columns/${c}`);
  t.equal(col.status, 200, "a batch id works in place of the root");
  t.ok(col.bytes.equals(serializeColumn(columnOf(batch, c))), "the column in the column-file layout");
  const manifest = await get(node.url, `/v1/batches/${root(batch)}/manifest`);
  t.same(JSON.parse(manifest.bytes.toString()), manifestToJson(batch.manifest));
  const info = JSON.parse((await get(node.url, "/v1/info")).bytes.toString());
  t.equal(info.nodeId, toHex(node.identity.nodeId));
  t.same(
    info.custody.columns,
    [...node.custody].sort((a, b) => a - b),
  );
  t.equal(info.proofOfPossession, undefined, "no unbound proof of possession is published");
  t.same(JSON.parse((await get(node.url, "/healthz")).bytes.toString()), { status: "ok" });
  const metrics = (await get(node.url, "/metrics")).bytes.toString();
  t.match(metrics, /cellar_node_cells_served_total \d+/);
  t.match(metrics, /cellar_node_stored_bytes \d+/);
  // The repeat was answered from the store: verified once, stored once, repeated once.
  t.match(metrics, /cellar_node_verify_seconds_count 1/);
  t.match(metrics, /cellar_node_dispersals_total\{result="repeat"\} 1/);
  t.match(metrics, /cellar_node_dispersals_total\{result="stored"\} 1/);
});

t.test("serving errors: 400 for malformed paths, 404 for what is not here", async (t) => {
  const node = nodes[0] as StorageNode;
  const notMine = [...Array(128).keys()].find((c) => !node.custody.has(c)) as number;
  const cases: [string, number, string][] = [
    [`/v1/batches/0x1234/cells/0/0`, 400, "CELLAR_ERR_NODE_BAD_PATH"],
    [`/v1/batches/${root(batch)}/cells/x/0`, 400, "CELLAR_ERR_NODE_BAD_PATH"],
    [`/v1/batches/${root(batch)}/cells/0/128`, 400, "CELLAR_ERR_NODE_BAD_PATH"],
    [`/v1/batches/${root(batch)}/cells/0/-1`, 400, "CELLAR_ERR_NODE_BAD_PATH"],
    [`/v1/batches/${root(batch)}/cells/9/${[...node.custody][0]}`, 404, "CELLAR_ERR_NODE_NOT_FOUND"],
    [`/v1/batches/${root(batch)}/cells/0/${notMine}`, 404, "CELLAR_ERR_NODE_NOT_FOUND"],
    [`/v1/batches/${root(other)}/cells/0/0`, 404, "CELLAR_ERR_NODE_NOT_FOUND"],
    [`/v1/batches/${root(other)}/manifest`, 404, "CELLAR_ERR_NODE_NOT_FOUND"],
    [`/v1/batches/${root(batch)}/columns/${notMine}`, 404, "CELLAR_ERR_NODE_NOT_FOUND"],
    [`/v1/nothing`, 404, "CELLAR_ERR_NODE_NOT_FOUND"],
  ];
  for (const [path, status, code] of cases) {
    const res = await get(node.url, path);
    t.equal(res.status, status, path);
    t.equal(JSON.parse(res.bytes.toString()).error.code, code, path);
  }
});

t.test("bad dispersals are refused with the right 4xx; nothing stored, nothing signed", async (t) => {
  const node = nodes[2] as StorageNode;
  const mine = columnsFor(other, set, node);
  const notMine = [...Array(128).keys()].find((c) => !node.custody.has(c)) as number;
  const swapProof = (cols: Column[]): Column[] => {
    const [first, ...rest] = cols;
    if (!first) return cols;
    return [
      { ...first, proofs: [first.proofs[1] as Uint8Array, first.proofs[0] as Uint8Array, ...first.proofs.slice(2)] },
      ...rest,
    ];
  };
  const swapBlobCells = (cols: Column[]): Column[] => {
    const [first, ...rest] = cols;
    if (!first) return cols;
    return [
      {
        ...first,
        cells: [first.cells[1] as Uint8Array, first.cells[0] as Uint8Array, ...first.cells.slice(2)],
        proofs: [first.proofs[1] as Uint8Array, first.proofs[0] as Uint8Array, ...first.proofs.slice(2)],
      },
      ...rest,
    ];
  };
  const otherBlobCell = (cols: Column[]): Column[] => {
    const [first, ...rest] = cols;
    if (!first) return cols;
    const foreign = columnOf(batch, first.index);
    return [
      {
        ...first,
        cells: [foreign.cells[0] as Uint8Array, ...first.cells.slice(1)],
        proofs: [foreign.proofs[0] as Uint8Array, ...first.proofs.slice(1)],
      },
      ...rest,
    ];
  };
  // The manifest as sent claims another size under the same root.
  const tamperedBody = encodeDispersal({ ...other.manifest, size: other.manifest.size + 1 }, mine);
  const cases: [string, string, Uint8Array | string, number, string, string?][] = [
    [
      "wrong proof",
      root(other),
      encodeDispersal(other.manifest, swapProof(mine)),
      422,
      "CELLAR_ERR_NODE_INVALID_CELLS",
    ],
    [
      "cells of two blobs swapped",
      root(other),
      encodeDispersal(other.manifest, swapBlobCells(mine)),
      422,
      // The keeper of column 0 reads blob 0's frame header first: blob 1's bytes are no frame.
      mine[0]?.index === 0 ? "CELLAR_ERR_CODEC_INVALID_FRAME" : "CELLAR_ERR_NODE_INVALID_CELLS",
    ],
    [
      "a cell of another batch",
      root(other),
      encodeDispersal(other.manifest, otherBlobCell(mine)),
      422,
      "CELLAR_ERR_NODE_INVALID_CELLS",
    ],
    ["tampered manifest", root(other), tamperedBody, 422, "CELLAR_ERR_CODEC_ROOT_MISMATCH"],
    [
      "manifest for another root",
      toHex(randomBytes(32)),
      encodeDispersal(other.manifest, mine),
      422,
      "CELLAR_ERR_CODEC_ROOT_MISMATCH",
    ],
    [
      "a column not in custody",
      root(other),
      encodeDispersal(other.manifest, [...mine, columnOf(other, notMine)]),
      403,
      "CELLAR_ERR_NODE_NOT_CUSTODIAN",
    ],
    [
      "custody incomplete",
      root(other),
      encodeDispersal(other.manifest, mine.slice(1)),
      400,
      "CELLAR_ERR_NODE_INCOMPLETE_CUSTODY",
    ],
    ["garbage bytes", root(other), new Uint8Array(randomBytes(5000)), 400, "CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL"],
    ["empty body", root(other), new Uint8Array(0), 400, "CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL"],
    ["JSON instead of bytes", root(other), "{}", 415, "CELLAR_ERR_NODE_BAD_BODY", "application/json"],
    ["malformed root", "0xnotaroot", encodeDispersal(other.manifest, mine), 400, "CELLAR_ERR_NODE_BAD_PATH"],
  ];
  for (const [name, rootHex, body, status, code, type] of cases) {
    const res = await put(node.url, rootHex, body, type);
    t.equal(res.status, status, `${name}: status`);
    t.equal(res.json.error?.code, code, `${name}: code`);
    t.match(res.json.error?.message, /\S/, `${name}: message`);
    t.equal(res.json.signature, undefined, `${name}: no signature`);
  }
  t.equal(node.store.getBatch(other.manifest.root), undefined, "nothing of the batch was stored");
  t.equal((await get(node.url, `/v1/batches/${root(other)}/manifest`)).status, 404);
  const metrics = (await get(node.url, "/metrics")).bytes.toString();
  const invalid = cases.filter((c) => c[4] === "CELLAR_ERR_NODE_INVALID_CELLS").length;
  t.match(metrics, new RegExp(`cellar_http_refused_total\\{code="CELLAR_ERR_NODE_INVALID_CELLS"\\} ${invalid}`));
});

t.test("an oversized body is refused with 413 before it is buffered", async (t) => {
  const small = new StorageNode({ dataDir: tempDir(), domain, dispersers: [TEST_DISPERSER], maxBlobs: 1 }, { kzg });
  await small.start();
  byUrl.set(small.url, small);
  t.teardown(() => small.stop());
  const body = encodeDispersal(
    batch.manifest,
    Array.from({ length: 128 }, (_, c) => columnOf(batch, c)),
  );
  const res = await put(small.url, root(batch), body);
  t.equal(res.status, 413);
  t.equal(res.json.error.code, "CELLAR_ERR_NODE_TOO_LARGE");
  t.equal(small.store.getBatch(batch.manifest.root), undefined);
  // A batch within the body limit but over the blob limit is refused by the blob count.
  const one = await encodeBatch(new Uint8Array(randomBytes(100)), { kzg });
  const two = await encodeBatch(new Uint8Array(randomBytes(130_000)), { kzg });
  t.equal(
    (
      await put(
        small.url,
        root(one),
        encodeDispersal(
          one.manifest,
          Array.from({ length: 128 }, (_, c) => columnOf(one, c)),
        ),
      )
    ).status,
    200,
  );
  const over = await put(small.url, root(two), encodeDispersal(two.manifest, [columnOf(two, 0)]));
  t.equal(over.status, 413);
  t.equal(over.json.error.code, "CELLAR_ERR_NODE_TOO_LARGE");
});

t.test("scrub: a stored cell that fails its proof or its checksum is dropped and never served", async (t) => {
  const node = new StorageNode(
    { dataDir: tempDir(), domain, dispersers: [TEST_DISPERSER], scrubCellsPerSecond: 1e6 },
    { kzg },
  );
  await node.start();
  byUrl.set(node.url, node);
  t.teardown(() => node.stop());
  const columns = Array.from({ length: 128 }, (_, c) => columnOf(batch, c));
  t.equal((await put(node.url, root(batch), encodeDispersal(batch.manifest, columns))).status, 200);
  t.same(await node.scrub(), { checked: 128 * batch.blobs.length, dropped: 0 }, "a clean store passes");
  // Write a wrong cell under a valid checksum, as silent corruption above the checksum would.
  const bad = columnOf(batch, 9);
  const cells = bad.cells.map((c) => c.slice());
  const flipped = cells[1] as Uint8Array;
  flipped[40] = (flipped[40] as number) ^ 1;
  await node.store.putBatch(batch.manifest, [{ ...bad, cells }]);
  t.equal((await get(node.url, `/v1/batches/${root(batch)}/cells/1/9`)).status, 200, "served until the scrub finds it");
  const result = await node.scrub();
  t.equal(result.dropped, 1);
  t.equal((await get(node.url, `/v1/batches/${root(batch)}/cells/1/9`)).status, 404, "never served after");
  t.equal((await get(node.url, `/v1/batches/${root(batch)}/columns/9`)).status, 404, "the column is incomplete now");
  t.equal(
    (await get(node.url, `/v1/batches/${root(batch)}/cells/0/9`)).status,
    200,
    "the good cells of the column stay",
  );
  t.match((await get(node.url, "/metrics")).bytes.toString(), /cellar_node_scrub_cells_dropped_total 1/);
  // Dispersing the batch again heals it.
  t.equal((await put(node.url, root(batch), encodeDispersal(batch.manifest, columns))).status, 200);
  t.equal((await get(node.url, `/v1/batches/${root(batch)}/cells/1/9`)).status, 200);
});

t.test("retention prunes batches older than the window", async (t) => {
  const node = new StorageNode(
    { dataDir: tempDir(), domain, dispersers: [TEST_DISPERSER], retentionMs: 60_000, pruneIntervalMs: 3_600_000 },
    { kzg },
  );
  await node.start();
  byUrl.set(node.url, node);
  t.teardown(() => node.stop());
  const columns = Array.from({ length: 128 }, (_, c) => columnOf(batch, c));
  t.equal((await put(node.url, root(batch), encodeDispersal(batch.manifest, columns))).status, 200);
  t.equal(await node.prune(Date.now() + 30_000), 0, "inside the window: kept");
  t.equal(await node.prune(Date.now() + 61_000), 1, "past the window: pruned");
  t.equal((await get(node.url, `/v1/batches/${root(batch)}/manifest`)).status, 404);
  t.equal((await get(node.url, `/v1/batches/${root(batch)}/cells/0/0`)).status, 404);
});

t.test("with registry snapshots a node attests only recent references it was active in", async (t) => {
  // A snapshot source standing in for the L1 registry: the head moves, the sets are per reference.
  let head = 100n;
  const asked: bigint[] = [];
  const snapshots = {
    latest: async () => head,
    nodesAt: async (reference: bigint) => {
      asked.push(reference);
      return reference >= 95n ? set : set.filter((n) => n.index !== 0);
    },
  };
  const node = new StorageNode(
    { dataDir: tempDir(), domain, dispersers: [TEST_DISPERSER], snapshots, referenceWindow: 10 },
    { kzg },
  );
  await node.start();
  t.teardown(() => node.stop());
  // This node is not in `set`; build a set with it in slot 0 for the recent references.
  const withMe = buildNodeSet([
    { publicKey: node.identity.publicKey, url: node.url },
    ...set.slice(1).map((n) => ({ publicKey: n.publicKey, url: n.url })),
  ]);
  snapshots.nodesAt = async (reference: bigint) => {
    asked.push(reference);
    return reference >= 95n ? withMe : withMe.slice(1);
  };
  const mine = custodyColumns(withMe, node.identity.nodeId);
  t.same(
    [...(await node.custodyAt(99n))].sort((a, b) => a - b),
    mine,
    "custody from the reference's snapshot",
  );
  await node.custodyAt(99n);
  t.equal(asked.filter((r) => r === 99n).length, 1, "a snapshot is read once");
  await t.rejects(node.custodyAt(101n), { code: "CELLAR_ERR_NODE_STALE_REFERENCE" }, "ahead of the head");
  await t.rejects(node.custodyAt(90n), { code: "CELLAR_ERR_NODE_STALE_REFERENCE" }, "older than the window");
  await t.rejects(node.custodyAt(94n), { code: "CELLAR_ERR_NODE_NOT_CUSTODIAN" }, "a snapshot it was not in");
  const body = encodeDispersal(
    batch.manifest,
    mine.map((c) => columnOf(batch, c)),
  );
  const putAt = async (reference: string) => {
    const res = await request(`${node.url}/v1/batches/${root(batch)}/columns?reference=${reference}`, {
      method: "PUT",
      body,
      headers: {
        "content-type": "application/octet-stream",
        ...dispersalAuthHeaders(signDispersal(TEST_DISPERSER_KEY, domain, node.identity.nodeId, batch.manifest.root)),
      },
    });
    return { status: res.statusCode, json: JSON.parse(await res.body.text()) };
  };
  const ok = await putAt("99");
  t.equal(ok.status, 200, JSON.stringify(ok.json));
  t.equal(ok.json.reference, "99");
  t.ok(
    verifyAttestation(
      node.identity.publicKey,
      domain,
      batch.manifest.root,
      Buffer.from(ok.json.signature.slice(2), "hex"),
      99n,
    ),
    "signed under the reference",
  );
  const repeat = await putAt("98");
  t.equal(repeat.status, 200, "a repeat answers from the store, under the reference asked");
  t.equal(repeat.json.reference, "98");
  t.equal((await putAt("nine")).json.error.code, "CELLAR_ERR_NODE_BAD_PATH");
  t.equal((await putAt("99999999999999999999")).json.error.code, "CELLAR_ERR_NODE_BAD_PATH");
  head = 200n;
  const stale = await putAt("99");
  t.equal(stale.status, 409);
  t.equal(stale.json.error.code, "CELLAR_ERR_NODE_STALE_REFERENCE");
  head = 100n;
  for (let r = 0n; r < 70n; r++) await node.custodyAt(95n + (r % 6n)).catch(() => {});
  t.pass("the snapshot cache stays bounded");
});

t.test("a node follows the feeds it is given from start to stop: node set, dispersers", async (t) => {
  const others = Array.from({ length: 3 }, () => generateSecretKey(randomBytes(32)).toPublicKey().toBytes());
  let push: ((nodes: readonly NodeRecord[]) => void) | undefined;
  let fail: ((err: unknown) => void) | undefined;
  let pushKeys: ((keys: readonly Uint8Array[]) => void) | undefined;
  let stopped = 0;
  const node = new StorageNode(
    {
      dataDir: tempDir(),
      domain,
      nodeFeed: {
        follow(apply, onError) {
          push = apply;
          fail = onError;
          return () => stopped++;
        },
      },
      disperserFeed: {
        follow(apply) {
          pushKeys = apply;
          return () => stopped++;
        },
      },
    },
    { kzg },
  );
  t.equal(push, undefined, "nothing is followed before start()");
  const url = await node.start();
  t.ok(push && pushKeys, "both feeds followed once started");
  t.equal(node.custody.size, 128, "alone, it keeps every column");
  const set = buildNodeSet([
    { publicKey: node.identity.publicKey, url },
    ...others.map((publicKey, i) => ({ publicKey, url: `http://127.0.0.1:${i + 1}` })),
  ]);
  push?.(set);
  t.equal(node.nodes.length, 4, "the node set the feed delivered");
  t.same(
    [...node.custody].sort((a, b) => a - b),
    custodyColumns(set, node.identity.nodeId),
    "custody recomputed from it",
  );
  fail?.(new Error("L1 did not answer"));
  t.equal(node.nodes.length, 4, "a failure keeps the old set");
  t.equal(node.dispersers, 0);
  pushKeys?.([TEST_DISPERSER]);
  t.equal(node.dispersers, 1, "the dispersers the feed delivered are accepted");
  await node.stop();
  t.equal(stopped, 2, "stop() ends both feeds");
});
