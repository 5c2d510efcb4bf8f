import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import type { Io } from "./output.js";

/**
 * How a command module is written (docs/ARCHITECTURE.md → "Adding a command"): one file under
 * `commands/` exporting
 * - `xDefinition()`: the commander definition, built with `@commander-js/extra-typings` (its
 *   arguments, flags with their parsers from `args.ts` and defaults from the service that owns
 *   them, help with examples);
 * - `XOptions = OptionsOf<typeof xDefinition>`: the handler's option type, derived from it;
 * - the handler, `xCommand(…args, options, io)`;
 * - `x: CommandModule`: the definition with its action bound, which `program.ts` lists.
 */
export interface CommandContext {
  /** Where the command writes (the process's streams, or a test's). */
  readonly io: Io;
  /** Hands the command's work to `main`, which awaits it and turns a failure into an exit code. */
  readonly run: (work: Promise<void>) => void;
}

/** A command module's export: its definition with the action bound to the handler. */
export type CommandModule = (context: CommandContext) => CommandUnknownOpts;

/** The options a definition's `.opts()` returns, as its flags, parsers and defaults make them. */
export type OptionsOf<D extends () => { opts(): object }> = ReturnType<ReturnType<D>["opts"]>;
