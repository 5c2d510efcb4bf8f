import type { CodecErrorCode } from "@cellar/codec";
import type { ProtocolErrorCode } from "@cellar/protocol";
import { CellarError, type HexErrorCode } from "@cellar/utils";

/** Refusals of the light client and light node. */
export const LIGHT_ERROR_CODES = [
  "CELLAR_ERR_LIGHT_INVALID_TARGET",
  "CELLAR_ERR_LIGHT_UNTRUSTED_ROOT",
  "CELLAR_ERR_LIGHT_NO_MANIFEST",
  "CELLAR_ERR_LIGHT_BAD_REQUEST",
  "CELLAR_ERR_LIGHT_NOT_FOUND",
  "CELLAR_ERR_LIGHT_DEADLINE",
  "CELLAR_ERR_LIGHT_TOO_MANY",
  "CELLAR_ERR_LIGHT_TOO_LARGE",
] as const;

export type LightErrorCode = (typeof LIGHT_ERROR_CODES)[number];

export class LightError extends CellarError<LightErrorCode> {}

/** HTTP status of every code the light node answers with (its own: all, checked by the compiler). */
export const LIGHT_STATUS = {
  CELLAR_ERR_LIGHT_INVALID_TARGET: 400,
  CELLAR_ERR_LIGHT_UNTRUSTED_ROOT: 422,
  CELLAR_ERR_LIGHT_NO_MANIFEST: 404,
  CELLAR_ERR_LIGHT_BAD_REQUEST: 400,
  CELLAR_ERR_LIGHT_NOT_FOUND: 404,
  CELLAR_ERR_LIGHT_DEADLINE: 504,
  CELLAR_ERR_LIGHT_TOO_MANY: 429,
  CELLAR_ERR_LIGHT_TOO_LARGE: 413,
  CELLAR_ERR_CODEC_INVALID_ID: 400,
  CELLAR_ERR_PROTOCOL_INVALID_CERTIFICATE: 400,
  CELLAR_ERR_HEX_INVALID: 400,
} as const satisfies Record<LightErrorCode, number> &
  Partial<Record<CodecErrorCode | ProtocolErrorCode | HexErrorCode, number>>;
