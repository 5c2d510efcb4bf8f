// Benchmark: one batch's encode through the encoder fleet with 1 and with 2 `cellar encoder`
// processes (each one slot, one core), beside the same blobs encoded in this process on one core,
// measured in the same run and alternated so drift hits all alike. Prints the fleet's per-blob
// overhead against in-process encoding, the speed-up of 2 encoders over 1, the database writes of
// one batch (from pg_stat_database) and the HTTP bytes per blob. Needs PostgreSQL (initdb, pg_ctl).
//
//   npm run bench:scale-out                     # 16 blobs, 2 runs per setting
//   npm run bench:scale-out -- --blobs 32 --runs 3
//   npm run bench:scale-out -- --json
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { availableParallelism, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { encodeBlob, frameBatch, packBlobs } from "@cellar/codec";
import {
  buildDisperserApp,
  Disperser,
  ENCODE_RESULT_BYTES,
  EncoderFleet,
  PostgresDisperserStore,
} from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import { BYTES_PER_BLOB, PAYLOAD_BYTES_PER_BLOB } from "@cellar/params";
import { buildNodeSet, generateSecretKey } from "@cellar/protocol";
import { startPostgres } from "@cellar/test-utils/postgres";

const { values: args } = parseArgs({
  options: {
    blobs: { type: "string", default: "16" },
    runs: { type: "string", default: "2" },
    json: { type: "boolean", default: false },
  },
});
const blobCount = Number(args.blobs);
const runs = Number(args.runs);
const log = (line: string) => {
  if (!args.json) process.stdout.write(`${line}\n`);
};

const kzg = sharedKzg({ precompute: true });
const server = await startPostgres();
const store = await PostgresDisperserStore.open({ url: server.url });
const fleet = new EncoderFleet({ pool: store.pool, checkMs: 200 }, { kzg });
const key = generateSecretKey(randomBytes(32));
const disperser = new Disperser(
  {
    nodes: buildNodeSet([{ publicKey: key.toPublicKey().toBytes(), url: "http://127.0.0.1:9" }]),
    domain: { chainId: 1n, inbox: new Uint8Array(20) },
    store,
  },
  { kzg, erasure: sharedErasure(), encoder: fleet },
);
const app = buildDisperserApp(disperser);
fleet.publicUrl = await app.listen({ host: "127.0.0.1", port: 0 });

const payload = new Uint8Array(randomBytes(blobCount * PAYLOAD_BYTES_PER_BLOB - 64));
const blobs = packBlobs(frameBatch(payload));
const hash = `0x${createHash("sha256").update(payload).digest("hex")}`;
await store.claim(hash, "bench", 3_600_000);

const tsx = createRequire(import.meta.url).resolve("tsx/cli");
const encoders: ChildProcess[] = [];
const encoderUrls: string[] = [];
async function startEncoder(): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      tsx,
      "--conditions=cellar-source",
      "packages/cli/src/bin.ts",
      "encoder",
      "--store",
      server.url,
      "--port",
      "0",
      "--json",
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, UV_THREADPOOL_SIZE: "2" } },
  );
  encoders.push(child);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`encoder exited with ${code}`)));
    lines.once("line", (line) => {
      encoderUrls.push(JSON.parse(line).url);
      resolve();
    });
  });
  for (;;) {
    if ((await fleet.liveEncoders()).encoders === encoders.length) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CPU seconds of this process (the replica) and of every encoder process so far. */
async function cpuSeconds(): Promise<number> {
  const own = process.cpuUsage();
  let total = (own.user + own.system) / 1e6;
  for (const url of encoderUrls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith("cellar_encoder_process_cpu_seconds_total"));
    total += Number(line?.split(" ").pop() ?? 0);
  }
  return total;
}

const localCpu: number[] = [];
async function local(): Promise<number> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (const blob of blobs) await encodeBlob(blob, kzg);
  const used = process.cpuUsage(cpu);
  localCpu.push((used.user + used.system) / 1e6);
  return (performance.now() - start) / 1000;
}

