import { CellarError } from "@cellar/utils";
import { Command, CommanderError, type CommandUnknownOpts } from "@commander-js/extra-typings";
import type { CommandContext, CommandModule } from "./command.js";
import { bench } from "./commands/bench.js";
import { decode } from "./commands/decode.js";
import { demo } from "./commands/demo.js";
import { devnet } from "./commands/devnet.js";
import { disperser } from "./commands/disperser.js";
import { encode } from "./commands/encode.js";
import { encoder } from "./commands/encoder.js";
import { get } from "./commands/get.js";
import { keygen } from "./commands/keygen.js";
import { l1 } from "./commands/l1.js";
import { light } from "./commands/light.js";
import { node } from "./commands/node.js";
import { post } from "./commands/post.js";
import { sample } from "./commands/sample.js";
import { settle } from "./commands/settle.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./errors.js";
import { describeError, type Io, printJson } from "./output.js";

export const VERSION = "0.1.0";

/** Every command, in the order `cellar --help` lists them; each lives in `commands/<name>.ts`. */
export const COMMANDS: readonly CommandModule[] = [
  encode,
  decode,
  node,
  disperser,
  encoder,
  post,
  get,
  sample,
  light,
  settle,
  l1,
  devnet,
  demo,
  keygen,
  bench,
];

/** Output, error handling and help-after-error apply to every command and subcommand alike. */
function adopt(parent: CommandUnknownOpts, command: CommandUnknownOpts): CommandUnknownOpts {
  command.copyInheritedSettings(parent);
  for (const sub of command.commands) adopt(command, sub);
  return command;
}

function buildProgram(context: CommandContext): CommandUnknownOpts {
  const { io } = context;
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
  for (const module of COMMANDS) program.addCommand(adopt(program, module(context)));
  return program;
}

/**
 * Runs the CLI with `argv` (without the node and script entries) and resolves to the exit code.
 * Errors become one line on stderr (with a stack under --verbose); nothing throws out of here.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  // With --json, a failure is one JSON object on stdout too: {"error": {"code", "message"}}.
  const json = argv.includes("--json");
  const fail = (code: string, message: string) => {
    if (json) printJson(io, { error: { code, message } });
  };
  let work: Promise<void> | undefined;
  const program = buildProgram({
    io,
    run: (w) => {
      work = w;
    },
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    if (work) await work;
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed usage errors on stderr.
      if (err.exitCode === 0) return EXIT_OK;
      fail("CELLAR_ERR_CLI_USAGE", err.message.replace(/^error: /, ""));
      return EXIT_USAGE;
    }
    fail(
      err instanceof CellarError ? err.code : "CELLAR_ERR_CLI_FAILED",
      err instanceof Error ? err.message : String(err),
    );
    io.stderr.write(`cellar: ${describeError(err)}\n`);
    if (program.opts().verbose && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return EXIT_FAILURE;
  }
}
