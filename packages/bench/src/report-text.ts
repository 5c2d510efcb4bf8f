import { CELLS_PER_EXT_BLOB } from "@cellar/params";
import type { BenchReport } from "./report.js";

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** A rate with three significant digits, never in exponent form. */
export function formatRate(x: number): string {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

/** The first line of a run: what is measured, on what. */
export function formatHeadline(report: Pick<BenchReport, "config" | "machine">): string {
  const { config, machine } = report;
  return (
    `cellar bench: ${(config.bytes / 1e6).toFixed(2)} MB payload = ${plural(config.blobs, "blob")}, ` +
    `${plural(config.runs, "run")} per setting after ${config.warmup} warm-up, ` +
    `${plural(machine.cores, "core")} (${machine.cpu}), thread pool ${machine.threadPool}`
  );
}

/** The verdict as sentences an operator can act on, with every warning. */
export function formatVerdict(report: BenchReport): string[] {
  const { verdict, results, machine } = report;
  const best = results.reduce((a, b) => (b.encodeMBps > a.encodeMBps ? b : a));
  const lines = [
    `this machine encodes ${formatRate(best.encodeMBps)} MB/s of payload (${((best.encodeMBps * 3600) / 1000).toFixed(1)} GB/hour) on ${plural(best.workers, "worker")}`,
  ];
  // A verdict drawn from noisy figures says so, rather than pass or fail on noise.
  const judge = (ok: boolean | null, trusted: boolean) =>
    trusted ? (ok ? "ok" : "BELOW TARGET") : `${ok ? "ok" : "below target"}, but too noisy to judge`;
  if (verdict.minScaling !== null) {
    const upTo = Math.min(machine.cores, results[results.length - 1]?.workers ?? 1);
    const used = results.filter((r) => r.workers <= upTo);
    lines.push(
      `pool scaling up to ${plural(upTo, "worker")}: ${verdict.minScaling.toFixed(2)} at worst (target ≥ ${verdict.scalingTarget.toFixed(2)}) ${judge(
        verdict.scalingOk,
        used.every((r) => r.trusted),
      )}`,
    );
    // The floor ran in the same runs: when it scales no better, the machine or the library is the
    // limit, not the pool.
    const worst = used.find((r) => r.scaling === verdict.minScaling);
    if (worst && !verdict.scalingOk) {
      lines.push(
        worst.scaling >= 0.95 * worst.rawFloorScaling
          ? `  the raw KZG floor scales ${worst.rawFloorScaling.toFixed(2)} on the same runs: the limit is the library on this machine, not the pool`
          : `  the raw KZG floor scales ${worst.rawFloorScaling.toFixed(2)} on the same runs: the pool loses ${pct(1 - worst.scaling / worst.rawFloorScaling)} of it`,
      );
    }
  }
  const last = results[results.length - 1];
  lines.push(
    `encode / raw KZG floor on ${plural(last?.workers ?? 1, "worker")}: ${verdict.ratio.toFixed(3)} (target ≥ ${verdict.ratioTarget.toFixed(2)}) ${judge(verdict.ratioOk, last?.trusted ?? false)}`,
  );
  const short = results.filter((r) => r.tailCeiling < 1);
  if (short.length > 0) {
    lines.push(
      `note: ${plural(report.config.blobs, "blob")} leave the pool's last round short on ${short.map((r) => `${r.workers} (best possible scaling ${r.tailCeiling.toFixed(2)})`).join(", ")} workers; choose --mib so the blob count is a multiple of the worker counts`,
    );
  }
  if (verdict.starved.length > 0) {
    lines.push(
      `warning: on ${verdict.starved.join(", ")} worker(s) the benchmark got under ${pct(verdict.cpuShareFloor)} of its cores (see "cpu use"; load average ${machine.loadAverage} on ${plural(machine.cores, "core")} at the start): other processes were competing, so these figures understate this machine; rerun when it is idle`,
    );
  }
  const over = results.filter((r) => r.workers > machine.threadPool);
  if (over.length > 0) {
    lines.push(
      `note: the libuv thread pool has ${machine.threadPool} threads, fewer than ${over.map((r) => r.workers).join(", ")} workers; set UV_THREADPOOL_SIZE`,
    );
  }
  if (report.config.quick) {
    lines.push(
      `quick run (${plural(report.config.blobs, "blob")}, ${plural(report.config.runs, "run")}): indicative only; size machines by a full \`cellar bench\``,
    );
  }
  if (verdict.trusted) {
    lines.push(`every spread is within ${pct(verdict.spreadLimit)}: the figures can be trusted`);
  } else {
    lines.push(
      `warning: too noisy to trust (spread above ${pct(verdict.spreadLimit)}, or a single run): ${verdict.noisy.join(", ")}; rerun with more --runs on a quieter machine`,
    );
  }
  return lines;
}

/** The terminal report: the scaling table (as bench/encode.ts prints it), then parts, storage, references, verdict. */
export function formatReportText(report: BenchReport): string {
  const { results, parts, storage, reference, memory } = report;
  const out: string[] = [formatHeadline(report), ""];
  out.push("workers  encode MB/s  raw floor MB/s  ratio  blobs/s  scaling  spread  cpu use  peak RSS");
  for (const r of results) {
    const scaling = `${r.scaling.toFixed(2)}${r.tailCeiling < 1 ? "*" : " "}`;
    out.push(
      `${String(r.workers).padStart(7)}  ${r.encodeMBps.toFixed(3).padStart(11)}  ${r.rawFloorMBps.toFixed(3).padStart(14)}  ${r.ratio.toFixed(3).padStart(5)}  ${r.blobsPerSecond.toFixed(2).padStart(7)}  ${scaling.padStart(8)} ${pct(r.spread).padStart(6)}${r.trusted ? " " : "!"} ${`${Math.round(r.cpuShare * 100)}%`.padStart(7)}  ${`${r.peakRssMiB} MiB`.padStart(8)}`,
    );
  }
  if (results.some((r) => r.tailCeiling < 1)) out.push("(* the batch's last round is short: see the note below)");
  if (results.some((r) => !r.trusted)) out.push("(! spread too wide, or a single run: too noisy to trust)");

  out.push("", "parts, 1 worker, per blob   ms/blob      MB/s   share");
  const partRows: [string, (typeof parts)["commit"]][] = [
    ["packing (frame + pack)", parts.packing],
    ["hashing (hashes + root)", parts.hashing],
    ["commitment", parts.commit],
    ["cells + proofs", parts.cellsAndProofs],
  ];
  for (const [name, p] of partRows) {
    out.push(
      `  ${name.padEnd(24)} ${p.msPerBlob.toFixed(p.msPerBlob < 1 ? 3 : 1).padStart(8)}  ${formatRate(p.MBps).padStart(8)}  ${pct(p.share).padStart(6)}`,
    );
  }
  const one = results[0];
  out.push(
    `  sum of parts: ${formatRate(parts.sumMBps)} MB/s (encode on ${plural(one?.workers ?? 1, "worker")}: ${formatRate(one?.encodeMBps ?? 0)} MB/s), spread ${pct(parts.spread)}`,
  );

  out.push(
    "",
    `storage node, ${plural(storage.workers, "worker")}`,
    `  verification    ${formatRate(storage.verifyCellsPerSecond)} cells/s (${formatRate(storage.verifyCellsPerSecond / CELLS_PER_EXT_BLOB)} blobs/s, ${CELLS_PER_EXT_BLOB} cells per batch call)`,
    `  recovery        ${formatRate(storage.recoveryMBps)} MB/s (${storage.recoveryNote})`,
    `  data-only       ${formatRate(storage.dataRecoveryMBps)} MB/s, ${formatRate(storage.dataRecoveryMBps / storage.recoveryMBps)}x the above (${storage.dataRecoveryNote})`,
    `  cells only      ${formatRate(storage.cellsOnlyMBps)} MB/s (computeCells: the extension without commitment or proofs)`,
    `  spread ${pct(storage.spread)} (verification ${pct(storage.spreads.verify)}, recovery ${pct(storage.spreads.recovery)}, cells only ${pct(storage.spreads.cellsOnly)}, data-only ${pct(storage.spreads.dataRecovery)})`,
  );

  const factor = reference.gf256MBps / reference.rawFloorMBps;
  out.push(
    "",
    "reference points, same run",
    `  raw KZG floor   ${formatRate(reference.rawFloorMBps)} MB/s on ${plural(reference.workers, "worker")} (node-eth-kzg alone)`,
    `  GF(2^8) RS      ${formatRate(reference.gf256MBps)} MB/s, one thread, ${factor.toFixed(0)}× the KZG floor: plain erasure coding, no proofs (spread ${pct(reference.gf256Spread)})`,
    "",
    `memory: ${memory.baselineRssMiB} MiB resident after warm-up (both KZG contexts loaded), peak ${memory.peakRssMiB} MiB`,
    "",
    ...formatVerdict(report),
  );
  return `${out.join("\n")}\n`;
}