async function writes(): Promise<number> {
  const { rows } = await store.pool.query<{ n: string }>(
    "SELECT tup_inserted + tup_updated + tup_deleted AS n FROM pg_stat_database WHERE datname = current_database()",
  );
  return Number(rows[0]?.n ?? 0);
}

const writesPerBatch: number[] = [];
const fleetCpu: number[][] = [[], [], []];
async function viaFleet(): Promise<number> {
  const before = await writes();
  const cpu = await cpuSeconds();
  const start = performance.now();
  const encoded = await fleet.encodeBlobs(blobs, hash, "bench");
  const seconds = (performance.now() - start) / 1000;
  fleetCpu[encoderUrls.length]?.push((await cpuSeconds()) - cpu);
  if (encoded.length !== blobs.length) throw new Error("the fleet lost a blob");
  // Statistics reach pg_stat_database within its report interval.
  await new Promise((r) => setTimeout(r, 600));
  writesPerBatch.push((await writes()) - before);
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
log(`scale-out: ${blobs.length} blobs (${(payload.length / 1e6).toFixed(2)} MB), ${runs} runs per setting`);
await startEncoder();
const inProcess: number[] = [];
const one: number[] = [];
await local(); // warm-up of this process's tables
await viaFleet(); // and of the encoder's
for (let i = 0; i < runs; i++) {
  inProcess.push(await local());
  one.push(await viaFleet());
}
await startEncoder();
await viaFleet();
const two: number[] = [];
for (let i = 0; i < runs; i++) {
  two.push(await viaFleet());
  inProcess.push(await local());
}

const perBlob = (s: number) => (s / blobs.length) * 1000;
const result = {
  blobs: blobs.length,
  loadAverage: loadavg()[0] ?? 0,
  inProcessCpuMsPerBlob: perBlob(median(localCpu)),
  fleet1CpuMsPerBlob: perBlob(median(fleetCpu[1] ?? [])),
  fleet2CpuMsPerBlob: perBlob(median(fleetCpu[2] ?? [])),
  cpuOverhead: median(fleetCpu[1] ?? []) / median(localCpu) - 1,
  inProcessMsPerBlob: perBlob(median(inProcess)),
  fleet1MsPerBlob: perBlob(median(one)),
  fleet2MsPerBlob: perBlob(median(two)),
  overhead: median(one) / median(inProcess) - 1,
  speedup: median(one) / median(two),
  dbWritesPerBatch: median(writesPerBatch),
  httpBytesPerBlob: BYTES_PER_BLOB + ENCODE_RESULT_BYTES,
};
log(`  in process, 1 core     ${result.inProcessMsPerBlob.toFixed(1)} ms/blob (reference)`);
log(
  `  fleet, 1 encoder       ${result.fleet1MsPerBlob.toFixed(1)} ms/blob  overhead ${(result.overhead * 100).toFixed(1)}% (target <= 10%)`,
);
log(
  `  fleet, 2 encoders      ${result.fleet2MsPerBlob.toFixed(1)} ms/blob  speed-up ${result.speedup.toFixed(2)}x over 1 encoder (target >= 1.8x)`,
);
log(
  `  CPU per blob           ${result.inProcessCpuMsPerBlob.toFixed(1)} ms in process; fleet (encoders + replica) ${result.fleet1CpuMsPerBlob.toFixed(1)} ms with 1 encoder (overhead ${(result.cpuOverhead * 100).toFixed(1)}%), ${result.fleet2CpuMsPerBlob.toFixed(1)} ms with 2`,
);
log(
  `  load average           ${result.loadAverage.toFixed(2)} on ${availableParallelism()} cores (other work skews the wall-clock figures)`,
);
log(`  database writes        ${result.dbWritesPerBatch} rows per batch of ${blobs.length} blobs`);
log(`  HTTP bodies            ${result.httpBytesPerBlob} bytes per blob (blob out, result back)`);
if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);

for (const child of encoders) child.kill("SIGTERM");
await Promise.all(encoders.map((c) => new Promise((r) => (c.exitCode === null ? c.once("exit", r) : r(null)))));
await app.close();
await disperser.close();
await server.close();
