// Benchmark: time from `POST /v1/batches` to certificate for a 1 MiB and an 8 MiB batch posted
// to a disperser with 8 local storage nodes, beside the bare encode time (`encodeBatch` on all
// cores) of the same batch in the same run, and their ratio (target ≤ 1.2). Nodes run in this
// process on loopback, each with its own LMDB directory; their verification of every cell runs
// on the same cores as the encode, as it would on a one-machine devnet.
//
//   npm run bench:post                   # 1 MiB and 8 MiB, 3 runs each
//   npm run bench:post -- --mib 1 --runs 5
//   npm run bench:post -- --json
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { DisperserClient } from "@cellar/client";
import { encodeBatch } from "@cellar/codec";
import { buildDisperserApp, Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";

const { values: args } = parseArgs({
  options: {
    mib: { type: "string", default: "1,8" },
    runs: { type: "string", default: "3" },
    nodes: { type: "string", default: "8" },
    json: { type: "boolean", default: false },
  },
});
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()));
const log = (line: string) => {
  if (!args.json) process.stdout.write(`${line}\n`);
};

const kzg = sharedKzg();
const erasure = sharedErasure();
const cluster = await startCluster(Number(args.nodes), kzg);
const { nodes, set } = cluster;
const disperser = new Disperser(
  { key: TEST_DISPERSER_KEY, nodes: set, domain: TEST_DOMAIN, maxBatchBytes: 64 * 1024 * 1024 },
  { kzg, erasure },
);
const app = buildDisperserApp(disperser);
const url = await app.listen({ host: "127.0.0.1", port: 0 });
const client = new DisperserClient(url);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const spread = (xs: number[]) => (Math.max(...xs) - Math.min(...xs)) / median(xs);

log(`post benchmark: ${nodes.length} local nodes, ${args.runs} runs per size, ${availableParallelism()} cores`);
// Warm-up: one small post, so connection set-up and first calls are not measured.
await client.post(new Uint8Array(randomBytes(100_000)));

const results = [];
for (const mib of String(args.mib).split(",").map(Number)) {
  const size = Math.round(mib * 1024 * 1024);
  const encodeTimes: number[] = [];
  const postTimes: number[] = [];
  for (let r = 0; r < Number(args.runs); r++) {
    // Fresh bytes every run: posting the same bytes twice would do no work the second time.
    const payload = new Uint8Array(randomBytes(size));
    let start = performance.now();
    await encodeBatch(payload, { kzg, concurrency: availableParallelism() });
    encodeTimes.push((performance.now() - start) / 1000);
    start = performance.now();
    const posted = await client.post(payload);
    postTimes.push((performance.now() - start) / 1000);
    if (posted.status !== "certified") throw new Error(`post was not certified: ${posted.status}`);
  }
  const encodeSeconds = median(encodeTimes);
  const postSeconds = median(postTimes);
  results.push({
    mib,
    encodeSeconds,
    postSeconds,
    ratio: postSeconds / encodeSeconds,
    spread: Math.max(spread(encodeTimes), spread(postTimes)),
  });
}

if (args.json) process.stdout.write(`${JSON.stringify({ nodes: nodes.length, runs: Number(args.runs), results })}\n`);
else {
  log("");
  log("  MiB  bare encode s  post→certificate s  ratio  spread");
  for (const r of results) {
    log(
      `${String(r.mib).padStart(5)}  ${r.encodeSeconds.toFixed(2).padStart(12)}  ${r.postSeconds.toFixed(2).padStart(18)}  ${r.ratio.toFixed(2).padStart(5)}  ${(r.spread * 100).toFixed(1).padStart(5)}%`,
    );
  }
  if (results.some((r) => r.spread > 0.1))
    log("\nwarning: run-to-run spread above 10%: the machine is noisy, rerun with more --runs");
  log("\ntarget: post→certificate / bare encode ≤ 1.2");
}

await client.close();
await app.close();
await disperser.close();
await cluster.stop();
