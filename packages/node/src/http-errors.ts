import { CellarError } from "@cellar/utils";

/** HTTP status of every error code a node can answer with. Anything else is a 500. */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  CELLAR_ERR_NODE_BAD_PATH: 400,
  CELLAR_ERR_NODE_BAD_BODY: 400,
  CELLAR_ERR_NODE_TOO_LARGE: 413,
  CELLAR_ERR_NODE_NOT_CUSTODIAN: 403,
  CELLAR_ERR_NODE_INCOMPLETE_CUSTODY: 400,
  CELLAR_ERR_NODE_INVALID_CELLS: 422,
  CELLAR_ERR_NODE_NOT_FOUND: 404,
  CELLAR_ERR_NODE_STALE_REFERENCE: 409,
  CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL: 400,
  CELLAR_ERR_CODEC_INVALID_MANIFEST: 400,
  CELLAR_ERR_CODEC_INVALID_COLUMN: 400,
  CELLAR_ERR_CODEC_ROOT_MISMATCH: 422,
  CELLAR_ERR_CODEC_INVALID_ID: 400,
  CELLAR_ERR_HEX_INVALID: 400,
  CELLAR_ERR_KZG_INVALID_LENGTH: 400,
  CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT: 422,
  CELLAR_ERR_KZG_INVALID_POINT: 422,
};

/** Fastify's own refusals (body limit, media type, bad JSON) under Cellar codes. */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "CELLAR_ERR_NODE_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "CELLAR_ERR_NODE_BAD_BODY",
  FST_ERR_CTP_EMPTY_JSON_BODY: "CELLAR_ERR_NODE_BAD_BODY",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "CELLAR_ERR_NODE_BAD_BODY",
};

export interface HttpError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** The one place an error becomes an HTTP answer: `{error: {code, message}}` with its status. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof CellarError) {
    return { status: STATUS_BY_CODE[err.code] ?? 500, code: err.code, message: err.message };
  }
  const e = err as { code?: string; statusCode?: number; message?: string };
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped !== undefined) return { status: e.statusCode ?? 400, code: mapped, message: e.message ?? mapped };
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: "CELLAR_ERR_NODE_BAD_BODY", message: e.message ?? "bad request" };
  }
  return { status: 500, code: "CELLAR_ERR_INTERNAL", message: "internal error" };
}
