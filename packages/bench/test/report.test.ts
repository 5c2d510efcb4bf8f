// The report writers on a fixed report: the SVG chart and the HTML page are parsed back, and must
// hold every data point, the reference lines and the verdict; the terminal text must warn when it should.
import {
  type BenchReport,
  escapeXml,
  formatRate,
  formatReportText,
  niceStep,
  renderChartSvg,
  renderHtmlReport,
  renderReport,
  reportFormatFor,
  type ScalingResult,
} from "@cellar/bench";
import t from "tap";

function result(workers: number, encodeMBps: number, extra: Partial<ScalingResult> = {}): ScalingResult {
  return {
    workers,
    encodeMBps,
    blobsPerSecond: encodeMBps / 0.127,
    rawFloorMBps: encodeMBps * 1.01,
    ratio: 0.99,
    scaling: encodeMBps / (workers * 0.486),
    rawFloorScaling: encodeMBps / (workers * 0.486),
    tailCeiling: 1,
    spread: 0.05,
    trusted: true,
    cpuShare: 0.98,
    peakRssMiB: 600,
    encodeRunsMBps: [encodeMBps * 0.98, encodeMBps, encodeMBps * 1.02],
    rawFloorRunsMBps: [encodeMBps, encodeMBps * 1.01, encodeMBps * 1.03],
    ...extra,
  };
}

function report(overrides: Partial<BenchReport> = {}): BenchReport {
  const part = (msPerBlob: number, share: number) => ({ msPerBlob, MBps: 0.127 / (msPerBlob / 1000), share });
  const results = overrides.results ?? [result(1, 0.486), result(2, 0.932)];
  const last = results[results.length - 1];
  return {
    version: 1,
    startedAt: "2026-11-28T10:00:00.000Z",
    seconds: 75,
    machine: {
      cores: 2,
      threadPool: 4,
      cpu: "AMD EPYC <test>",
      node: "v20.20.2",
      platform: "linux-x64",
      totalMemoryMiB: 24105,
      loadAverage: 0.3,
    },
    config: {
      bytes: 1523700,
      mib: 1.453,
      quick: false,
      blobs: 12,
      runs: 3,
      warmup: 1,
      workers: results.map((r) => r.workers),
    },
    results,
    parts: {
      workers: 1,
      packing: part(0.8, 0.002),
      hashing: part(0.01, 0),
      commit: part(100, 0.22),
      cellsAndProofs: part(350, 0.778),
      sumMBps: 0.28,
      spread: 0.04,
      trusted: true,
    },
    storage: {
      workers: 2,
      verifyCellsPerSecond: 3650,
      recoveryMBps: 0.61,
      recoveryNote: "includes proof recomputation",
      dataRecoveryMBps: 18.3,
      dataRecoveryNote: "no proofs, native addon",
      cellsOnlyMBps: 24.1,
      spread: 0.03,
      spreads: { verify: 0.01, recovery: 0.03, cellsOnly: 0.02, dataRecovery: 0.02 },
      trusted: true,
    },
    reference: {
      rawFloorMBps: 0.489,
      workers: 1,
      gf256MBps: 15.2,
      gf256Note: "wasm",
      gf256Spread: 0.02,
      gf256Trusted: true,
    },
    memory: { baselineRssMiB: 480, peakRssMiB: 612 },
    verdict: {
      spreadLimit: 0.1,
      noisy: [],
      trusted: true,
      starved: [],
      cpuShareFloor: 0.8,
      scalingTarget: 0.9,
      minScaling: 0.96,
      scalingOk: true,
      ratioTarget: 0.95,
      ratio: last?.ratio ?? 0,
      ratioOk: true,
    },
    ...overrides,
  };
}

