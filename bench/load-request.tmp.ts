// Load generator for bench/node-serve.ts, run in a process of its own so that the server being
// measured never shares a thread with its client. It requests random (blob, column) cells of one
// batch from a server on 127.0.0.1 over keep-alive HTTP (undici Pool: several connections, each
// pipelined), warms up, then counts the responses completed in a fixed window. Every response
// must be 200 with exactly --bytes bytes; anything else is counted as an error.
//
// Not meant to be run by hand, but it can be:
//   node --import tsx bench/node-serve-load.ts --url http://127.0.0.1:PORT --root HEX --blobs 4
//
// stdout: `{"event":"start"}` when the measured window opens, `{"event":"end"}` when it closes (so
// the parent can time the server's CPU over the same window), then one JSON line with the result.
import { parseArgs } from "node:util";
import { Pool } from "undici";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    root: { type: "string" },
    blobs: { type: "string", default: "4" },
    columns: { type: "string", default: "128" },
    bytes: { type: "string", default: "2096" },
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    connections: { type: "string", default: "8" },
    pipelining: { type: "string", default: "4" },
  },
});

const url = new URL(args.url ?? "");
if (url.hostname !== "127.0.0.1") throw new Error(`the load generator only targets 127.0.0.1, not ${url.hostname}`);
if (!/^[0-9a-f]{64}$/.test(args.root ?? "")) throw new Error("--root must be 64 lowercase hex digits");
const blobs = Number(args.blobs);
const columns = Number(args.columns);
const bytes = Number(args.bytes);
const connections = Number(args.connections);
const pipelining = Number(args.pipelining);
const warmupMs = Number(args.warmup) * 1000;
const measureMs = Number(args.seconds) * 1000;

const paths: string[] = [];
for (let b = 0; b < blobs; b++) for (let c = 0; c < columns; c++) paths.push(`/v1/batches/0x${args.root}/cells/${b}/${c}`);

const pool = new Pool(url.origin, { connections, pipelining, keepAliveTimeout: 60_000 });

let phase: "warmup" | "measure" | "stop" = "warmup";
let counted = 0;
let total = 0;
let errors = 0;
const errorSamples: string[] = [];
const fail = (what: string) => {
  errors++;
  if (errorSamples.length < 5) errorSamples.push(what);
};

async function worker(): Promise<void> {
  while (phase !== "stop") {
    const path = paths[Math.floor(Math.random() * paths.length)] as string;
    try {
      const { statusCode, body } = await pool.request({ path, method: "GET" });
      const got = (await body.arrayBuffer()).byteLength;
      total++;
      if (statusCode !== 200 || got !== bytes) fail(`GET ${path}: status ${statusCode}, ${got} bytes`);
      else if (phase === "measure") counted++;
    } catch (err) {
      fail(`GET ${path}: ${err instanceof Error ? err.message : String(err)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
let startedAt = 0;
let cpuAtStart = process.cpuUsage();
const slots = Array.from({ length: connections * pipelining }, () => ({done: worker()}));
await new Promise((resolve) => setTimeout(resolve, warmupMs));
phase = "measure";
startedAt = performance.now();
cpuAtStart = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ event: "start" })}\n`);
await new Promise((resolve) => setTimeout(resolve, measureMs));
phase = "stop";
const seconds = (performance.now() - startedAt) / 1000;
const cpu = process.cpuUsage(cpuAtStart);
process.stdout.write(`${JSON.stringify({ event: "end" })}\n`);
await Promise.all(slots.map((slot) => slot.done));
await pool.close();

process.stdout.write(
  `${JSON.stringify({
    event: "result",
    requests: counted,
    seconds,
    perSecond: counted / seconds,
    total,
    errors,
    errorSamples,
    // Fraction of one core this process used during the window: near 1 means the client is the limit.
    cpu: (cpu.user + cpu.system) / 1e6 / seconds,
  })}\n`,
);
