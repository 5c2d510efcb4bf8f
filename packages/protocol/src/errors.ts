import { CellarError } from "@cellar/utils";

/** Refusals of the rules every role shares: node sets, keys, signatures, the dispersal body. */
export const PROTOCOL_ERROR_CODES = [
  "CELLAR_ERR_PROTOCOL_INVALID_KEY",
  "CELLAR_ERR_PROTOCOL_INVALID_NODE_SET",
  "CELLAR_ERR_PROTOCOL_INVALID_DOMAIN",
  "CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL",
  "CELLAR_ERR_PROTOCOL_INVALID_CERTIFICATE",
  "CELLAR_ERR_PROTOCOL_INVALID_AUTH",
] as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

export class ProtocolError extends CellarError<ProtocolErrorCode> {}