/** A small XML reader: checks that every tag closes in order and returns the elements with their attributes. */
function parseXml(xml: string): { name: string; attrs: Record<string, string> }[] {
  const elements: { name: string; attrs: Record<string, string> }[] = [];
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, "");
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g)) {
    const [, closing, name, rawAttrs, selfClosing] = m as unknown as [string, string, string, string, string];
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1] as string] = a[2] as string;
    elements.push({ name, attrs });
    if (!selfClosing) stack.push(name);
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(", ")}`);
  return elements;
}

t.test("the SVG chart holds every point, the error bars and the reference lines", async (t) => {
  const svg = renderChartSvg(report());
  const elements = parseXml(svg);
  t.equal(elements[0]?.name, "svg");
  t.equal(elements[0]?.attrs.xmlns, "http://www.w3.org/2000/svg");
  const points = (series: string) =>
    elements
      .filter((e) => e.attrs.class === "point" && e.attrs["data-series"] === series)
      .map((e) => [Number(e.attrs["data-workers"]), Number(e.attrs["data-mbps"])]);
  t.same(points("encode"), [
    [1, 0.486],
    [2, 0.932],
  ]);
  t.same(points("raw-floor"), [
    [1, 0.486 * 1.01],
    [2, 0.932 * 1.01],
  ]);
  t.equal(elements.filter((e) => e.attrs.class === "bar-range").length, 4, "a run range per point and series");
  const refs = new Set(elements.map((e) => e.attrs["data-reference"]).filter(Boolean));
  t.same([...refs].sort(), ["gf256", "linear", "scaling-target"]);
  const gf = elements.find((e) => e.attrs["data-reference"] === "gf256");
  t.equal(gf?.attrs["data-offscale"], "true", "15 MB/s is far above the encode: marked off scale");
  t.equal(gf?.attrs["data-mbps"], "15.2");
  t.match(svg, /GF\(2\^8\) Reed–Solomon, 1 thread: 15\.2 MB\/s ↑ off scale \(31× the KZG floor\)/);
  const bars = Object.fromEntries(
    elements.filter((e) => e.attrs["data-bar"]).map((e) => [e.attrs["data-bar"], Number(e.attrs["data-mbps"])]),
  );
  t.same(bars, {
    gf256: 15.2,
    "cells-only": 24.1,
    "raw-floor": 0.489,
    "encode-first": 0.486,
    "encode-last": 0.932,
    recovery: 0.61,
  });
  t.match(svg, /AMD EPYC &#60;test&#62;/, "text is escaped");
  t.match(svg, /2 cores/, "the core count is marked");
  t.match(svg, /data-verdict="trusted"[^>]*>scaling 0\.96 at worst \(target ≥ 0\.9\) · encode ÷ raw floor 0\.990/);
  const noisy = renderChartSvg(
    report({
      results: [result(1, 0.486), result(2, 0.7, { trusted: false })],
      verdict: { ...report().verdict, trusted: false, noisy: ["encode on 2 workers", "storage node"] },
    }),
  );
  t.match(
    noisy,
    /data-verdict="noisy">⚠ too noisy to trust: encode on 2 workers, storage node</,
    "the chart alone warns",
  );
});

t.test("a reference inside the scale is a line; one worker count draws one encode bar", async (t) => {
  const slow = report({
    results: [result(1, 10)],
    reference: { rawFloorMBps: 10, workers: 1, gf256MBps: 12, gf256Note: "", gf256Spread: 0, gf256Trusted: true },
    machine: {
      cores: 8,
      threadPool: 8,
      cpu: "x",
      node: "v20",
      platform: "linux-x64",
      totalMemoryMiB: 1,
      loadAverage: 0,
    },
  });
  const elements = parseXml(renderChartSvg(slow));
  const gf = elements.find((e) => e.attrs["data-reference"] === "gf256");
  t.equal(gf?.name, "line");
  t.notOk(gf?.attrs["data-offscale"]);
  t.notOk(
    elements.some((e) => e.attrs["data-bar"] === "encode-last"),
    "no second encode bar",
  );
  t.notOk(
    elements.some((e) => e.attrs.class === "cores"),
    "8 cores lie beyond a chart of 1 worker",
  );
  const empty = renderChartSvg(report({ results: [] }));
  t.doesNotThrow(() => parseXml(empty), "an empty report still renders a valid document");
});

t.test("the HTML page embeds the chart, the tables, the verdict and the JSON", async (t) => {
  const html = renderHtmlReport(report());
  t.match(html, /^<!doctype html>/);
  const svg = /<svg[\s\S]*<\/svg>/.exec(html)?.[0] ?? "";
  t.ok(svg.length > 0, "the chart is inline");
  t.equal(parseXml(svg).filter((e) => e.attrs.class === "point").length, 4);
  const json = /<script type="application\/json" id="cellar-bench-report">\n([\s\S]*?)\n<\/script>/.exec(html)?.[1];
  const embedded = JSON.parse(json ?? "null");
  t.same(
    embedded.results.map((r: ScalingResult) => r.encodeMBps),
    [0.486, 0.932],
  );
  t.equal(embedded.machine.cpu, "AMD EPYC <test>", "the JSON round-trips, with < escaped inside the script");
  t.notMatch(json ?? "", /<test>/);
  t.match(html, /<td>0\.932<\/td>/);
  t.match(html, /pool scaling up to 2 workers: 0\.96 at worst \(target ≥ 0\.90\) ok/);
  t.match(html, /includes proof recomputation/);

  t.match(renderReport(report(), "svg"), /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg /);
  t.match(renderReport(report(), "html"), /^<!doctype html>/);
  t.equal(reportFormatFor("r.html"), "html");
  t.equal(reportFormatFor("dir/R.HTM"), "html");
  t.equal(reportFormatFor("/tmp/chart.svg"), "svg");
  t.throws(() => reportFormatFor("report.pdf"), { code: "CELLAR_ERR_BENCH_INVALID_REPORT_FORMAT" });
  t.throws(() => reportFormatFor("report"), { code: "CELLAR_ERR_BENCH_INVALID_REPORT_FORMAT" });
});

t.test("the terminal table, and its warnings when figures cannot be trusted", async (t) => {
  const text = formatReportText(report());
  t.match(text, /^cellar bench: 1\.52 MB payload = 12 blobs, 3 runs per setting after 1 warm-up, 2 cores/);
  t.match(
    text,
    /workers {2}encode MB\/s {2}raw floor MB\/s {2}ratio {2}blobs\/s {2}scaling {2}spread {2}cpu use {2}peak RSS/,
  );
  t.match(text, /\n {6}2 {8}0\.932 {11}0\.941/);
  t.match(text, /this machine encodes 0\.932 MB\/s of payload \(3\.4 GB\/hour\) on 2 workers/);
  t.match(text, /every spread is within 10\.0%/);
  t.match(text, /spread 3\.0% \(verification 1\.0%, recovery 3\.0%, cells only 2\.0%, data-only 2\.0%\)/);
  t.notMatch(text, /warning/);

  const noisy = report({
    results: [
      result(1, 0.486),
      result(2, 0.7, { spread: 0.25, trusted: false, scaling: 0.72, tailCeiling: 0.94 }),
      result(8, 0.9),
    ],
    verdict: {
      ...report().verdict,
      starved: [2],
      noisy: ["encode on 2 workers"],
      trusted: false,
      minScaling: 0.72,
      scalingOk: false,
      ratio: 0.9,
      ratioOk: false,
    },
  });
  const warned = formatReportText(noisy);
  t.match(warned, /25\.0%!/, "the noisy row is flagged");
  t.match(warned, /0\.72\*/, "a short last round is flagged");
  t.match(warned, /warning: too noisy to trust .*: encode on 2 workers; rerun with more --runs/);
  t.match(warned, /below target, but too noisy to judge/, "no pass or fail on noise");
  t.match(warned, /BELOW TARGET/, "a trusted miss is stated plainly");
  t.match(
    warned,
    /the raw KZG floor scales 0\.72 on the same runs: the limit is the library on this machine, not the pool/,
  );
  const lossy = report({
    results: [result(1, 0.486), result(2, 0.8, { scaling: 0.82, rawFloorScaling: 0.98 })],
    verdict: { ...report().verdict, minScaling: 0.82, scalingOk: false },
  });
  t.match(formatReportText(lossy), /the raw KZG floor scales 0\.98 on the same runs: the pool loses 16\.3% of it/);
  t.match(warned, /best possible scaling 0\.94/);
  t.match(warned, /thread pool has 4 threads, fewer than 8 workers; set UV_THREADPOOL_SIZE/);
  t.match(warned, /on 2 worker\(s\) the benchmark got under 80\.0% of its cores .*load average 0\.3 on 2 cores/);
  t.match(warned, / {6}98% {3}600 MiB/, "the cpu use column");
  const busy = renderChartSvg(noisy);
  t.match(busy, /data-verdict="starved">⚠ machine busy: on 2 worker\(s\) the run got under 80% of its cores/);
  t.doesNotThrow(() => parseXml(busy));

  const single = formatReportText(
    report({ results: [result(1, 0.5)], verdict: { ...report().verdict, minScaling: null, scalingOk: null } }),
  );
  t.notMatch(single, /pool scaling/, "one worker count has no scaling to judge");
  t.notMatch(text, /quick run/);
  const quick = formatReportText(report({ config: { ...report().config, quick: true, blobs: 4, runs: 2 } }));
  t.match(quick, /quick run \(4 blobs, 2 runs\): indicative only; size machines by a full `cellar bench`/);
});

t.test("number helpers", async (t) => {
  t.equal(formatRate(0.4861), "0.486");
  t.equal(formatRate(3.94), "3.94");
  t.equal(formatRate(15.23), "15.2");
  t.equal(formatRate(3650.4), "3650");
  t.equal(niceStep(1.1), 0.2);
  t.equal(niceStep(0.6), 0.1);
  t.equal(niceStep(30), 5);
  t.equal(niceStep(5), 1);
  t.equal(niceStep(45), 10);
  t.equal(escapeXml(`a<b>&"c'`), "a&#60;b&#62;&#38;&#34;c&#39;");
});
