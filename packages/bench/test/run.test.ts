// runBench end to end: on fakes (fast, every branch, exact progress accounting and self-checks),
// then one tiny real run on the real KZG contexts and the real GF(2^8) codec.
import { randomBytes } from "node:crypto";
import {
  type BenchModules,
  type BenchProgress,
  createRawKzg,
  GF256_DATA_SHARDS,
  GF256_PARITY_SHARDS,
  GF256_SHARD_BYTES,
  gf256EncodeBlobs,
  loadGf256,
  runBench,
} from "@cellar/bench";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import { BYTES_PER_CELL, BYTES_PER_PROOF, CELLS_PER_EXT_BLOB, PAYLOAD_BYTES_PER_BLOB } from "@cellar/params";
import t from "tap";

const tick = () => new Promise<void>((r) => setImmediate(r));
const cells = Array.from({ length: CELLS_PER_EXT_BLOB }, (_, i) => new Uint8Array(BYTES_PER_CELL).fill(i));
const proofs = Array.from({ length: CELLS_PER_EXT_BLOB }, () => new Uint8Array(BYTES_PER_PROOF));

/** KZG, raw floor and codec stand-ins that answer at once, with switches to make each check fail. */
function fakes(
  opts: { verify?: boolean; recoverWrong?: boolean; dataWrong?: boolean; gfResult?: number } = {},
): BenchModules {
  return {
    erasure: {
      backend: "js",
      async recoverBlobsAsync(_indices, cellsOf) {
        await tick();
        return cellsOf.map(() => (opts.dataWrong ? (cells[1] as Uint8Array) : Buffer.concat(cells.slice(0, 64))));
      },
    },
    kzg: {
      async blobToCommitmentAsync() {
        await tick();
        return Uint8Array.of(0xc0, ...new Uint8Array(47));
      },
      async computeCellsAndProofsAsync() {
        await tick();
        return { cells, proofs };
      },
      async computeCellsAsync() {
        await tick();
        return cells;
      },
      async verifyCellProofBatchAsync() {
        await tick();
        return opts.verify ?? true;
      },
      async recoverCellsAndProofsAsync() {
        await tick();
        return { cells: opts.recoverWrong ? [...cells].reverse() : cells, proofs };
      },
    },
    raw: {
      async asyncBlobToKzgCommitment() {
        await tick();
        return new Uint8Array(48);
      },
      async asyncComputeCellsAndKzgProofs() {
        await tick();
        return {};
      },
    },
    gf256: { encode: () => opts.gfResult ?? 0, reconstruct: () => 0 },
  };
}

t.test("on fakes: the report's shape, and progress that counts every blob exactly once", async (t) => {
  const seen: BenchProgress[] = [];
  const report = await runBench(
    { bytes: 3 * PAYLOAD_BYTES_PER_BLOB - 100, workers: [2, 1], runs: 2, warmup: 1, cores: 2 },
    { ...fakes(), onProgress: (p) => seen.push(p) },
  );
  t.match(report, {
    version: 1,
    config: { blobs: 3, runs: 2, warmup: 1, workers: [1, 2] },
    machine: { cores: 2 },
    parts: { workers: 1 },
    storage: { workers: 2 },
    reference: { workers: 1 },
    verdict: { spreadLimit: 0.1, scalingTarget: 0.9, ratioTarget: 0.95 },
  });
  t.same(
    report.results.map((r) => r.workers),
    [1, 2],
  );
  t.equal(report.results[0]?.scaling, 1, "scaling is relative to the smallest count");
  t.equal(report.results[1]?.tailCeiling, 0.75, "3 blobs on 2 workers: the second round is half empty");
  t.equal(report.results[0]?.encodeRunsMBps.length, 2, "every run is kept");
  for (const r of report.results) {
    t.ok(r.encodeMBps > 0 && r.rawFloorMBps > 0 && r.blobsPerSecond > 0 && r.peakRssMiB > 0);
  }
  t.ok(report.reference.gf256MBps > 0 && report.storage.verifyCellsPerSecond > 0);
  t.ok(report.memory.peakRssMiB >= report.memory.baselineRssMiB);
  t.equal(typeof report.verdict.minScaling, "number", "worker counts above one are judged");
  t.ok(
    report.results.every((r) => r.cpuShare >= 0 && Number.isFinite(r.cpuShare)),
    "cpu use is measured",
  );
  t.ok(Array.isArray(report.verdict.starved) && report.machine.loadAverage >= 0);
  const total = seen[0]?.total ?? 0;
  t.ok(seen.every((p) => p.total === total));
  t.same(
    seen.map((p) => p.done),
    [...seen.map((p) => p.done)].sort((a, b) => a - b),
    "progress never goes back",
  );
  t.equal(seen[seen.length - 1]?.done, total, "progress ends at its total");
  const stages = [...new Set(seen.map((p) => p.stage))];
  t.same(stages, [
    "warm-up",
    "encode, 1 worker",
    "encode, 2 workers",
    "parts, 1 worker",
    "storage node, 2 workers",
    "GF(2^8) reference",
  ]);
  t.same(JSON.parse(JSON.stringify(report)), report, "plain JSON: no NaN, no Infinity, nothing lost");
});

