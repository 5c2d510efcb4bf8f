import { type DemoStep, runDemo } from "../devnet/demo.js";
import { type Io, printJson } from "../output.js";

export interface DemoCommandOptions {
  readonly nodes: number;
  readonly mib: number;
  readonly json: boolean;
}

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
    await demo(options, io);
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }
}

async function demo(options: DemoCommandOptions, io: Io): Promise<void> {
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
