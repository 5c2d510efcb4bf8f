// Benchmark: time for the light client to reach 1 - 1e-6 on a 1 MiB batch over loopback with 8
// storage nodes (manifest given, as a light node holds it after the first round), beside the raw
// batch verification of the same cells in the same run (one verifyCellProofBatch call on the
// cells the round verified), and their ratio (target ≤ 1.5).
//
//   npm run bench:sample                 # 1 MiB, 20 rounds
//   npm run bench:sample -- --rounds 50 --json
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { NodeClient } from "@cellar/client";
import { columnOf, encodeBatch } from "@cellar/codec";
import { Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { chooseSampleColumns, DEFAULT_TARGET, sampleBatch, samplesFor } from "@cellar/light";
import { sharedErasure } from "@cellar/native";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";

const { values: args } = parseArgs({
  options: {
    mib: { type: "string", default: "1" },
    rounds: { type: "string", default: "20" },
    json: { type: "boolean", default: false },
  },
});
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()));
const kzg = sharedKzg();
const erasure = sharedErasure();
const cluster = await startCluster(8, kzg);
const { set } = cluster;
const payload = new Uint8Array(randomBytes(Math.round(Number(args.mib) * 1024 * 1024)));
const disperser = new Disperser({ key: TEST_DISPERSER_KEY, nodes: set, domain: TEST_DOMAIN }, { kzg, erasure });
await disperser.post(payload);
const batch = await encodeBatch(payload, { kzg });
const client = new NodeClient({ timeoutMs: 5000, attempts: 1 });
const samples = samplesFor(DEFAULT_TARGET);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function rawVerify(): Promise<number> {
  const columns = chooseSampleColumns(samples).map((c) => columnOf(batch, c));
  const commitments: Uint8Array[] = [];
  const indices: number[] = [];
  const cells: Uint8Array[] = [];
  const proofs: Uint8Array[] = [];
  for (const column of columns) {
    column.cells.forEach((cell, b) => {
      commitments.push(batch.blobs[b]?.commitment as Uint8Array);
      indices.push(column.index);
      cells.push(cell);
      proofs.push(column.proofs[b] as Uint8Array);
    });
  }
  const start = performance.now();
  if (!(await kzg.verifyCellProofBatchAsync(commitments, indices, cells, proofs)))
    throw new Error("raw verification failed");
  return (performance.now() - start) / 1000;
}

async function round(): Promise<number> {
  const start = performance.now();
  const verdict = await sampleBatch(batch.manifest.root, { nodes: set, client, kzg, manifest: batch.manifest });
  if (!verdict.available) throw new Error("an honest batch was not available");
  return (performance.now() - start) / 1000;
}

// Warm-up.
await round();
await rawVerify();
const rawTimes: number[] = [];
const roundTimes: number[] = [];
for (let i = 0; i < Number(args.rounds); i++) {
  rawTimes.push(await rawVerify());
  roundTimes.push(await round());
}
const raw = median(rawTimes);
const sample = median(roundTimes);
const result = {
  mib: Number(args.mib),
  blobs: batch.blobs.length,
  samples,
  cells: samples * batch.blobs.length,
  sampleSeconds: sample,
  rawVerifySeconds: raw,
  ratio: sample / raw,
};
if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  process.stdout.write(
    `sample benchmark: ${result.mib} MiB = ${result.blobs} blobs, ${samples} columns = ${result.cells} cells per round, 8 nodes, ${args.rounds} rounds\n\n` +
      `round to 1 - 1e-6: ${(sample * 1000).toFixed(1)} ms   raw batch verification of the same cells: ${(raw * 1000).toFixed(1)} ms   ratio ${result.ratio.toFixed(2)} (target ≤ 1.5)\n`,
  );
}
await client.close();
await disperser.close();
await cluster.stop();
