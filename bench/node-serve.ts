// Benchmark: cells per second served by a real storage node (StorageNode: Fastify, LMDB store,
// crc check, metrics) over keep-alive HTTP on 127.0.0.1, printed beside the floor measured in
// the same run: a bare Fastify server whose one route (same URL shape) returns a constant
// 2096-byte Buffer. Both servers run in this process; the load comes from a second process
// (bench/node-serve-load.ts, undici Pool with several pipelined connections) that asks for random
// (blob, column) cells of one stored batch and checks every response is 200 with 2096 bytes.
// Each server first takes --warmup seconds of untimed load (the node's JIT needs a few seconds);
// then runs alternate (bare, node, bare, …) so drift hits both alike; each figure is a median.
// Beside each figure: the server's CPU time per response, the CPU used by server and load
// process, and by everything else on the machine (a warning says when that spoiled a run).
//
//   npm run bench:node-serve                                # 4-blob batch, 3 runs × 5 s per server
//                                                           #   after 3 s of warm-up each
//   npm run bench:node-serve -- --quick                     # 1 run × 1 s per server, 2 s warm-up
//   npm run bench:node-serve -- --seconds 10 --runs 5       # longer, more runs
//   npm run bench:node-serve -- --connections 16 --pipelining 2
//   npm run bench:node-serve -- --json                      # machine-readable
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { columnOf, encodeBatch } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { StorageNode } from "@cellar/node";
import { BYTES_PER_COLUMN_ENTRY, CELLS_PER_EXT_BLOB, FRAME_HEADER_BYTES, PAYLOAD_BYTES_PER_BLOB } from "@cellar/params";
import { dispersalAuthHeaders, encodeDispersal, generateSecretKey, signDispersal } from "@cellar/protocol";
import Fastify from "fastify";
import { Client } from "undici";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string" },
    runs: { type: "string" },
    warmup: { type: "string" },
    blobs: { type: "string", default: "4" },
    connections: { type: "string", default: "8" },
    pipelining: { type: "string", default: "4" },
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});

const seconds = Number(args.seconds ?? (args.quick ? "1" : "5"));
const runs = Number(args.runs ?? (args.quick ? "1" : "3"));
// Each server first takes this much untimed load: the node's serving path needs a few seconds of
// traffic before the JIT has settled (with 0.5 s it serves about a third fewer cells per second).
const warmup = Number(args.warmup ?? (args.quick ? "2" : "3"));
/** Untimed load at the start of every run, while the load process connects and warms its client. */
const leadIn = 0.5;
const blobs = Number(args.blobs);
const connections = Number(args.connections);
const pipelining = Number(args.pipelining);
const cores = availableParallelism();
const cells = blobs * CELLS_PER_EXT_BLOB;
const repo = fileURLToPath(new URL("..", import.meta.url));
const loadScript = fileURLToPath(new URL("node-serve-load.ts", import.meta.url));
const log = (line: string) => {
  if (!args.json) process.stdout.write(`${line}\n`);
};

interface Run {
  perSecond: number;
  requests: number;
  errors: number;
  errorSamples: string[];
  /** Fractions of one core used during the measured window. */
  serverCpu: number;
  /** Server CPU time per response, in microseconds: less sensitive to a client-bound run. */
  serverMicros: number;
  loadCpu: number;
  /** What every other process on the machine used meanwhile: above ~0.1 the figures are suspect. */
  otherCpu: number;
}

/** The load process's last stdout line (see bench/node-serve-load.ts). */
interface LoadResult {
  event: "result";
  requests: number;
  seconds: number;
  perSecond: number;
  errors: number;
  errorSamples: string[];
  cpu: number;
}

/**
 * Milliseconds of CPU time spent so far by everything on the machine, over all cores. On Linux
 * from /proc/stat, which also counts softirq time (where loopback TCP work partly lands, and
 * which os.cpus() leaves out); elsewhere from os.cpus().
 */
function machineBusy(): number {
  try {
    const fields = (readFileSync("/proc/stat", "latin1").split("\n", 1)[0] ?? "").trim().split(/\s+/).slice(1);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number) as number[];
    // USER_HZ is 100 on every Linux port that matters.
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10;
  } catch {
    return cpus().reduce((n, { times: t }) => n + t.user + t.nice + t.sys + t.irq, 0);
  }
}

