import { CellarError } from "@cellar/utils";

/** Failures of outgoing requests and of rebuilding from the network. */
export const CLIENT_ERROR_CODES = [
  "CELLAR_ERR_CLIENT_HTTP",
  "CELLAR_ERR_CLIENT_NETWORK",
  "CELLAR_ERR_CLIENT_BAD_RESPONSE",
  "CELLAR_ERR_CLIENT_UNAVAILABLE",
  "CELLAR_ERR_CLIENT_TIMEOUT",
  "CELLAR_ERR_CLIENT_TOO_LARGE",
  "CELLAR_ERR_CLIENT_DEADLINE",
] as const;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

export class ClientError extends CellarError<ClientErrorCode> {}
