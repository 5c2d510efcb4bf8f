import { CellarError } from "@cellar/utils";

/** Refusals and failures of the disperser; http-errors.ts gives each its status. */
export const DISPERSER_ERROR_CODES = [
  "CELLAR_ERR_DISPERSER_BAD_REQUEST",
  "CELLAR_ERR_DISPERSER_TOO_LARGE",
  "CELLAR_ERR_DISPERSER_NO_QUORUM",
  "CELLAR_ERR_DISPERSER_NOT_FOUND",
  "CELLAR_ERR_DISPERSER_UNAVAILABLE",
  "CELLAR_ERR_DISPERSER_BAD_COMMITMENT",
  "CELLAR_ERR_DISPERSER_CONFIG",
] as const;

export type DisperserErrorCode = (typeof DISPERSER_ERROR_CODES)[number];

export class DisperserError extends CellarError<DisperserErrorCode> {}

/** HTTP status for every code the disperser answers with. Anything else is a 500. */
export const DISPERSER_STATUS: Readonly<Record<string, number>> = {
  CELLAR_ERR_DISPERSER_BAD_REQUEST: 400,
  CELLAR_ERR_DISPERSER_TOO_LARGE: 413,
  CELLAR_ERR_DISPERSER_NO_QUORUM: 503,
  CELLAR_ERR_DISPERSER_NOT_FOUND: 404,
  CELLAR_ERR_DISPERSER_UNAVAILABLE: 404,
  CELLAR_ERR_DISPERSER_BAD_COMMITMENT: 400,
  CELLAR_ERR_CODEC_INVALID_ID: 400,
  CELLAR_ERR_CODEC_TOO_LARGE: 413,
  CELLAR_ERR_CLIENT_UNAVAILABLE: 404,
};

const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "CELLAR_ERR_DISPERSER_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "CELLAR_ERR_DISPERSER_BAD_REQUEST",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "CELLAR_ERR_DISPERSER_BAD_REQUEST",
};

/** The one place an error becomes an HTTP answer. */
export function toHttpError(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof CellarError)
    return { status: DISPERSER_STATUS[err.code] ?? 500, code: err.code, message: err.message };
  const e = err as { code?: string; statusCode?: number; message?: string };
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return { status: e.statusCode ?? 400, code: mapped, message: e.message ?? mapped };
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: "CELLAR_ERR_DISPERSER_BAD_REQUEST", message: e.message ?? "bad request" };
  }
  return { status: 500, code: "CELLAR_ERR_INTERNAL", message: "internal error" };
}
