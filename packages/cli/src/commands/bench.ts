import { open, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
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
import { Command } from "@commander-js/extra-typings";
import { parseMib, parseReportPath, parseWorkerList, positiveInt } from "../args.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { CliError } from "../errors.js";
import { type Io, printJson, progressBar } from "../output.js";

export const benchDefinition = () =>
  new Command("bench")
    .description("measure encoding throughput on this machine: MB/s against workers, beside the raw KZG floor")
    .option(
      "--mib <n>",
      "batch size in MiB (default: 12 full blobs, rounded to a multiple of the worker counts; 4 with --quick)",
      parseMib,
    )
    .option(
      "--workers <list>",
      `worker counts, such as 1,2,4 or 1-4 (default: 1 to the core count, ${availableParallelism()})`,
      parseWorkerList,
    )
    .option(
      "--runs <n>",
      "timed runs per setting; figures are their median (default: 3, or 2 with --quick)",
      positiveInt,
    )
    .option("--quick", "a small batch, 1 warm-up and 2 runs: an answer in under a minute", false)
    .option("--json", "print the whole report as JSON", false)
    .option("--out <file>", "also write the report with its chart: .html (page) or .svg (chart)", parseReportPath)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar bench --quick                     a first answer in under a minute
  $ cellar bench --out report.html           the full run, with a chart of MB/s against workers
  $ cellar bench --workers 1,2,4 --mib 8     chosen worker counts and a larger batch
  $ cellar bench --json > bench.json         {results: [{workers, encodeMBps, ...}], reference, ...}`,
    );

export type BenchCommandOptions = OptionsOf<typeof benchDefinition>;

export const bench: CommandModule = ({ io, run }) =>
  benchDefinition().action((options) => run(benchCommand(options, io)));

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
