import { Command, Option } from "@commander-js/extra-typings";
import { parseMib, positiveInt } from "../args.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { DEFAULT_DEMO_BYTES, type DemoStep, runDemo } from "../devnet/demo.js";
import { DEFAULT_DEVNET_NODES } from "../devnet/devnet.js";
import { type Io, printJson } from "../output.js";

export const demoDefinition = () =>
  new Command("demo")
    .description(
      "the whole flow once on a throwaway devnet: post, certify, sample, settle on L1, kill a third of the nodes, read back",
    )
    .addOption(
      new Option("--nodes <n>", "storage nodes to run")
        .argParser(positiveInt)
        .default(DEFAULT_DEVNET_NODES)
        .env("CELLAR_DEMO_NODES"),
    )
    .addOption(
      new Option("--mib <n>", "size of the generated batch in MiB")
        .argParser(parseMib)
        .default(DEFAULT_DEMO_BYTES / 1024 / 1024)
        .env("CELLAR_DEMO_MIB"),
    )
    .option("--json", "print the report {ok, steps: [{step, seconds, summary, details}], …} as JSON", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar demo                      8 nodes, a 3 MiB batch; a line per step with its time
  $ cellar demo --nodes 4 --mib 1    smaller and quicker
  $ cellar demo --json               the report as JSON
Exit 0 when every step held; the devnet and its directory are removed either way.`,
    );

export type DemoCommandOptions = OptionsOf<typeof demoDefinition>;

export const demo: CommandModule = ({ io, run }) => demoDefinition().action((options) => run(demoCommand(options, io)));

/**
 * `cellar demo`: the whole flow once on a throwaway devnet, a line per step as it ends (or one
 * JSON report with --json). Exit 0 only when every check held; the devnet is gone either way.
 */
export async function demoCommand(options: DemoCommandOptions, io: Io): Promise<void> {
  // Interrupted: exit at once; every child the devnet started is killed on the way out.
  const interrupted = (signal: NodeJS.Signals) => {
    io.stderr.write(`cellar: demo interrupted (${signal})\n`);
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    await runDemoCommand(options, io);
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }
}

async function runDemoCommand(options: DemoCommandOptions, io: Io): Promise<void> {
  const bytes = Math.round(options.mib * 1024 * 1024);
  if (!options.json)
    io.stdout.write(
      `cellar demo: ${options.nodes} storage nodes, a ${(bytes / 1024 / 1024).toFixed(1)} MiB batch, on a throwaway devnet\n`,
    );
  const report = await runDemo({
    nodes: options.nodes,
    bytes,
    onStep: (step) => {
      if (!options.json) io.stdout.write(stepLine(step));
    },
  });
  if (options.json) printJson(io, report);
  else io.stdout.write(`demo passed in ${report.seconds.toFixed(1)} s: batch ${report.id}\n`);
}

function stepLine(step: DemoStep): string {
  return `  ${step.step.padEnd(12)} ${`${step.seconds.toFixed(2)} s`.padStart(8)}  ${step.summary}\n`;
}
