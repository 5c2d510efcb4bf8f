import type { ClientErrorCode } from "@cellar/client";
import type { CodecErrorCode } from "@cellar/codec";
import { CellarError } from "@cellar/utils";

/** Refusals and failures of the disperser; `DISPERSER_STATUS` gives each its HTTP status. */
export const DISPERSER_ERROR_CODES = [
  "CELLAR_ERR_DISPERSER_BAD_REQUEST",
  "CELLAR_ERR_DISPERSER_TOO_LARGE",
  "CELLAR_ERR_DISPERSER_NO_QUORUM",
  "CELLAR_ERR_DISPERSER_NOT_FOUND",
  "CELLAR_ERR_DISPERSER_UNAVAILABLE",
  "CELLAR_ERR_DISPERSER_BAD_COMMITMENT",
  "CELLAR_ERR_DISPERSER_CONFIG",
  "CELLAR_ERR_DISPERSER_INTERRUPTED",
  "CELLAR_ERR_DISPERSER_NOT_AVAILABLE",
] as const;

export type DisperserErrorCode = (typeof DISPERSER_ERROR_CODES)[number];

export class DisperserError extends CellarError<DisperserErrorCode> {}

/**
 * HTTP status for every code the disperser answers with: its own (all, checked by the compiler)
 * and those it passes on. Anything else is a 500.
 */
export const DISPERSER_STATUS = {
  CELLAR_ERR_DISPERSER_BAD_REQUEST: 400,
  CELLAR_ERR_DISPERSER_TOO_LARGE: 413,
  CELLAR_ERR_DISPERSER_NO_QUORUM: 503,
  CELLAR_ERR_DISPERSER_NOT_FOUND: 404,
  CELLAR_ERR_DISPERSER_UNAVAILABLE: 404,
  CELLAR_ERR_DISPERSER_BAD_COMMITMENT: 400,
  CELLAR_ERR_DISPERSER_CONFIG: 500,
  CELLAR_ERR_DISPERSER_INTERRUPTED: 503,
  CELLAR_ERR_DISPERSER_NOT_AVAILABLE: 503,
  CELLAR_ERR_CODEC_INVALID_ID: 400,
  CELLAR_ERR_CODEC_TOO_LARGE: 413,
  CELLAR_ERR_CLIENT_UNAVAILABLE: 404,
  CELLAR_ERR_CLIENT_DEADLINE: 504,
  // Rebuilt data that does not decode: the nodes served inconsistent (yet proven) cells.
  CELLAR_ERR_CODEC_SIZE_MISMATCH: 502,
  CELLAR_ERR_CODEC_INVALID_FRAME: 502,
  CELLAR_ERR_CODEC_INVALID_PACKING: 502,
} as const satisfies Record<DisperserErrorCode, number> & Partial<Record<CodecErrorCode | ClientErrorCode, number>>;
