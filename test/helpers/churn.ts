// The churn scenario the churn test and `npm run bench:churn` run (docs/RELIABILITY.md): a real
// devnet of processes (anvil, storage nodes, a disperser, a light node) takes batches; then a
// bounded script deregisters a node on L1 and kills it, SIGKILLs another and wipes its data
// directory (keeping its key) before restarting it, registers and starts a new node, and flips a
// bit of a stored cell on a third node's disk. It measures the time until every column of every
// batch is back to r verified holders among the live registered nodes, and the bytes repair moved.
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { freePorts } from "@cellar/cli";
import { DisperserClient, fetchManifest, NodeClient, retrieveBatch } from "@cellar/client";
import { type BatchManifest, parseColumn, verifyColumns } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { type Address, deregisterNode, readNodeSet, registerNode } from "@cellar/l1";
import { sampleBatch } from "@cellar/light";
import { sharedErasure } from "@cellar/native";
import { BYTES_PER_COLUMN_ENTRY } from "@cellar/params";
import { generateSecretKey, type NodeRecord, parseCertificate } from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import { request } from "undici";
import { type DevnetProcess, startDevnetProcess, waitGone } from "./devnet-process.js";
import { type NodeProcess, startNodeProcess } from "./node-process.js";

export interface ChurnOptions {
  readonly dir: string;
  readonly nodes: number;
  /** Sizes of the batches posted before the churn, in bytes. */
  readonly batchBytes: readonly number[];
  /** Longest wait for repair to finish, in ms. */
  readonly repairDeadlineMs: number;
  /** The nodes' `--repair-grace`, in seconds: how long a killed node may be away before others stand in. */
  readonly graceSeconds?: number;
  readonly log?: (line: string) => void;
}

export interface ChurnReport {
  readonly nodes: number;
  readonly graceSeconds: number;
  readonly batches: number;
  readonly blobs: number;
  /** Seconds the batches took to post and certify (the reference). */
  readonly postSeconds: number;
  /**
   * Seconds from the first churn event until every column of every batch had r verified holders
   * (the restarts of the wiped and the new node included).
   */
  readonly repairSeconds: number;
  /** Seconds the churn script itself took (L1 transactions, kills, the two node starts). */
  readonly churnSeconds: number;
  /** Cells (and proofs) the churn took away from their holders, as bytes: the least repair must move. */
  readonly lostBytes: number;
  /** Bytes of cells and proofs the live nodes' repair received (their metrics). */
  readonly movedBytes: number;
  readonly repaired: number;
  readonly rebuilt: number;
  readonly rejected: number;
  /** After repair: every batch retrieved byte for byte, every batch sampled available. */
  readonly retrievedExact: boolean;
  readonly sampledAvailable: boolean;
  /** Cells served by a holder that failed their proof, in the final sweep (must be 0). */
  readonly badCellsServed: number;
  /** The light node's holders view of the first batch: columns with stand-ins listed. */
  readonly columnsWithStandIns: number;
}

const kzg = sharedKzg({ precompute: false });

async function getBytes(url: string): Promise<{ status: number; body: Buffer }> {
  const res = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) };
}

/** Flips one bit inside the first stored copy of `needle` in `file`; whether it was found. */
function flipBitOf(file: string, needle: Uint8Array): boolean {
  const bytes = readFileSync(file);
  const at = bytes.indexOf(Buffer.from(needle));
  if (at < 0) return false;
  const fd = openSync(file, "r+");
  try {
    const one = Buffer.alloc(1);
    readSync(fd, one, 0, 1, at + 100);
    one[0] = (one[0] as number) ^ 0x10;
    writeSync(fd, one, 0, 1, at + 100);
  } finally {
    closeSync(fd);
  }
  return true;
}

async function metricSum(urls: readonly string[], name: string): Promise<number> {
  let total = 0;
  for (const url of urls) {
    try {
      const text = (await getBytes(`${url}/metrics`)).body.toString();
      const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
      total += m ? Number(m[1]) : 0;
    } catch {
      // A node that is down has nothing to add.
    }
  }
  return total;
}

interface Posted {
  readonly id: string;
  readonly root: Uint8Array;
  readonly reference: bigint;
  readonly manifest: BatchManifest;
  readonly payload: Uint8Array;
}

/**
 * Per batch and column, the live nodes that list the column as held (`GET /v1/batches`), by url.
 * Cheap enough to poll.
 */
async function listedHolders(live: readonly NodeRecord[]): Promise<Map<string, Map<number, string[]>>> {
  const out = new Map<string, Map<number, string[]>>();
  await Promise.all(
    live.map(async (node) => {
      try {
        const res = await getBytes(`${node.url}/v1/batches`);
        if (res.status !== 200) return;
        const { batches } = JSON.parse(res.body.toString()) as { batches: { root: string; columns: number[] }[] };
        for (const b of batches) {
          const columns = out.get(b.root) ?? new Map<number, string[]>();
          for (const c of b.columns) columns.set(c, [...(columns.get(c) ?? []), node.url]);
          out.set(b.root, columns);
        }
      } catch {
        // Down: holds nothing for now.
      }
    }),
  );
  return out;
}

