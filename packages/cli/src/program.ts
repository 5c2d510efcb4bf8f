import { availableParallelism } from "node:os";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { decodeCommand } from "./commands/decode.js";
import { encodeCommand } from "./commands/encode.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./errors.js";
import { describeError, type Io } from "./output.js";

export const VERSION = "0.1.0";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

const concurrencyOption = () =>
  new Option("--concurrency <n>", `blobs processed at once (default: ${availableParallelism()}, the core count)`)
    .argParser(positiveInt)
    .env("CELLAR_CONCURRENCY");

function buildProgram(io: Io, run: (work: Promise<void>) => void): Command {
  const program = new Command("cellar")
    .description("Cellar: a data availability layer of KZG-committed, erasure-coded blobs")
    .version(VERSION)
    .option("--verbose", "print stack traces with errors")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`cellar: ${s.replace(/^error: /, "")}`),
    })
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("encode")
    .description("erasure-code a batch into a manifest and 128 column files, offline")
    .argument("<file>", "the batch bytes, or - for standard input")
    .requiredOption("-o, --out <dir>", "directory to write manifest.json and columns/<c>.bin into")
    .addOption(
      new Option("--compress <algorithm>", "compress the batch before encoding")
        .choices(["none", "brotli"])
        .default("none"),
    )
    .option("--force", "replace a non-empty output directory", false)
    .option("--json", "print a machine-readable summary", false)
    .addOption(concurrencyOption())
    .addHelpText(
      "after",
      `
Examples:
  $ cellar encode batch.bin -o batch/            write batch/manifest.json and batch/columns/0..127.bin
  $ cat batch.bin | cellar encode - -o batch/    read the batch from standard input
  $ cellar encode batch.bin -o batch/ --json     print {id, root, size, blobs, ...} as JSON`,
    )
    .action((file: string, opts) => run(encodeCommand(file, opts, io)));

  program
    .command("decode")
    .description("rebuild a batch from any 64 or more column files, verifying every cell it uses")
    .argument("<dir>", "a directory written by cellar encode")
    .requiredOption("-o, --out <file>", "where to write the batch, or - for standard output")
    .option("--skip-bad", "drop damaged column files and columns with failing cells instead of failing", false)
    .option("--json", "print a machine-readable summary", false)
    .addOption(concurrencyOption())
    .addHelpText(
      "after",
      `
Examples:
  $ cellar decode batch/ -o batch.bin            rebuild; any 64 column files may be missing
  $ cellar decode batch/ -o - > batch.bin        write the batch to standard output
  $ cellar decode batch/ -o out.bin --skip-bad   tolerate damaged column files while 64 good ones remain`,
    )
    .action((dir: string, opts) => run(decodeCommand(dir, opts, io)));

  return program;
}

/**
 * Runs the CLI with `argv` (without the node and script entries) and resolves to the exit code.
 * Errors become one line on stderr (with a stack under --verbose); nothing throws out of here.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let work: Promise<void> | undefined;
  const program = buildProgram(io, (w) => {
    work = w;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    if (work) await work;
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed usage errors.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    io.stderr.write(`cellar: ${describeError(err)}\n`);
    if (program.opts().verbose && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return EXIT_FAILURE;
  }
}
