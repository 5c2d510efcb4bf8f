/**
 * The `cellar` command line. `main(argv, io)` runs it in-process (what the `cellar` binary does),
 * resolving to the exit code: 0 success, 1 failure, 2 usage.
 *
 * @example
 * ```ts
 * import { main } from "@cellar/cli";
 * const code = await main(["encode", "batch.bin", "-o", "out/"], process);
 * ```
 *
 * @packageDocumentation
 */
export { CLI_ERROR_CODES, CliError, type CliErrorCode, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./errors.js";
export type { Io } from "./output.js";
export { main, VERSION } from "./program.js";
