// The benchmark's arithmetic and its refusals: statistics, the trust flag, default sizing and
// every option error, all without loading any crypto.
import {
  BENCH_ERROR_CODES,
  BenchError,
  blobsFor,
  defaultBlobCount,
  defaultWorkerCounts,
  median,
  resolveBenchOptions,
  SPREAD_LIMIT,
  spread,
  startRssSampler,
  summarize,
  timeRepeated,
} from "@cellar/bench";
import { FRAME_HEADER_BYTES, MAX_BATCH_BYTES, PAYLOAD_BYTES_PER_BLOB } from "@cellar/params";
import { CellarError } from "@cellar/utils";
import t from "tap";

t.test("median and spread", async (t) => {
  t.equal(median([3]), 3);
  t.equal(median([5, 1, 3]), 3, "odd count: the middle after sorting");
  t.equal(median([4, 1, 3, 2]), 2.5, "even count: the mean of the middle two");
  t.throws(() => median([]), RangeError);
  t.equal(spread([2]), 0, "one sample has no spread");
  t.equal(spread([9, 10, 11]), 0.2, "(max − min) ÷ median");
  t.equal(spread([0, 0]), 0, "a zero median does not divide by zero");
});

t.test("summaries say when a figure is too noisy to trust", async (t) => {
  t.equal(SPREAD_LIMIT, 0.1, "the same 10% limit as bench/encode.ts");
  const calm = summarize([1.0, 1.05, 0.98]);
  t.match(calm, { median: 1.0, min: 0.98, max: 1.05, samples: 3, trusted: true });
  t.equal(calm.spread.toFixed(2), "0.07");
  const wide = summarize([1.0, 1.2, 0.9]);
  t.equal(wide.trusted, false, "30% spread is not trusted");
  t.equal(wide.spread.toFixed(2), "0.30");
  t.equal(summarize([1.0]).trusted, false, "a single run cannot show its own noise");
  t.equal(summarize([1.0, 1.1]).trusted, true, "exactly at the limit is still trusted");
  t.equal(summarize([1.0, 1.2], 0.25).trusted, true, "the limit can be given");
});

t.test("defaults: worker counts up to the cores, and a batch of full rounds", async (t) => {
  t.same(defaultWorkerCounts(1), [1]);
  t.same(defaultWorkerCounts(2), [1, 2]);
  t.same(defaultWorkerCounts(8), [1, 2, 3, 4, 5, 6, 7, 8]);
  t.same(defaultWorkerCounts(12), [1, 2, 4, 8, 12], "past 8 cores: powers of two and the core count");
  t.same(defaultWorkerCounts(16), [1, 2, 4, 8, 16]);

  t.equal(defaultBlobCount([1, 2], 12), 12);
  t.equal(defaultBlobCount([1, 2], 4), 4);
  t.equal(defaultBlobCount([1, 2, 3, 4], 12), 12, "12 is a multiple of 1, 2, 3 and 4");
  t.equal(defaultBlobCount([1, 2, 4, 8, 16], 12), 16, "rounded up to a multiple of 16");
  t.equal(defaultBlobCount([5, 7, 9], 12), 18, "a large lcm falls back to multiples of the largest count");
  t.equal(defaultBlobCount([1024], 12), 1024, "capped at the batch limit");

  t.equal(blobsFor(1), 1);
  t.equal(blobsFor(PAYLOAD_BYTES_PER_BLOB - FRAME_HEADER_BYTES), 1, "the header counts");
  t.equal(blobsFor(PAYLOAD_BYTES_PER_BLOB - FRAME_HEADER_BYTES + 1), 2);
  t.equal(blobsFor(4 * 1024 * 1024), 34, "bench/encode.ts's 4 MiB default is 34 blobs");

  const std = resolveBenchOptions({ cores: 2 });
  t.same(std, {
    bytes: 12 * PAYLOAD_BYTES_PER_BLOB - FRAME_HEADER_BYTES,
    blobs: 12,
    workers: [1, 2],
    runs: 3,
    warmup: 1,
    cores: 2,
  });
  const quick = resolveBenchOptions({ cores: 2, quick: true });
  t.match(quick, { blobs: 4, runs: 2, warmup: 1, workers: [1, 2] });
  t.match(resolveBenchOptions({ cores: 2, quick: true, runs: 5, bytes: 1000 }), { runs: 5, bytes: 1000, blobs: 1 });
  t.same(resolveBenchOptions({ workers: [4, 1, 2, 2] }).workers, [1, 2, 4], "sorted, duplicates dropped");
  t.ok(resolveBenchOptions().cores >= 1, "the machine's cores by default");
});

t.test("every bad option is refused up front with its own code", async (t) => {
  const cases: [Parameters<typeof resolveBenchOptions>[0], string][] = [
    [{ bytes: 0 }, "CELLAR_ERR_BENCH_INVALID_SIZE"],
    [{ bytes: 1.5 }, "CELLAR_ERR_BENCH_INVALID_SIZE"],
    [{ bytes: MAX_BATCH_BYTES + 1 }, "CELLAR_ERR_BENCH_INVALID_SIZE"],
    [{ workers: [] }, "CELLAR_ERR_BENCH_INVALID_WORKERS"],
    [{ workers: [0] }, "CELLAR_ERR_BENCH_INVALID_WORKERS"],
    [{ workers: [1, 2.5] }, "CELLAR_ERR_BENCH_INVALID_WORKERS"],
    [{ workers: [2000] }, "CELLAR_ERR_BENCH_INVALID_WORKERS"],
    [{ cores: 0 }, "CELLAR_ERR_BENCH_INVALID_WORKERS"],
    [{ runs: 0 }, "CELLAR_ERR_BENCH_INVALID_RUNS"],
    [{ runs: 101 }, "CELLAR_ERR_BENCH_INVALID_RUNS"],
    [{ warmup: -1 }, "CELLAR_ERR_BENCH_INVALID_WARMUP"],
    [{ warmup: 11 }, "CELLAR_ERR_BENCH_INVALID_WARMUP"],
  ];
  for (const [options, code] of cases) {
    t.throws(
      () => resolveBenchOptions({ cores: 2, ...options }),
      { code, name: "BenchError" },
      JSON.stringify(options),
    );
  }
  try {
    resolveBenchOptions({ workers: [0, 3] });
    t.fail("should throw");
  } catch (err) {
    t.ok(err instanceof BenchError && err instanceof CellarError, "a CellarError subclass");
    t.same((err as BenchError).context, { workers: [0, 3] }, "the context names the bad value");
  }
  for (const code of BENCH_ERROR_CODES) t.match(code, /^CELLAR_ERR_BENCH_[A-Z_]+$/);
});

t.test("timeRepeated and the RSS sampler", async (t) => {
  let calls = 0;
  const per = timeRepeated(() => calls++, 5);
  t.ok(calls >= 1 && per > 0, "repeats until the minimum time is filled");
  const readings = [100, 300, 200, 150];
  const sampler = startRssSampler(1000, () => readings.shift() ?? 120);
  sampler.sample();
  t.equal(sampler.takePeak(), 300, "the peak of the window");
  t.equal(sampler.takePeak(), 150, "a new window starts at the reading taken when the last one closed");
  t.equal(sampler.overallPeak, 300);
  sampler.stop();
  const real = startRssSampler(1);
  await new Promise((r) => setTimeout(r, 10));
  t.ok(real.overallPeak > 1024 * 1024, "the default reads this process's RSS");
  real.stop();
});
