import { CellarError } from "@cellar/utils";

/** Refusals that come from how the CLI was called or from the files it was pointed at. */
export const CLI_ERROR_CODES = [
  "CELLAR_ERR_CLI_INPUT",
  "CELLAR_ERR_CLI_OUTPUT",
  "CELLAR_ERR_CLI_OUTPUT_EXISTS",
  "CELLAR_ERR_CLI_BATCH_DIR",
  "CELLAR_ERR_CLI_NOT_AVAILABLE",
  "CELLAR_ERR_CLI_DEVNET_START",
  "CELLAR_ERR_CLI_DEVNET_FILE",
  "CELLAR_ERR_CLI_DEMO_CHECK",
  "CELLAR_ERR_CLI_SETTLED_MISMATCH",
  "CELLAR_ERR_CLI_USAGE",
  "CELLAR_ERR_CLI_FAILED",
] as const;

export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

export class CliError extends CellarError<CliErrorCode> {}

/** Exit codes: 0 success, 1 the work failed, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
