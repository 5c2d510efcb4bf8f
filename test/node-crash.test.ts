// Durability under SIGKILL: a real `cellar node` process takes a stream of dispersals and is
// killed at random moments, at least 50 times. After every restart each batch it acknowledged is
// served whole, and no batch exists in part. Then a bit flipped in the LMDB file is never served
// and the scrub drops the cell.
import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { columnOf, type EncodedBatch, encodeBatch, serializeColumn } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { dispersalAuthHeaders, encodeDispersal, signDispersal, verifyAttestation } from "@cellar/protocol";
import { TEST_DISPERSER_KEY } from "@cellar/test-utils/cluster";
import { type NodeProcess, startNodeProcess } from "@cellar/test-utils/node-process";
import { figure, rounds } from "@cellar/test-utils/reliability";
import { fromHex, toHex } from "@cellar/utils";
import t from "tap";
import { Agent, request } from "undici";

const KILLS = rounds("kills", 50, 200);
const kzg = sharedKzg();
const domain = { chainId: 31337n, inbox: new Uint8Array(20) };
const dir = mkdtempSync(join(tmpdir(), "cellar-crash-"));
const dataDir = join(dir, "node");
const agent = new Agent({ connections: 4 });
t.teardown(async () => {
  await agent.close();
  rmSync(dir, { recursive: true, force: true });
});

const batches: EncodedBatch[] = [];
for (let i = 0; i < 24; i++)
  batches.push(await encodeBatch(new Uint8Array(randomBytes(randomInt(1, 120_000))), { kzg }));
const bodies = batches.map((b) =>
  encodeDispersal(
    b.manifest,
    Array.from({ length: 128 }, (_, c) => columnOf(b, c)),
  ),
);
const hexRoot = (b: EncodedBatch) => toHex(b.manifest.root);

async function fetchBytes(url: string): Promise<{ status: number; bytes: Buffer }> {
  const res = await request(url, { dispatcher: agent });
  return { status: res.statusCode, bytes: Buffer.from(await res.body.arrayBuffer()) };
}

/**
 * The batch's columns, byte for byte (all of them, or `sample` chosen at random); null when all
 * match, otherwise the first difference.
 */
async function servedWhole(node: NodeProcess, batch: EncodedBatch, sample = 128): Promise<string | null> {
  const manifest = await fetchBytes(`${node.url}/v1/batches/${hexRoot(batch)}/manifest`);
  if (manifest.status !== 200) return `manifest: ${manifest.status}`;
  const columns = [...Array(128).keys()].sort(() => Math.random() - 0.5).slice(0, sample);
  for (const c of columns) {
    const col = await fetchBytes(`${node.url}/v1/batches/${hexRoot(batch)}/columns/${c}`);
    if (col.status !== 200) return `column ${c}: ${col.status}`;
    if (!col.bytes.equals(serializeColumn(columnOf(batch, c)))) return `column ${c}: different bytes`;
  }
  return null;
}

/** The test disperser's authorisation to send `root` to `node`. */
function authFor(node: NodeProcess, root: Uint8Array): Record<string, string> {
  return dispersalAuthHeaders(signDispersal(TEST_DISPERSER_KEY, domain, fromHex(node.ready.nodeId, 32), root));
}

