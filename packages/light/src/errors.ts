import { CellarError } from "@cellar/utils";

/** Refusals of the light client and light node. */
export const LIGHT_ERROR_CODES = [
  "CELLAR_ERR_LIGHT_INVALID_TARGET",
  "CELLAR_ERR_LIGHT_UNTRUSTED_ROOT",
  "CELLAR_ERR_LIGHT_NO_MANIFEST",
  "CELLAR_ERR_LIGHT_BAD_REQUEST",
  "CELLAR_ERR_LIGHT_NOT_FOUND",
] as const;

export type LightErrorCode = (typeof LIGHT_ERROR_CODES)[number];

export class LightError extends CellarError<LightErrorCode> {}

export const LIGHT_STATUS: Readonly<Record<string, number>> = {
  CELLAR_ERR_LIGHT_INVALID_TARGET: 400,
  CELLAR_ERR_LIGHT_UNTRUSTED_ROOT: 422,
  CELLAR_ERR_LIGHT_BAD_REQUEST: 400,
  CELLAR_ERR_LIGHT_NOT_FOUND: 404,
  CELLAR_ERR_CODEC_INVALID_ID: 400,
};
