// Bit rot: one bit flipped in each of many stored cells, in a real node's LMDB data file while
// the node is down. After the restart no damaged cell is ever served (its checksum is checked on
// every read, and the scrub drops it), and every undamaged one is served byte for byte. Then the
// node's custody repair (PROTOCOL.md §14.1) fetches what the scrub dropped from the other
// custodian, verifies it and stores it: every cell is served again, exactly.
import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import { StorageNode } from "@cellar/node";
import { buildNodeSet, type NodeRecord, parseCertificate } from "@cellar/protocol";
import { TEST_DISPERSER, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";
import { figure, rounds } from "@cellar/test-utils/reliability";
import { toHex } from "@cellar/utils";
import t from "tap";
import { request } from "undici";

const kzg = sharedKzg();
const erasure = sharedErasure();
const dataDir = mkdtempSync(join(tmpdir(), "cellar-flips-"));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

const peerDir = mkdtempSync(join(tmpdir(), "cellar-flips-peer-"));
t.teardown(() => rmSync(peerDir, { recursive: true, force: true }));
const makeNode = (dir: string, port = 0) =>
  new StorageNode(
    // No repair loop: the test runs repair passes itself, once detection has been observed.
    { dataDir: dir, domain: TEST_DOMAIN, port, scrubIntervalMs: 3_600_000, dispersers: [TEST_DISPERSER] },
    { kzg },
  );
// Two custodians of every column (two nodes, r = 2): the one whose file is damaged, and its peer.
const peer = makeNode(peerDir);
await peer.start();
t.teardown(() => peer.stop());
let set: NodeRecord[] = [];
const start = async (port = 0) => {
  const n = makeNode(dataDir, port);
  await n.start();
  set = buildNodeSet([
    { publicKey: n.identity.publicKey, url: n.url },
    { publicKey: peer.identity.publicKey, url: peer.url },
  ]);
  n.setNodes(set);
  peer.setNodes(set);
  return n;
};

t.test("bits flipped in the LMDB file: every damaged cell caught before it is served, then repaired", async (t) => {
  const flips = rounds("flips", 100, 1000);
  let node = await start();
  const port = Number(new URL(node.url).port);
  const d = new Disperser({ key: TEST_DISPERSER_KEY, nodes: set, domain: TEST_DOMAIN }, { kzg, erasure });
  // Random bytes, so that no two cells are alike on disk; enough blobs for `flips` distinct cells.
  const blobs = Math.ceil(flips / 128) + 1;
  const view = await d.post(new Uint8Array(randomBytes(blobs * 126_976 - 100)));
  await d.close();
  const root = parseCertificate(view.certificate).root;
  const hex = toHex(root);
  const cellOf = async (b: number, c: number) => {
    const res = await request(`${node.url}/v1/batches/${hex}/cells/${b}/${c}`);
    return { status: res.statusCode, bytes: Buffer.from(await res.body.arrayBuffer()) };
  };
  const originals = new Map<string, Buffer>();
  for (let b = 0; b < blobs; b++) for (let c = 0; c < 128; c++) originals.set(`${b}/${c}`, (await cellOf(b, c)).bytes);
  await node.stop();

  // One bit in each of `flips` distinct cells: anywhere in its stored value (checksum, cell, proof).
  const file = join(dataDir, "cells.lmdb");
  const data = readFileSync(file);
  const keys = [...originals.keys()].sort(() => Math.random() - 0.5).slice(0, flips);
  let placed = 0;
  for (const key of keys) {
    const at = data.indexOf(originals.get(key) as Buffer);
    if (at === -1 || data.indexOf(originals.get(key) as Buffer, at + 1) !== -1) continue;
    const offset = at - 4 + randomInt(4 + 2096);
    data[offset] = (data[offset] as number) ^ (1 << randomInt(8));
    placed++;
  }
  t.equal(placed, flips, `${placed} cells flipped, each found once on disk`);
  writeFileSync(file, data);

  node = await start(port);
  t.teardown(() => node.stop());
  let caught = 0;
  let badServed = 0;
  let goodServed = 0;
  const flipped = new Set(keys);
  for (const [key, original] of originals) {
    const [b, c] = key.split("/");
    const got = await cellOf(Number(b), Number(c));
    if (got.status === 200 && !got.bytes.equals(original)) badServed++;
    if (flipped.has(key)) {
      if (got.status === 404) caught++;
    } else if (got.status === 200 && got.bytes.equals(original)) goodServed++;
  }
  t.equal(badServed, 0, "no damaged cell served");
  t.equal(caught, flips, `${caught}/${flips} damaged cells refused (404)`);
  t.equal(goodServed, originals.size - flips, "every undamaged cell still served exactly");

  // The scrub at start drops what fails its checks; repair then fetches it from the peer.
  while (node.lastScrub === undefined) await new Promise((r) => setTimeout(r, 50));
  t.ok(node.lastScrub.dropped >= flips, `the scrub at start dropped ${node.lastScrub.dropped} cells`);
  let fetched = 0;
  let rebuilt = 0;
  for (let pass = 0; pass < 5; pass++) {
    const result = await node.repair();
    fetched += result.repaired;
    rebuilt += result.rebuilt;
    if (result.missing === 0) break;
  }
  t.ok(fetched + rebuilt >= flips, `${fetched} cells fetched from the peer, ${rebuilt} rebuilt`);
  let repaired = 0;
  let wrong = 0;
  for (const [key, original] of originals) {
    const [b, c] = key.split("/");
    const got = await cellOf(Number(b), Number(c));
    if (got.status === 200 && got.bytes.equals(original)) {
      if (flipped.has(key)) repaired++;
    } else wrong++;
  }
  t.equal(repaired, flips, `${repaired}/${flips} damaged cells served again, exactly`);
  t.equal(wrong, 0, "every cell of the batch served exactly after repair");
  figure(t, {
    area: "crashes",
    guarantee: "bit flips caught before serving, then repaired",
    attack:
      "one bit flipped in each of N stored cells of the LMDB file (checksum, cell or proof), node restarted; repair from the other custodian",
    count: flips,
    observed: `${caught}/${flips} caught (404), ${badServed} damaged cells served; ${repaired}/${flips} repaired (${fetched} cells fetched, ${rebuilt} rebuilt), served exactly`,
    bound: "100% caught, 0 served, 100% repaired",
  });
});
