// Benchmark: payload MB/s of the whole encode pipeline (frame, pack, commit, cells + proofs,
// versioned hashes, root, manifest) on 1 worker and on every core, each printed beside the raw
// library floor measured in the same run: the same node-eth-kzg calls on the same blobs with
// nothing around them. Runs alternate (floor, pipeline, floor, …) so drift hits both alike.
//
//   npm run bench:encode                      # 4 MiB batch, 3 runs per setting
//   npm run bench:encode -- --mib 8 --runs 5  # larger batch, more runs
//   npm run bench:encode -- --json            # machine-readable
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { encodeBatch, frameBatch, packBlobs } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { mapConcurrent } from "@cellar/utils";
import { DasContextJs } from "@crate-crypto/node-eth-kzg";

const { values: args } = parseArgs({
  options: {
    mib: { type: "string", default: "4" },
    runs: { type: "string", default: "3" },
    workers: { type: "string" },
    json: { type: "boolean", default: false },
  },
});

const cores = availableParallelism();
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, cores));
const size = Math.round(Number(args.mib) * 1024 * 1024);
const runs = Number(args.runs);
const workerCounts = args.workers ? args.workers.split(",").map(Number) : [...new Set([1, cores])];
const log = (line: string) => {
  if (!args.json) process.stdout.write(`${line}\n`);
};

const kzg = sharedKzg();
// The floor calls the library directly, with its own context, exactly as a bare user would.
const raw = DasContextJs.create({ usePrecomp: true });

const payload = new Uint8Array(randomBytes(size));
const blobs = packBlobs(frameBatch(payload));
const mb = size / 1e6;

async function floor(workers: number): Promise<number> {
  const start = performance.now();
  await mapConcurrent(blobs, workers, async (blob) => {
    await raw.asyncBlobToKzgCommitment(blob);
    await raw.asyncComputeCellsAndKzgProofs(blob);
  });
  return (performance.now() - start) / 1000;
}

async function pipeline(workers: number): Promise<number> {
  const start = performance.now();
  await encodeBatch(payload, { kzg, concurrency: workers });
  return (performance.now() - start) / 1000;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const spread = (xs: number[]) => (Math.max(...xs) - Math.min(...xs)) / median(xs);

log(`encode benchmark: ${mb.toFixed(2)} MB payload = ${blobs.length} blobs, ${runs} runs per setting, ${cores} cores`);
// Warm-up: one blob through each path, so first-call costs are not measured.
await mapConcurrent(blobs.slice(0, cores), cores, (b) => raw.asyncComputeCellsAndKzgProofs(b));
await encodeBatch(payload.subarray(0, 100_000), { kzg });

const results = [];
for (const workers of workerCounts) {
  const floorTimes: number[] = [];
  const pipeTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    floorTimes.push(await floor(workers));
    pipeTimes.push(await pipeline(workers));
  }
  const floorMBps = mb / median(floorTimes);
  const encodeMBps = mb / median(pipeTimes);
  results.push({
    workers,
    encodeMBps,
    rawFloorMBps: floorMBps,
    ratio: encodeMBps / floorMBps,
    blobsPerSecond: blobs.length / median(pipeTimes),
    spread: Math.max(spread(floorTimes), spread(pipeTimes)),
  });
}

const one = results.find((r) => r.workers === 1);
if (args.json) {
  process.stdout.write(`${JSON.stringify({ size, blobs: blobs.length, runs, cores, results })}\n`);
} else {
  log("");
  log("workers  pipeline MB/s  raw floor MB/s  ratio  blobs/s  scaling  spread");
  for (const r of results) {
    const scaling = one ? r.encodeMBps / (one.encodeMBps * r.workers) : Number.NaN;
    log(
      `${String(r.workers).padStart(7)}  ${r.encodeMBps.toFixed(3).padStart(13)}  ${r.rawFloorMBps.toFixed(3).padStart(14)}  ${r.ratio.toFixed(3).padStart(5)}  ${r.blobsPerSecond.toFixed(2).padStart(7)}  ${scaling.toFixed(2).padStart(7)}  ${(r.spread * 100).toFixed(1).padStart(5)}%`,
    );
  }
  const wide = results.filter((r) => r.spread > 0.1);
  if (wide.length > 0)
    log(
      `\nwarning: run-to-run spread above 10% for ${wide.map((r) => `${r.workers} worker(s)`).join(", ")}: the machine is noisy, rerun with more --runs`,
    );
  const all = results.find((r) => r.workers === cores);
  if (all) log(`\npipeline / raw floor on all ${cores} cores: ${all.ratio.toFixed(3)} (target ≥ 0.95)`);
}