/** One measured run: a fresh load process against `url`; this process (the server) times its own CPU. */
async function measure(url: string, root: string, window = seconds, lead = leadIn): Promise<Run> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--conditions=cellar-source",
      loadScript,
      ...["--url", url, "--root", root, "--blobs", String(blobs), "--bytes", String(BYTES_PER_COLUMN_ENTRY)],
      ...["--seconds", String(window), "--warmup", String(lead)],
      ...["--connections", String(connections), "--pipelining", String(pipelining)],
    ],
    { cwd: repo, stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  let cpuStart = process.cpuUsage();
  let wallStart = 0;
  let busyStart = machineBusy();
  let serverCpu = Number.NaN;
  let machineCpu = Number.NaN;
  let result: LoadResult | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    const message = JSON.parse(line) as { event: "start" | "end" } | LoadResult;
    if (message.event === "start") {
      cpuStart = process.cpuUsage();
      busyStart = machineBusy();
      wallStart = performance.now();
    } else if (message.event === "end") {
      const used = process.cpuUsage(cpuStart);
      const wall = performance.now() - wallStart;
      serverCpu = (used.user + used.system) / 1000 / wall;
      machineCpu = (machineBusy() - busyStart) / wall;
    } else if (message.event === "result") {
      result = message;
    }
  }
  const code = await exited;
  if (code !== 0 || result === undefined) throw new Error(`the load process failed (exit code ${code})`);
  return {
    perSecond: result.perSecond,
    requests: result.requests,
    errors: result.errors,
    errorSamples: result.errorSamples,
    serverCpu,
    serverMicros: (serverCpu / result.perSecond) * 1e6,
    loadCpu: result.cpu,
    otherCpu: Math.max(0, machineCpu - serverCpu - result.cpu),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const spread = (xs: number[]) => (Math.max(...xs) - Math.min(...xs)) / median(xs);

log(
  `node-serve benchmark: ${blobs} blobs × ${CELLS_PER_EXT_BLOB} columns = ${cells} cells of ${BYTES_PER_COLUMN_ENTRY} B, ` +
    `${runs} run(s) × ${seconds} s per server after ${warmup} s of warm-up, load: undici ${connections} connections × pipelining ${pipelining} ` +
    `from a second process, ${cores} cores`,
);

const kzg = sharedKzg();
const batch = await encodeBatch(new Uint8Array(randomBytes(blobs * PAYLOAD_BYTES_PER_BLOB - FRAME_HEADER_BYTES)), {
  kzg,
});
const root = Buffer.from(batch.manifest.root).toString("hex");
const domain = { chainId: 31337n, inbox: new Uint8Array(20) };
const disperserKey = generateSecretKey(new Uint8Array(randomBytes(32)));
const dataDir = await mkdtemp(join(tmpdir(), "cellar-bench-node-serve-"));
// The background scrub re-verifies every cell with KZG; it is pushed past the end of the run so
// that only serving is measured (its first pass runs at start, on an empty store).
const node = new StorageNode(
  {
    dataDir,
    host: "127.0.0.1",
    port: 0,
    domain,
    scrubIntervalMs: 24 * 3600_000,
    dispersers: [disperserKey.toPublicKey().toBytes()],
    // The load comes from one address: the per-client budget would measure the limiter instead.
    limits: { rateLimit: { max: 0, windowMs: 60_000 } },
  },
  { kzg },
);
const bare = Fastify({ logger: false });
const constant = randomBytes(BYTES_PER_COLUMN_ENTRY);
bare.get("/v1/batches/:root/cells/:blob/:column", (_request, reply) => {
  void reply.type("application/octet-stream").send(constant);
});

const nodeRuns: Run[] = [];
const bareRuns: Run[] = [];
/** The untimed warm-up runs: their figures are dropped, their errors are not. */
const warmups: { node: Run[]; bare: Run[] } = { node: [], bare: [] };
try {
  const nodeUrl = await node.start();
  const bareUrl = await bare.listen({ host: "127.0.0.1", port: 0 });

  // Store the batch: the node is alone in its node set, so it custodies every column.
  const client = new Client(nodeUrl);
  try {
    const body = encodeDispersal(
      batch.manifest,
      Array.from({ length: CELLS_PER_EXT_BLOB }, (_, c) => columnOf(batch, c)),
    );
    const put = await client.request({
      method: "PUT",
      path: `/v1/batches/0x${root}/columns`,
      headers: {
        "content-type": "application/octet-stream",
        ...dispersalAuthHeaders(signDispersal(disperserKey, domain, node.identity.nodeId, batch.manifest.root)),
      },
      body,
    });
    const answer = await put.body.text();
    if (put.statusCode !== 200) throw new Error(`dispersal refused: ${put.statusCode} ${answer}`);
    // Spot-check that the node serves the right bytes: cell then proof.
    for (const [b, c] of [
      [0, 0],
      [blobs - 1, CELLS_PER_EXT_BLOB - 1],
    ] as const) {
      const get = await client.request({ method: "GET", path: `/v1/batches/0x${root}/cells/${b}/${c}` });
      const got = Buffer.from(await get.body.arrayBuffer());
      const blob = batch.blobs[b];
      const want = Buffer.concat([blob?.cells[c] as Uint8Array, blob?.proofs[c] as Uint8Array]);
      if (get.statusCode !== 200 || !got.equals(want)) throw new Error(`cell ${b}/${c} served wrong`);
    }
  } finally {
    await client.close();
  }

  // Warm-up: untimed, but its errors count like any other.
  warmups.bare.push(await measure(bareUrl, root, warmup, 0));
  warmups.node.push(await measure(nodeUrl, root, warmup, 0));
  for (let r = 0; r < runs; r++) {
    bareRuns.push(await measure(bareUrl, root));
    nodeRuns.push(await measure(nodeUrl, root));
  }
} finally {
  await node.stop();
  await bare.close();
  await rm(dataDir, { recursive: true, force: true });
}

const summary = (xs: Run[], warm: Run[]) => ({
  perSecond: median(xs.map((x) => x.perSecond)),
  perRun: xs.map((x) => x.perSecond),
  spread: spread(xs.map((x) => x.perSecond)),
  errors: [...warm, ...xs].reduce((n, x) => n + x.errors, 0),
  errorSamples: [...warm, ...xs].flatMap((x) => x.errorSamples).slice(0, 5),
  serverCpu: median(xs.map((x) => x.serverCpu)),
  serverMicros: median(xs.map((x) => x.serverMicros)),
  loadCpu: median(xs.map((x) => x.loadCpu)),
  otherCpu: Math.max(...xs.map((x) => x.otherCpu)),
});
const nodeSummary = summary(nodeRuns, warmups.node);
const bareSummary = summary(bareRuns, warmups.bare);
const ratio = nodeSummary.perSecond / bareSummary.perSecond;
// Each node run beside the bare run just before it: less sensitive to a machine that drifts.
const pairRatios = nodeRuns.map((n, i) => n.perSecond / (bareRuns[i] as Run).perSecond);
const valid = nodeSummary.errors === 0 && bareSummary.errors === 0;

if (args.json) {
  process.stdout.write(
    `${JSON.stringify({ blobs, cells, seconds, runs, warmup, connections, pipelining, cores, node: nodeSummary, bare: bareSummary, ratio, pairRatios, valid })}\n`,
  );
} else {
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  log("");
  const listed = (x: typeof nodeSummary) => x.perRun.map((v) => v.toFixed(0)).join(", ");
  const width = Math.max(6, listed(nodeSummary).length, listed(bareSummary).length);
  log(
    `                      median/s  ${"runs/s".padEnd(width)}  spread  errors  server µs/resp  cpu: server  load  others`,
  );
  for (const [name, x] of [
    ["node cells/s", nodeSummary],
    ["bare Fastify req/s", bareSummary],
  ] as const) {
    const perRun = listed(x);
    const cpu = `${pct(x.serverCpu).padStart(11)}  ${pct(x.loadCpu).padStart(4)}  ${pct(x.otherCpu).padStart(6)}`;
    log(
      `${name.padEnd(20)}  ${x.perSecond.toFixed(0).padStart(8)}  ${perRun.padEnd(width)}  ${(x.spread * 100).toFixed(1).padStart(5)}%  ${String(x.errors).padStart(6)}  ${x.serverMicros.toFixed(1).padStart(14)}  ${cpu}`,
    );
  }
  log("(server µs/resp: server CPU time per response; cpu: share of one core over the measured window;");
  log(" medians, except others: what the rest of the machine used, worst run)");
  const wide = [
    { name: "node", x: nodeSummary },
    { name: "bare Fastify", x: bareSummary },
  ].filter(({ x }) => x.spread > 0.1);
  if (wide.length > 0)
    log(
      `\nwarning: run-to-run spread above 10% for ${wide.map(({ name }) => name).join(", ")}: the machine is noisy, rerun with more --runs`,
    );
  const busy = Math.max(nodeSummary.otherCpu, bareSummary.otherCpu);
  if (busy > 0.1)
    log(
      `\nwarning: other processes used up to ${pct(busy)} of a core during a run: the figures are suspect, rerun on a quiet machine`,
    );
  if (!valid) {
    log(`\nINVALID: ${nodeSummary.errors + bareSummary.errors} request(s) failed, so the figures do not count:`);
    for (const e of [...nodeSummary.errorSamples, ...bareSummary.errorSamples]) log(`  ${e}`);
  }
  log(
    `\nnode / bare Fastify: ${ratio.toFixed(3)} (target ≥ 0.6)${valid ? "" : " INVALID"}; run by run: ${pairRatios.map((r) => r.toFixed(3)).join(", ")}`,
  );
}
if (!valid) process.exitCode = 1;