t.test("on fakes: a single worker count has no scaling verdict", async (t) => {
  const report = await runBench({ bytes: 1000, workers: [1], runs: 1, warmup: 0 }, fakes());
  t.equal(report.verdict.minScaling, null);
  t.equal(report.verdict.scalingOk, null);
  t.equal(report.verdict.trusted, false, "one run cannot be trusted");
  t.ok(report.verdict.noisy.includes("encode on 1 worker"));
});

t.test("on fakes: results that fail their own check stop the run with SELF_CHECK", async (t) => {
  const small = { bytes: 1000, workers: [1], runs: 1, warmup: 0 };
  await t.rejects(runBench(small, fakes({ verify: false })), {
    code: "CELLAR_ERR_BENCH_SELF_CHECK",
    message: /blob 0 failed verification/,
  });
  await t.rejects(runBench(small, fakes({ recoverWrong: true })), {
    code: "CELLAR_ERR_BENCH_SELF_CHECK",
    message: /did not recover/,
  });
  await t.rejects(runBench(small, fakes({ dataWrong: true })), {
    code: "CELLAR_ERR_BENCH_SELF_CHECK",
    message: /blob 0 did not recover/,
  });
  await t.rejects(runBench(small, fakes({ gfResult: 9 })), {
    code: "CELLAR_ERR_BENCH_SELF_CHECK",
    context: { result: 9 },
  });
  await t.rejects(runBench({ runs: 0 }, fakes()), { code: "CELLAR_ERR_BENCH_INVALID_RUNS" }, "options first");
});

t.test("the GF(2^8) reference really erasure-codes: 64 lost shards come back", async (t) => {
  const codec = loadGf256();
  const payload = new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB));
  const shards = new Uint8Array(GF256_SHARD_BYTES * (GF256_DATA_SHARDS + GF256_PARITY_SHARDS));
  t.equal(gf256EncodeBlobs(codec, payload, shards), 1);
  t.equal(GF256_SHARD_BYTES, 1984);
  const damaged = shards.slice();
  const available = Array.from({ length: 128 }, (_, i) => i >= 64);
  damaged.fill(0, 0, 64 * GF256_SHARD_BYTES);
  t.equal(codec.reconstruct(damaged, 64, 64, available), 0);
  t.same(damaged.subarray(0, PAYLOAD_BYTES_PER_BLOB), payload, "the data shards rebuilt from parity alone");
  t.equal(gf256EncodeBlobs(codec, new Uint8Array(0)), 1, "the empty payload is one (zero) blob");
  t.equal(gf256EncodeBlobs(codec, new Uint8Array(PAYLOAD_BYTES_PER_BLOB + 1)), 2);
});

t.test("one tiny real run: real KZG, real floor, real codec", async (t) => {
  const report = await runBench(
    { bytes: 1000, workers: [1], runs: 1, warmup: 0 },
    { kzg: sharedKzg(), raw: createRawKzg(), gf256: loadGf256(), erasure: sharedErasure() },
  );
  t.match(report, {
    config: { bytes: 1000, blobs: 1, runs: 1, workers: [1] },
    results: [{ workers: 1, scaling: 1, tailCeiling: 1 }],
  });
  const [r] = report.results;
  for (const v of [r?.encodeMBps, r?.blobsPerSecond, r?.rawFloorMBps, r?.ratio]) t.ok((v ?? 0) > 0, String(v));
  const { parts, storage, reference } = report;
  for (const v of [
    parts.commit.msPerBlob,
    parts.cellsAndProofs.msPerBlob,
    parts.packing.msPerBlob,
    parts.hashing.msPerBlob,
    storage.verifyCellsPerSecond,
    storage.recoveryMBps,
    storage.cellsOnlyMBps,
    reference.rawFloorMBps,
    reference.gf256MBps,
  ]) {
    t.ok(v > 0, `positive: ${v}`);
  }
  t.ok(report.memory.peakRssMiB > 100, "two KZG contexts are resident");
  t.match(report.storage.recoveryNote, /recomputes all 128 proofs/);
  t.ok(report.storage.dataRecoveryMBps > report.storage.recoveryMBps, "data-only recovery beats the library's");
  t.match(report.storage.dataRecoveryNote, /without proofs, 4 blobs per call, (native addon|TypeScript fallback)/);
});