/** Whether every column of every batch is listed by at least `r` live nodes. */
function complete(listed: Map<string, Map<number, string[]>>, posted: readonly Posted[], r: number): boolean {
  return posted.every((p) => {
    const columns = listed.get(toHex(p.root));
    return (
      columns !== undefined && Array.from({ length: 128 }, (_, c) => c).every((c) => (columns.get(c)?.length ?? 0) >= r)
    );
  });
}

/** Fetches every listed column from every listed holder and verifies it; the count of cells failing. */
async function verifySweep(listed: Map<string, Map<number, string[]>>, posted: readonly Posted[], r: number) {
  let bad = 0;
  let short = 0;
  for (const p of posted) {
    const columns = listed.get(toHex(p.root)) ?? new Map<number, string[]>();
    for (let c = 0; c < 128; c++) {
      let verified = 0;
      for (const url of columns.get(c) ?? []) {
        const res = await getBytes(`${url}/v1/batches/${toHex(p.root)}/columns/${c}`);
        if (res.status !== 200) continue;
        const column = parseColumn(new Uint8Array(res.body), c, p.manifest.blobs.length);
        const failing = await verifyColumns(p.manifest, [column], { kzg, concurrency: 1 });
        bad += failing.length;
        if (failing.length === 0) verified++;
      }
      if (verified < r) short++;
    }
  }
  return { bad, short };
}

