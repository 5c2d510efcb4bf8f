import { open, writeFile } from "node:fs/promises";
import {
  type BenchOptions,
  formatReportText,
  loadGf256,
  MIB,
  renderReport,
  reportFormatFor,
  resolveBenchOptions,
  runBench,
  sharedRawKzg,
} from "@cellar/bench";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import { InvalidArgumentError } from "commander";
import { CliError } from "../errors.js";
import { type Io, printJson, progressBar } from "../output.js";

export interface BenchCommandOptions {
  readonly mib?: number;
  readonly workers?: readonly number[];
  readonly runs?: number;
  readonly quick: boolean;
  readonly json: boolean;
  readonly out?: string;
}

/** `--mib`: a positive batch size in MiB (fractions allowed: 0.2 is about two blobs). */
export function parseMib(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number of MiB");
  return n;
}

/** `--workers`: worker counts as a list and/or ranges, "1,2,4" or "1-4". */
export function parseWorkerList(value: string): number[] {
  const counts: number[] = [];
  for (const part of value.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (!m || from < 1 || to < from || to > 1024) {
      throw new InvalidArgumentError('must be worker counts from 1 to 1024, such as "1,2,4" or "1-4"');
    }
    for (let w = from; w <= to; w++) counts.push(w);
  }
  return counts;
}

/** `--out`: a report file ending in .html or .svg. */
export function parseReportPath(value: string): string {
  try {
    reportFormatFor(value);
  } catch {
    throw new InvalidArgumentError("must end in .html or .svg");
  }
  return value;
}

/** Runs one write to the report file, turning a failure into one clear CLI error. */
async function toReport(path: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (err) {
    throw new CliError("CELLAR_ERR_CLI_OUTPUT", `cannot write the report to ${path}`, { path }, { cause: err });
  }
}

/** `cellar bench`: encoding throughput on this machine, as a table, JSON and an HTML or SVG chart. */
export async function benchCommand(options: BenchCommandOptions, io: Io): Promise<void> {
  const bench: BenchOptions = {
    quick: options.quick,
    ...(options.mib === undefined ? {} : { bytes: Math.round(options.mib * MIB) }),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.runs === undefined ? {} : { runs: options.runs }),
  };
  // Refuse bad options and an unwritable report before a minute of measuring, not after it.
  resolveBenchOptions(bench);
  const { out } = options;
  const format = out === undefined ? undefined : reportFormatFor(out);
  // Appending nothing creates the file if need be, and truncates no earlier report.
  if (out !== undefined) await toReport(out, async () => (await open(out, "a")).close());

  if (!options.json && io.stderr.isTTY) io.stderr.write("loading two KZG prover contexts (about 10 s)…\n");
  const kzg = sharedKzg({ precompute: true });
  const raw = sharedRawKzg();
  const gf256 = loadGf256();
  const bar = progressBar(io, !options.json);
  let report: Awaited<ReturnType<typeof runBench>>;
  try {
    report = await runBench(bench, {
      kzg,
      raw,
      gf256,
      erasure: sharedErasure(),
      onProgress: (p) => bar.update(p.done, p.total, p.stage),
    });
  } finally {
    bar.stop();
  }

  if (out !== undefined && format !== undefined) {
    await toReport(out, () => writeFile(out, renderReport(report, format)));
  }
  if (options.json) {
    printJson(io, out === undefined ? report : { ...report, out });
    return;
  }
  io.stdout.write(formatReportText(report));
  if (out !== undefined) io.stdout.write(`\nreport with the chart written to ${out}\n`);
}