t.test(`${KILLS} SIGKILLs during a stream of dispersals lose nothing acknowledged`, async (t) => {
  const acked = new Set<number>();
  let lost = 0;
  let attempts = 0;
  let inFlightAtKill = 0;
  for (let cycle = 0; cycle < KILLS; cycle++) {
    const node = await startNodeProcess(["--data", dataDir, "--scrub-rate", "100000"], 120_000);
    // What was acknowledged before this start must all be here (8 random columns each here; every
    // column of every batch after the last restart).
    for (const i of acked) {
      const problem = await servedWhole(node, batches[i] as EncodedBatch, 8);
      if (problem !== null) {
        lost++;
        t.fail(`cycle ${cycle}: batch ${i} acknowledged earlier is not served whole (${problem})`);
      }
    }
    // Batches never acknowledged may exist, but only whole.
    for (const [i, batch] of batches.entries()) {
      if (acked.has(i)) continue;
      const m = await fetchBytes(`${node.url}/v1/batches/${hexRoot(batch)}/manifest`);
      if (m.status === 200) {
        const problem = await servedWhole(node, batch, 8);
        if (problem !== null) t.fail(`cycle ${cycle}: batch ${i} exists in part (${problem})`);
      }
    }
    let killed = false;
    // The kill waits for this cycle's first acknowledgement (an event, however slow the machine),
    // and until then the stream sends batches not yet acknowledged: every cycle adds one.
    let ackedThisCycle = false;
    let onAck = () => {};
    const acknowledged = new Promise<void>((resolve) => {
      onAck = resolve;
    });
    const stream = (async () => {
      while (!killed) {
        const unacked = [...batches.keys()].filter((k) => !acked.has(k));
        const i =
          !ackedThisCycle && unacked.length > 0
            ? (unacked[randomInt(unacked.length)] as number)
            : randomInt(batches.length);
        attempts++;
        try {
          const res = await request(`${node.url}/v1/batches/${hexRoot(batches[i] as EncodedBatch)}/columns`, {
            method: "PUT",
            body: bodies[i] as Uint8Array,
            headers: {
              "content-type": "application/octet-stream",
              ...authFor(node, (batches[i] as EncodedBatch).manifest.root),
            },
            dispatcher: agent,
          });
          const json = (await res.body.json()) as { signature?: string };
          if (res.statusCode === 200 && json.signature) {
            const sig = Buffer.from(json.signature.slice(2), "hex");
            if (
              !verifyAttestation(
                Buffer.from(node.ready.publicKey.slice(2), "hex"),
                domain,
                (batches[i] as EncodedBatch).manifest.root,
                sig,
              )
            ) {
              t.fail("an attestation that does not verify");
            }
            acked.add(i);
            ackedThisCycle = true;
            onAck();
          }
        } catch {
          if (killed) inFlightAtKill++;
        }
      }
    })();
    const waiting = new AbortController();
    const late = sleep(300_000, "late", { signal: waiting.signal }).catch(() => "acknowledged");
    t.not(await Promise.race([acknowledged.then(() => "acknowledged"), late]), "late", `cycle ${cycle}: acknowledged`);
    waiting.abort();
    // Then a random moment of the stream.
    await sleep(randomInt(0, 200));
    node.child.kill("SIGKILL");
    killed = true;
    t.equal(await node.exited, "SIGKILL", `cycle ${cycle}: killed`);
    await stream;
  }
  t.ok(
    acked.size >= Math.min(batches.length, KILLS),
    `${acked.size} distinct batches acknowledged: every cycle added one until all were (${attempts} attempts)`,
  );
  t.ok(inFlightAtKill > 0, `${inFlightAtKill} dispersals were in flight at a kill`);
  const node = await startNodeProcess(["--data", dataDir], 120_000);
  let whole = 0;
  for (const i of acked) if ((await servedWhole(node, batches[i] as EncodedBatch)) === null) whole++;
  t.equal(whole, acked.size, "after the last restart every acknowledged batch is served whole");
  figure(t, {
    area: "crashes",
    guarantee: "acknowledged batches lost 0, invalid cells served 0",
    attack: "SIGKILL of a `cellar node` process at a random moment of a stream of dispersals, then a restart",
    count: KILLS,
    observed: `${lost + acked.size - whole} lost or served wrong of ${acked.size} acknowledged (${attempts} dispersals, ${inFlightAtKill} in flight at a kill)`,
    bound: "0",
  });
  node.child.kill("SIGTERM");
  t.equal(await node.exited, 0, "a SIGTERM stops the node cleanly");
});

t.test("a bit flipped in the LMDB file is never served, and the scrub drops the cell", async (t) => {
  const flipDir = join(dir, "flip");
  // A full blob of random bytes, so cell 0/5 occurs once on disk (a short batch leaves its cells
  // all zero, alike, and a flip would hit every one of them).
  const batch = await encodeBatch(new Uint8Array(randomBytes(120_000)), { kzg });
  const body = encodeDispersal(
    batch.manifest,
    Array.from({ length: 128 }, (_, c) => columnOf(batch, c)),
  );
  let node = await startNodeProcess(["--data", flipDir], 120_000);
  const put = await request(`${node.url}/v1/batches/${hexRoot(batch)}/columns`, {
    method: "PUT",
    body,
    headers: { "content-type": "application/octet-stream", ...authFor(node, batch.manifest.root) },
    dispatcher: agent,
  });
  t.equal(put.statusCode, 200);
  await put.body.dump();
  node.child.kill("SIGTERM");
  await node.exited;

  // Flip one bit of cell 0/5 wherever its bytes sit in the file.
  const file = join(flipDir, "cells.lmdb");
  const data = readFileSync(file);
  const cell = Buffer.from(batch.blobs[0]?.cells[5] as Uint8Array);
  let flips = 0;
  for (let at = data.indexOf(cell); at !== -1; at = data.indexOf(cell, at + 1)) {
    data[at + 1000] = (data[at + 1000] as number) ^ 0x10;
    flips++;
  }
  t.equal(flips, 1, "the cell was found on disk, once");
  writeFileSync(file, data);

  node = await startNodeProcess(["--data", flipDir, "--scrub-rate", "100000"], 120_000);
  t.teardown(() => node.child.kill("SIGKILL"));
  const served = await fetchBytes(`${node.url}/v1/batches/${hexRoot(batch)}/cells/0/5`);
  t.equal(served.status, 404, "the damaged cell is not served");
  t.equal(JSON.parse(served.bytes.toString()).error.code, "CELLAR_ERR_NODE_NOT_FOUND");
  t.equal((await fetchBytes(`${node.url}/v1/batches/${hexRoot(batch)}/cells/0/6`)).status, 200, "its neighbours are");
  let dropped = false;
  for (let i = 0; i < 100 && !dropped; i++) {
    const metrics = (await fetchBytes(`${node.url}/metrics`)).bytes.toString();
    dropped = /cellar_node_scrub_cells_dropped_total 1\b/.test(metrics);
    if (!dropped) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(dropped, "the scrub at start dropped exactly that cell");
  t.equal((await fetchBytes(`${node.url}/v1/batches/${hexRoot(batch)}/columns/5`)).status, 404, "nor its column");
});
