import type { BenchReport } from "./report.js";
import { formatRate } from "./report-text.js";

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A round step near `span / 6`: 1, 2 or 5 times a power of ten, so an axis gets 3 to 6 intervals. */
export function niceStep(span: number): number {
  const raw = span / 6;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

const WIDTH = 900;
const COLORS = { encode: "#1f6fb4", floor: "#e07b10", ideal: "#777", target: "#bbb", gf256: "#2a9d3a", bar: "#8aa9c8" };
const n = (x: number) => x.toFixed(1);
const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? "" : "s"}`;

function text(x: number, y: number, content: string, attrs = ""): string {
  return `<text x="${n(x)}" y="${n(y)}"${attrs ? ` ${attrs}` : ""}>${escapeXml(content)}</text>`;
}

/** Panel A: payload MB/s against workers, the encode beside the raw floor, linear scaling and its target. */
function scalingPanel(report: BenchReport): { svg: string; height: number } {
  const { results, reference, machine, config } = report;
  const left = 70;
  const right = 600;
  const top = 70;
  const bottom = 360;
  const first = results[0];
  const last = results[results.length - 1];
  if (!first || !last) return { svg: "", height: 0 };
  const w0 = first.workers;
  const maxW = Math.max(last.workers, 1);
  const base = first.encodeMBps / w0;
  const highest = Math.max(
    ...results.flatMap((r) => [...r.encodeRunsMBps, ...r.rawFloorRunsMBps, r.encodeMBps, r.rawFloorMBps]),
    base * maxW,
  );
  const step = niceStep(highest * 1.1);
  const yMax = Math.ceil((highest * 1.1) / step) * step;
  const xMax = maxW * 1.08;
  const x = (w: number) => left + (w / xMax) * (right - left);
  const y = (v: number) => bottom - (Math.min(v, yMax) / yMax) * (bottom - top);
  const parts: string[] = [];

  parts.push(
    text(
      20,
      28,
      `Encode throughput against workers (payload MB/s, median of ${plural(config.runs, "run")})`,
      'class="title"',
    ),
    text(
      20,
      48,
      `${(config.bytes / 1e6).toFixed(2)} MB = ${plural(config.blobs, "blob")} per batch · ${plural(machine.cores, "core")} · ${machine.cpu} · Node ${machine.node} · ${report.startedAt.slice(0, 10)}`,
      'class="sub"',
    ),
  );
  // Grid and axes.
  for (let v = 0; v <= yMax + step / 2; v += step) {
    parts.push(
      `<line class="grid" x1="${n(left)}" y1="${n(y(v))}" x2="${n(right)}" y2="${n(y(v))}"/>`,
      text(left - 8, y(v) + 4, formatRate(v), 'text-anchor="end"'),
    );
  }
  for (const r of results) {
    parts.push(text(x(r.workers), bottom + 18, String(r.workers), 'text-anchor="middle"'));
  }
  parts.push(
    `<line class="axis" x1="${n(left)}" y1="${n(bottom)}" x2="${n(right)}" y2="${n(bottom)}"/>`,
    `<line class="axis" x1="${n(left)}" y1="${n(top)}" x2="${n(left)}" y2="${n(bottom)}"/>`,
    text((left + right) / 2, bottom + 38, "workers (blobs encoded at once on the pool)", 'text-anchor="middle"'),
    text(
      18,
      (top + bottom) / 2,
      "MB/s of payload",
      `transform="rotate(-90 18 ${n((top + bottom) / 2)})" text-anchor="middle"`,
    ),
  );
  if (machine.cores <= xMax) {
    parts.push(
      `<line class="cores" x1="${n(x(machine.cores))}" y1="${n(top)}" x2="${n(x(machine.cores))}" y2="${n(bottom)}"/>`,
      text(x(machine.cores) - 4, top + 12, `${machine.cores} cores`, 'text-anchor="end" class="note"'),
    );
  }

  // Linear scaling from the smallest count, and the target share of it.
  const lineTo = (mult: number, cls: string, ref: string) =>
    `<line class="${cls}" data-reference="${ref}" x1="${n(x(0))}" y1="${n(y(0))}" x2="${n(x(maxW))}" y2="${n(y(base * maxW * mult))}"/>`;
  parts.push(lineTo(1, "ideal", "linear"), lineTo(report.verdict.scalingTarget, "target", "scaling-target"));

  // The GF(2^8) reference: a line when it fits, otherwise a marker at the top edge with its value.
  if (reference.gf256MBps <= yMax) {
    parts.push(
      `<line class="gf256" data-reference="gf256" data-mbps="${reference.gf256MBps}" x1="${n(left)}" y1="${n(y(reference.gf256MBps))}" x2="${n(right)}" y2="${n(y(reference.gf256MBps))}"/>`,
    );
  } else {
    parts.push(
      `<g data-reference="gf256" data-mbps="${reference.gf256MBps}" data-offscale="true">`,
      `<line class="gf256" x1="${n(left)}" y1="${n(top - 6)}" x2="${n(right)}" y2="${n(top - 6)}"/>`,
      text(
        right,
        top - 10,
        `GF(2^8) Reed–Solomon, 1 thread: ${formatRate(reference.gf256MBps)} MB/s ↑ off scale (${(reference.gf256MBps / reference.rawFloorMBps).toFixed(0)}× the KZG floor)`,
        'text-anchor="end" class="note gf"',
      ),
      "</g>",
    );
  }

  const series = (
    name: string,
    cls: string,
    pick: (r: (typeof results)[number]) => number,
    runs: (r: (typeof results)[number]) => readonly number[],
    shape: "circle" | "square",
  ) => {
    const points = results.map((r) => `${n(x(r.workers))},${n(y(pick(r)))}`).join(" ");
    const out = [`<g class="${cls}" data-series="${name}">`, `<polyline points="${points}"/>`];
    for (const r of results) {
      const v = pick(r);
      const cx = x(r.workers);
      const cy = y(v);
      const rs = runs(r);
      out.push(
        `<line class="bar-range" x1="${n(cx)}" y1="${n(y(Math.min(...rs)))}" x2="${n(cx)}" y2="${n(y(Math.max(...rs)))}"/>`,
      );
      const attrs = `class="point" data-series="${name}" data-workers="${r.workers}" data-mbps="${v}"`;
      const tip = `<title>${escapeXml(`${name}, ${plural(r.workers, "worker")}: ${formatRate(v)} MB/s (runs ${rs.map(formatRate).join(", ")})`)}</title>`;
      out.push(
        shape === "circle"
          ? `<circle ${attrs} cx="${n(cx)}" cy="${n(cy)}" r="5">${tip}</circle>`
          : `<rect ${attrs} x="${n(cx - 4.5)}" y="${n(cy - 4.5)}" width="9" height="9">${tip}</rect>`,
      );
    }
    return [...out, "</g>"].join("");
  };
  parts.push(
    series(
      "raw-floor",
      "floor",
      (r) => r.rawFloorMBps,
      (r) => r.rawFloorRunsMBps,
      "square",
    ),
    series(
      "encode",
      "encode",
      (r) => r.encodeMBps,
      (r) => r.encodeRunsMBps,
      "circle",
    ),
  );
  for (const r of results) {
    const label = `${formatRate(r.encodeMBps)}${r.workers > w0 ? ` (×${r.scaling.toFixed(2)})` : ""}`;
    parts.push(text(x(r.workers) - 9, y(r.encodeMBps) - 9, label, 'text-anchor="end" class="value"'));
  }

  // Legend.
  const lx = right + 20;
  const legend: [string, string][] = [
    ["encode", "Cellar encode (full pipeline)"],
    ["floor", "raw KZG floor (library alone)"],
    ["ideal", `linear scaling from ${plural(w0, "worker")}`],
    ["target", `${Math.round(report.verdict.scalingTarget * 100)}% of linear (target)`],
    ["gf256", "GF(2^8) RS, no proofs, 1 thread"],
  ];
  legend.forEach(([cls, label], i) => {
    const ly = top + 10 + i * 22;
    parts.push(
      `<line class="${cls} legend" x1="${n(lx)}" y1="${n(ly)}" x2="${n(lx + 22)}" y2="${n(ly)}"/>`,
      text(lx + 28, ly + 4, label, 'class="legend-text"'),
    );
  });
  parts.push(
    text(lx, top + 10 + legend.length * 22 + 8, "bars: fastest to slowest run", 'class="note"'),
    text(lx, top + 10 + legend.length * 22 + 24, "(×s): scaling vs linear", 'class="note"'),
  );
  // The verdict travels with the chart, so a chart seen alone still says whether to trust it.
  const { verdict } = report;
  const judged = [
    verdict.minScaling === null
      ? ""
      : `scaling ${verdict.minScaling.toFixed(2)} at worst (target ≥ ${verdict.scalingTarget})`,
    `encode ÷ raw floor ${verdict.ratio.toFixed(3)} (target ≥ ${verdict.ratioTarget})`,
  ].filter(Boolean);
  const noisyEncode = results.filter((r) => !r.trusted).map((r) => r.workers);
  const noisy = [
    ...(noisyEncode.length > 0
      ? [`encode on ${noisyEncode.join(", ")} worker${noisyEncode.length === 1 && noisyEncode[0] === 1 ? "" : "s"}`]
      : []),
    ...verdict.noisy.filter((x) => !x.startsWith("encode on")),
  ];
  parts.push(
    verdict.trusted
      ? text(
          20,
          bottom + 62,
          `${judged.join(" · ")} · every spread within ${verdict.spreadLimit * 100}%`,
          'class="note" data-verdict="trusted"',
        )
      : text(20, bottom + 62, `⚠ too noisy to trust: ${noisy.join(", ")}`, 'class="warn" data-verdict="noisy"'),
  );
  if (verdict.starved.length > 0) {
    parts.push(
      text(
        20,
        bottom + 80,
        `⚠ machine busy: on ${verdict.starved.join(", ")} worker(s) the run got under ${verdict.cpuShareFloor * 100}% of its cores; these figures understate it`,
        'class="warn" data-verdict="starved"',
      ),
    );
  }
  return { svg: parts.join("\n"), height: bottom + (verdict.starved.length > 0 ? 98 : 80) };
}

/** Panel B: every rate of the run on one log scale, so a 30× gap and a 5% gap both show. */
function referencePanel(report: BenchReport, offset: number): { svg: string; height: number } {
  const { results, reference, storage } = report;
  const first = results[0];
  const last = results[results.length - 1];
  if (!first || !last) return { svg: "", height: 0 };
  const bars: [string, string, number][] = [
    ["gf256", "GF(2^8) Reed–Solomon, 1 thread, no proofs", reference.gf256MBps],
    ["cells-only", `cell extension, ${plural(storage.workers, "worker")}, no proofs`, storage.cellsOnlyMBps],
    ["raw-floor", `raw KZG floor, ${plural(reference.workers, "worker")}`, reference.rawFloorMBps],
    ["encode-first", `Cellar encode, ${plural(first.workers, "worker")}`, first.encodeMBps],
    ...(last.workers === first.workers
      ? []
      : [
          ["encode-last", `Cellar encode, ${plural(last.workers, "worker")}`, last.encodeMBps] as [
            string,
            string,
            number,
          ],
        ]),
    ["recovery", `recovery from parity, ${plural(storage.workers, "worker")}*`, storage.recoveryMBps],
  ];
  const left = 400;
  const right = 800;
  const top = offset + 50;
  const rowH = 26;
  const positive = bars.map((b) => b[2]).filter((v) => v > 0);
  const values = positive.length > 0 ? positive : [1];
  const lo = Math.floor(Math.log10(Math.min(...values)));
  let hi = Math.ceil(Math.log10(Math.max(...values)));
  if (hi === lo) hi++;
  const x = (v: number) => left + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (right - left);
  const bottom = top + bars.length * rowH;
  const parts = [text(20, offset + 24, "Reference points, same run (MB/s of payload, log scale)", 'class="title"')];
  for (let d = lo; d <= hi; d++) {
    parts.push(
      `<line class="grid" x1="${n(x(10 ** d))}" y1="${n(top - 6)}" x2="${n(x(10 ** d))}" y2="${n(bottom)}"/>`,
      text(x(10 ** d), bottom + 16, formatRate(10 ** d), 'text-anchor="middle"'),
    );
  }
  bars.forEach(([key, label, v], i) => {
    const by = top + i * rowH;
    parts.push(
      text(left - 8, by + 14, label, 'text-anchor="end"'),
      `<rect class="${key === "gf256" ? "ref-bar gf" : "ref-bar"}" data-bar="${key}" data-mbps="${v}" x="${n(left)}" y="${n(by + 3)}" width="${n(Math.max(1, x(v) - left))}" height="${rowH - 8}"/>`,
      text(x(v) + 6, by + 14, `${formatRate(v)}`, 'class="value"'),
    );
  });
  parts.push(
    text(
      20,
      bottom + 38,
      "* recovery recomputes all 128 proofs too; data-only recovery awaits the native addon",
      'class="note"',
    ),
  );
  return { svg: parts.join("\n"), height: bottom + 50 - offset };
}

/** The report's chart as a standalone SVG document: MB/s against workers, then the reference points. */
export function renderChartSvg(report: BenchReport): string {
  const a = scalingPanel(report);
  const b = referencePanel(report, a.height);
  const height = a.height + b.height;
  const style = `
