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
for (let b = 0; b < blobs; b++)
  for (let c = 0; c < columns; c++) paths.push(`/v1/batches/0x${args.root}/cells/${b}/${c}`);

// A stalled server surfaces as errors (and the run ends) instead of a hang.
const pool = new Pool(url.origin, {
  connections,
  pipelining,
  keepAliveTimeout: 60_000,
  headersTimeout: 10_000,
  bodyTimeout: 10_000,
});

let phase: "warmup" | "measure" | "stop" = "warmup";
let counted = 0;
let total = 0;
let errors = 0;
const errorSamples: string[] = [];
const fail = (what: string) => {
  errors++;
  if (errorSamples.length < 5) errorSamples.push(what);
};

/**
 * One request slot: issues a GET, and when it completes issues the next, until the run stops. It
 * drives undici's dispatch API directly with itself as the handler (no body stream, no promise
 * per request), so that the client spends as little CPU per response as it can.
 */
class Slot {
  #path = "";
  #status = 0;
  #got = 0;
  readonly done: Promise<void>;
  #finish: () => void = () => {};

  constructor() {
    this.done = new Promise((resolve) => {
      this.#finish = resolve;
    });
    this.#next();
  }

  #next(): void {
    if (phase === "stop") {
      this.#finish();
      return;
    }
    this.#path = paths[Math.floor(Math.random() * paths.length)] as string;
    this.#status = 0;
    this.#got = 0;
    // blocking: false, or undici sends nothing more on a connection until the headers of its GET
    // are back, which would make every pipelining depth behave like 1.
    pool.dispatch({ path: this.#path, method: "GET", blocking: false }, this);
  }

  onConnect(): void {}

  onHeaders(status: number): boolean {
    this.#status = status;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#got += chunk.length;
    return true;
  }

  onComplete(): void {
    total++;
    if (this.#status !== 200 || this.#got !== bytes)
      fail(`GET ${this.#path}: status ${this.#status}, ${this.#got} bytes`);
    else if (phase === "measure") counted++;
    this.#next();
  }

  onError(err: Error): void {
    fail(`GET ${this.#path}: ${err.message}`);
    // A refused or reset connection fails fast: do not spin on it.
    setTimeout(() => this.#next(), 10);
  }
}

let startedAt = 0;
let cpuAtStart = process.cpuUsage();
const slots = Array.from({ length: connections * pipelining }, () => new Slot());
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
