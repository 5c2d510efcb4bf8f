import { extname } from "node:path";
import { CELLS_PER_EXT_BLOB } from "@cellar/params";
import { BenchError } from "./errors.js";
import type { BenchReport } from "./report.js";
import { escapeXml, renderChartSvg } from "./report-svg.js";
import { formatHeadline, formatRate, formatVerdict } from "./report-text.js";

export type ReportFormat = "html" | "svg";

/** The report format a file name asks for: `.html`/`.htm` or `.svg`; anything else is refused. */
export function reportFormatFor(path: string): ReportFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".html" || ext === ".htm") return "html";
  if (ext === ".svg") return "svg";
  throw new BenchError("CELLAR_ERR_BENCH_INVALID_REPORT_FORMAT", `a report is .html or .svg, got "${ext || path}"`, {
    path,
  });
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const cell = (v: string | number) => `<td>${escapeXml(String(v))}</td>`;
const row = (cells: (string | number)[]) => `<tr>${cells.map(cell).join("")}</tr>`;
const head = (cells: string[]) => `<tr>${cells.map((c) => `<th>${escapeXml(c)}</th>`).join("")}</tr>`;

/** A self-contained HTML page: the chart, the tables, the verdict, how to read them, and the JSON. */
export function renderHtmlReport(report: BenchReport): string {
  const { results, parts, storage, reference, memory } = report;
  const scalingRows = results.map((r) =>
    row([
      r.workers,
      r.encodeMBps.toFixed(3),
      r.rawFloorMBps.toFixed(3),
      r.ratio.toFixed(3),
      r.blobsPerSecond.toFixed(2),
      `${r.scaling.toFixed(2)}${r.tailCeiling < 1 ? ` (batch allows ${r.tailCeiling.toFixed(2)})` : ""}`,
      r.rawFloorScaling.toFixed(2),
      `${pct(r.spread)}${r.trusted ? "" : " too noisy"}`,
      pct(r.cpuShare),
      `${r.peakRssMiB} MiB`,
    ]),
  );
  const partRows = (
    [
      ["packing (frame + pack)", parts.packing],
      ["hashing (versioned hashes + root)", parts.hashing],
      ["commitment", parts.commit],
      ["cells + proofs", parts.cellsAndProofs],
    ] as const
  ).map(([name, p]) => row([name, p.msPerBlob.toFixed(p.msPerBlob < 1 ? 3 : 1), formatRate(p.MBps), pct(p.share)]));
  // The JSON rides along for machines; "<" is escaped so no string in it can close the script element.
  const json = JSON.stringify(report, null, 2).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cellar bench: ${escapeXml(report.machine.cpu)}, ${report.machine.cores} cores</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:880px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:right}
th:first-child,td:first-child{text-align:left}.verdict li{margin:.3em 0}code{background:#f4f4f4;padding:0 .2em}
figure{margin:1em 0}svg{max-width:100%;height:auto}
</style>
</head>
<body>
<h1>cellar bench</h1>
<p>${escapeXml(formatHeadline(report))}. Measured ${escapeXml(report.startedAt)} in ${report.seconds.toFixed(0)} s on ${escapeXml(report.machine.platform)}, Node ${escapeXml(report.machine.node)}.</p>
<h2>Verdict</h2>
<ul class="verdict">${formatVerdict(report)
    .map((l) => `<li>${escapeXml(l)}</li>`)
    .join("")}</ul>
<figure>
${renderChartSvg(report)}
</figure>
<h2>Encode on the pool</h2>
<table>${head(["workers", "encode MB/s", "raw floor MB/s", "ratio", "blobs/s", "scaling", "floor scaling", "spread", "cpu use", "peak RSS"])}${scalingRows.join("")}</table>
<h2>Parts, one worker, per blob</h2>
<table>${head(["part", "ms/blob", "MB/s", "share"])}${partRows.join("")}</table>
<p>Summed, the parts give ${formatRate(parts.sumMBps)} MB/s; spread ${pct(parts.spread)}.</p>
<h2>Storage node, ${storage.workers} worker(s)</h2>
<table>${head(["operation", "rate", "note"])}${row(["verification", `${formatRate(storage.verifyCellsPerSecond)} cells/s`, `${formatRate(storage.verifyCellsPerSecond / CELLS_PER_EXT_BLOB)} blobs/s, ${CELLS_PER_EXT_BLOB} cells per batch call`])}${row(["recovery", `${formatRate(storage.recoveryMBps)} MB/s`, storage.recoveryNote])}${row(["data-only recovery", `${formatRate(storage.dataRecoveryMBps)} MB/s`, storage.dataRecoveryNote])}${row(["cells only", `${formatRate(storage.cellsOnlyMBps)} MB/s`, "computeCells: the extension without commitment or proofs"])}</table>
<h2>Reference points</h2>
<table>${head(["reference", "MB/s", "note"])}${row(["raw KZG floor", formatRate(reference.rawFloorMBps), `node-eth-kzg alone, ${reference.workers} worker(s)`])}${row(["GF(2^8) Reed–Solomon", formatRate(reference.gf256MBps), reference.gf256Note])}</table>
<p>Memory: ${memory.baselineRssMiB} MiB resident after warm-up (both KZG contexts loaded), peak ${memory.peakRssMiB} MiB.</p>
<h2>How to read this</h2>
<p>MB is 10<sup>6</sup> bytes of the rollup's payload. <b>encode</b> is the whole pipeline on the pool;
<b>raw floor</b> is the same KZG calls with nothing around them, measured in the same runs, so their
<b>ratio</b> is robust to a noisy machine. <b>scaling</b> is encode MB/s on <i>w</i> workers ÷
(<i>w</i> × one worker's): the pool should stay above ${report.verdict.scalingTarget} up to the core count.
<b>spread</b> is (slowest − fastest) ÷ median over the runs; above ${pct(report.verdict.spreadLimit)} the figure
is too noisy to act on. Size encoders by cores: MB/s per core is the encode on one worker.</p>
<script type="application/json" id="cellar-bench-report">
${json}
</script>
</body>
</html>
`;
}

/** The report file's contents in the given format. */
export function renderReport(report: BenchReport, format: ReportFormat): string {
  return format === "svg"
    ? `<?xml version="1.0" encoding="UTF-8"?>\n${renderChartSvg(report)}\n`
    : renderHtmlReport(report);
}