text{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:12px;fill:#222}
.title{font-size:15px;font-weight:600}.sub,.note{fill:#666;font-size:11px}.value{font-size:11px;fill:#111;paint-order:stroke;stroke:#fff;stroke-width:3px}
.warn{fill:#b3261e}.grid{stroke:#e6e6e6}.axis{stroke:#444}.cores{stroke:#999;stroke-dasharray:2 3}
.encode polyline,line.encode{stroke:${COLORS.encode};stroke-width:2.5;fill:none}.encode .point{fill:${COLORS.encode}}
.floor polyline,line.floor{stroke:${COLORS.floor};stroke-width:2;stroke-dasharray:6 4;fill:none}.floor .point{fill:${COLORS.floor}}
.bar-range{stroke:#333;stroke-width:1}
.ideal{stroke:${COLORS.ideal};stroke-width:1.5;stroke-dasharray:2 3}.target{stroke:${COLORS.target};stroke-width:1.5;stroke-dasharray:8 4}
.gf256{stroke:${COLORS.gf256};stroke-width:2}.gf{fill:${COLORS.gf256}}text.gf{fill:${COLORS.gf256}}
.ref-bar{fill:${COLORS.bar}}.ref-bar.gf{fill:${COLORS.gf256}}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${n(height)}" width="${WIDTH}" height="${n(height)}" role="img" aria-label="cellar bench: encode MB/s against workers, with reference points">`,
    `<style>${style}</style>`,
    `<rect width="${WIDTH}" height="${n(height)}" fill="#fff"/>`,
    a.svg,
    b.svg,
    "</svg>",
  ].join("\n");
}