export async function runChurn(options: ChurnOptions): Promise<ChurnReport> {
  const started = performance.now();
  const log = (line: string) => options.log?.(`${((performance.now() - started) / 1000).toFixed(1)} s: ${line}`);
  mkdirSync(options.dir, { recursive: true });
  // Every node the devnet starts (and every one started here) scrubs and repairs every second
  // and takes a custodian as gone after the grace period without an answer.
  const env = {
    CELLAR_REPAIR_INTERVAL: "1",
    CELLAR_REPAIR_GRACE: String(options.graceSeconds ?? 60),
    CELLAR_REPAIR_RATE: "20000",
    // The scrub finds the flipped bit (and drops the cell) within a second or two.
    CELLAR_SCRUB_INTERVAL: "1",
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let devnet: DevnetProcess | undefined;
  const extra: NodeProcess[] = [];
  const client = new NodeClient({ timeoutMs: 5000, attempts: 1 });
  try {
    devnet = await startDevnetProcess(["--nodes", String(options.nodes), "--dir", join(options.dir, "devnet")]);
    const info = devnet.info;
    const l1 = { rpcUrl: info.l1.rpc, registry: info.l1.registry as Address };
    const signer = { ...l1, privateKey: info.l1.account.privateKey as `0x${string}` };
    const r = info.replication;
    log(`devnet up: ${info.nodes.length} nodes, r = ${r}`);

    const disperser = new DisperserClient(info.disperser.url);
    const posted: Posted[] = [];
    const postStart = performance.now();
    for (const size of options.batchBytes) {
      const payload = new Uint8Array(randomBytes(size));
      const status = await disperser.post(payload);
      if (!status.certificate)
        throw new Error(`batch not certified: ${JSON.stringify({ ...status, blobs: status.blobs?.length })}`);
      const root = fromHex(status.root, 32, "root");
      posted.push({
        id: status.id,
        root,
        reference: parseCertificate(status.certificate).reference,
        manifest: await fetchManifest(root, await readNodeSet(l1), client),
        payload,
      });
    }
    const postSeconds = (performance.now() - postStart) / 1000;
    const blobs = posted.reduce((n, p) => n + p.manifest.blobs.length, 0);
    log(`posted ${posted.length} batches (${blobs} blobs) in ${postSeconds.toFixed(2)} s`);

    // The churn, as a bounded script.
    const [leaver, wiped, flipped] = info.nodes as [
      (typeof info.nodes)[0],
      (typeof info.nodes)[0],
      (typeof info.nodes)[0],
    ];
    const listedBefore = await listedHolders(await readNodeSet(l1));
    const heldBy = (url: string) =>
      posted.reduce((n, p) => {
        const columns = listedBefore.get(toHex(p.root));
        let held = 0;
        for (const urls of columns?.values() ?? []) if (urls.includes(url)) held++;
        return n + held * p.manifest.blobs.length;
      }, 0);
    let lostCells = heldBy(leaver.url) + heldBy(wiped.url);
    const churnStart = performance.now();
    // 1. A node leaves the registry, and its process dies.
    await deregisterNode({ ...signer, index: leaver.index });
    process.kill(leaver.pid, "SIGKILL");
    // 2. A node loses its disk: SIGKILL, its data directory wiped (the key kept), restarted empty.
    process.kill(wiped.pid, "SIGKILL");
    const key = readFileSync(wiped.keyFile);
    await waitGone([wiped.pid, leaver.pid]);
    rmSync(wiped.dataDir, { recursive: true, force: true });
    mkdirSync(wiped.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(wiped.keyFile, key, { mode: 0o600 });
    // 3. A new node registers and starts.
    const newDir = join(options.dir, "new-node");
    mkdirSync(newDir, { recursive: true, mode: 0o700 });
    const newKey = generateSecretKey(new Uint8Array(randomBytes(32)));
    writeFileSync(join(newDir, "node.key"), `${toHex(newKey.toBytes())}\n`, { mode: 0o600 });
    const [port] = (await freePorts(1)) as [number];
    await registerNode({ ...signer, secretKey: newKey, url: `http://127.0.0.1:${port}` });
    // 4. A bit flipped in a stored cell on a third node's disk (under its checksum: caught on read).
    const victim = posted[0] as Posted;
    const flippedColumn = listedBefore.get(toHex(victim.root)) ?? new Map<number, string[]>();
    const column = [...flippedColumn.entries()].find(([, urls]) => urls.includes(flipped.url))?.[0] ?? 0;
    const cell = await getBytes(`${flipped.url}/v1/batches/${toHex(victim.root)}/cells/0/${column}`);
    const didFlip = cell.status === 200 && flipBitOf(join(flipped.dataDir, "cells.lmdb"), cell.body.subarray(0, 2048));
    if (didFlip) lostCells += 1;
    const common = ["--rpc", info.l1.rpc, "--registry", info.l1.registry, "--chain-id", String(info.chainId)];
    const more = ["--inbox", info.inbox, "--replication", String(r), "--host", "127.0.0.1"];
    // Its recorded command: the same port, key and (now empty) data directory.
    const starts = await Promise.allSettled([
      startNodeProcess(wiped.command.slice(3), 120_000),
      startNodeProcess(["--data", newDir, "--port", String(port), ...common, ...more], 120_000),
    ]);
    // Whatever started is stopped in `finally`, even if the other start failed.
    for (const s of starts) if (s.status === "fulfilled") extra.push(s.value);
    for (const s of starts) if (s.status === "rejected") throw s.reason;
    const churnedAt = performance.now();
    log(
      `churn done: node ${leaver.index} left, node ${wiped.index} wiped, a node joined on port ${port}, bit flipped: ${didFlip}`,
    );

    // Repair: poll the live registered nodes' listings until every column has r holders, then
    // verify every holder's column; the time is the first poll whose sweep held.
    let repairSeconds = Number.NaN;
    let sweep = { bad: 0, short: 128 };
    const deadline = churnStart + options.repairDeadlineMs;
    let live: NodeRecord[] = [];
    while (performance.now() < deadline) {
      live = (await readNodeSet(l1)).filter((n) => n.url !== leaver.url);
      const listed = await listedHolders(live);
      if (complete(listed, posted, r)) {
        const at = performance.now();
        sweep = await verifySweep(listed, posted, r);
        if (sweep.short === 0) {
          repairSeconds = (at - churnStart) / 1000;
          break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    log(`repair: ${Number.isNaN(repairSeconds) ? "not finished" : `${repairSeconds.toFixed(2)} s`}`);
    const urls = live.map((n) => n.url);
    const movedBytes = await metricSum(urls, "cellar_node_repair_received_bytes_total");
    const repaired = await metricSum(urls, "cellar_node_repair_cells_repaired_total");
    const rebuilt = await metricSum(urls, "cellar_node_repair_cells_rebuilt_total");
    const rejected = await metricSum(urls, "cellar_node_repair_cells_rejected_total");

    // After repair, with the nodes that left gone for good: retrieval and sampling from the
    // batch's snapshot's custodians and their stand-ins.
    let retrievedExact = true;
    let sampledAvailable = true;
    const erasure = sharedErasure();
    for (const p of posted) {
      const snapshot = await readNodeSet({ ...l1, reference: p.reference });
      const got = await retrieveBatch(p.root, {
        nodes: snapshot,
        current: live,
        client,
        kzg,
        erasure,
        manifest: p.manifest,
      });
      retrievedExact &&= Buffer.from(got.payload).equals(Buffer.from(p.payload));
      const sampled = await sampleBatch(p.root, { nodes: snapshot, current: live, client, kzg, manifest: p.manifest });
      sampledAvailable &&= sampled.available;
    }
    const holders = await getBytes(`${info.light.url}/v1/batches/${victim.id}/holders`);
    const columnsWithStandIns =
      holders.status === 200
        ? (JSON.parse(holders.body.toString()) as { columns: { standIns: number[] }[] }).columns.filter(
            (c) => c.standIns.length > 0,
          ).length
        : -1;
    return {
      nodes: options.nodes,
      graceSeconds: options.graceSeconds ?? 60,
      batches: posted.length,
      blobs,
      postSeconds,
      repairSeconds,
      churnSeconds: (churnedAt - churnStart) / 1000,
      lostBytes: lostCells * BYTES_PER_COLUMN_ENTRY,
      movedBytes,
      repaired,
      rebuilt,
      rejected,
      retrievedExact,
      sampledAvailable,
      badCellsServed: sweep.bad,
      columnsWithStandIns,
    };
  } finally {
    await client.close();
    for (const p of extra) {
      p.child.kill("SIGTERM");
      await p.exited;
    }
    await devnet?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
