// `cellar bench` through the CLI in-process: a quick real run that prints JSON and writes an HTML
// report holding the chart's points, then the help text and the refusals with their exit codes.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "@cellar/test-utils/cli";
import t from "tap";

t.test("a quick run prints the JSON report and writes an HTML chart", async (t) => {
  const dir = t.testdir({});
  const out = join(dir, "r.html");
  const run = await runCli(["bench", "--quick", "--json", "--workers", "1", "--mib", "0.2", "--out", out]);
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stderr, "", "no progress bar off a terminal, and nothing else on stderr");
  const report = JSON.parse(run.stdout);
  t.match(report, {
    config: { bytes: Math.round(0.2 * 1024 * 1024), blobs: 2, runs: 2, warmup: 1, workers: [1] },
    results: [{ workers: 1, encodeMBps: Number, blobsPerSecond: Number, rawFloorMBps: Number, scaling: 1 }],
    reference: { rawFloorMBps: Number, gf256MBps: Number },
    parts: { commit: { msPerBlob: Number }, cellsAndProofs: { msPerBlob: Number } },
    storage: { verifyCellsPerSecond: Number, recoveryMBps: Number, recoveryNote: String },
    memory: { peakRssMiB: Number },
    verdict: { spreadLimit: 0.1 },
    out,
  });
  const [r] = report.results;
  t.ok(r.encodeMBps > 0 && r.blobsPerSecond > 0, "positive figures");
  t.ok(report.reference.rawFloorMBps > 0 && report.reference.gf256MBps > 0);

  t.ok(existsSync(out));
  const html = readFileSync(out, "utf8");
  const svg = /<svg[\s\S]*?<\/svg>/.exec(html)?.[0] ?? "";
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const point = /<circle class="point" data-series="encode" data-workers="1" data-mbps="([\d.e-]+)"/.exec(svg);
  t.equal(Number(point?.[1]), r.encodeMBps, "the chart's encode point is the JSON's figure");
  t.match(svg, new RegExp(`data-series="raw-floor" data-workers="1" data-mbps="${r.rawFloorMBps}"`));
  t.match(svg, new RegExp(`data-reference="gf256" data-mbps="${report.reference.gf256MBps}"`));
  t.match(svg, /data-reference="linear"/);
});

t.test("a quick run prints the table", async (t) => {
  const dir = t.testdir({});
  const out = join(dir, "chart.svg");
  const run = await runCli(["bench", "--quick", "--workers", "1", "--mib", "0.1", "--runs", "1", "--out", out]);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^cellar bench: 0\.10 MB payload = 1 blob, 1 run per setting/);
  t.match(run.stdout, /workers {2}encode MB\/s {2}raw floor MB\/s/);
  t.match(run.stdout, /warning: too noisy to trust/, "one run cannot be trusted, and it says so");
  t.match(run.stdout, /report with the chart written to /);
  t.match(readFileSync(out, "utf8"), /^<\?xml[^>]*>\n<svg /);
});

t.test("help and refusals", async (t) => {
  const help = await runCli(["bench", "--help"]);
  t.equal(help.code, 0);
  t.match(help.stdout, /Examples:\n\s+\$ cellar bench --quick/);
  t.match(help.stdout, /--out <file>/);
  for (const bad of [
    ["--workers", "0"],
    ["--workers", "3-1"],
    ["--workers", "two"],
    ["--mib", "-1"],
    ["--mib", "x"],
    ["--runs", "0"],
    ["--out", "report.pdf"],
    ["--frobnicate"],
  ]) {
    const run = await runCli(["bench", ...bad]);
    t.equal(run.code, 2, `${bad.join(" ")} is a usage error`);
    t.match(run.stderr, /^cellar: /);
  }
  const tooBig = await runCli(["bench", "--mib", "200"]);
  t.equal(tooBig.code, 1, "a batch over the limit is refused before anything is measured");
  t.match(tooBig.stderr, /CELLAR_ERR_BENCH_INVALID_SIZE/);
  const nowhere = await runCli(["bench", "--quick", "--out", "/nonexistent-dir/r.html"]);
  t.equal(nowhere.code, 1, "an unwritable report is refused before anything is measured");
  t.match(nowhere.stderr, /cannot write the report to \/nonexistent-dir\/r\.html \[CELLAR_ERR_CLI_OUTPUT\]/);
  const dir = t.testdir({ "taken.html": {} });
  const taken = await runCli(["bench", "--quick", "--out", join(dir, "taken.html")]);
  t.equal(taken.code, 1, "a directory in the report's place is refused too");
  t.match(taken.stderr, /CELLAR_ERR_CLI_OUTPUT/);
});
