import type { CodecErrorCode } from "@cellar/codec";
import type { KzgErrorCode } from "@cellar/kzg";
import type { ProtocolErrorCode } from "@cellar/protocol";
import type { HexErrorCode } from "@cellar/utils";
import type { NodeErrorCode } from "./errors.js";

/**
 * HTTP status of every error code a node answers with: its own codes (all of them, checked by
 * the compiler) and the codes of the packages whose errors it passes on. Anything else is a 500.
 */
export const NODE_STATUS = {
  CELLAR_ERR_NODE_BAD_PATH: 400,
  CELLAR_ERR_NODE_BAD_BODY: 400,
  CELLAR_ERR_NODE_TOO_LARGE: 413,
  CELLAR_ERR_NODE_NOT_CUSTODIAN: 403,
  CELLAR_ERR_NODE_INCOMPLETE_CUSTODY: 400,
  CELLAR_ERR_NODE_INVALID_CELLS: 422,
  CELLAR_ERR_NODE_NOT_FOUND: 404,
  CELLAR_ERR_NODE_STALE_REFERENCE: 409,
  CELLAR_ERR_NODE_KEY_FILE: 500,
  CELLAR_ERR_NODE_CONFIG: 500,
  CELLAR_ERR_NODE_UNAUTHENTICATED: 401,
  CELLAR_ERR_NODE_AUTH_EXPIRED: 401,
  CELLAR_ERR_NODE_UNKNOWN_DISPERSER: 403,
  CELLAR_ERR_NODE_REPLAYED: 401,
  CELLAR_ERR_NODE_QUOTA_EXCEEDED: 429,
  CELLAR_ERR_NODE_BUSY: 503,
  CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL: 400,
  CELLAR_ERR_CODEC_INVALID_MANIFEST: 400,
  CELLAR_ERR_CODEC_INVALID_COLUMN: 400,
  CELLAR_ERR_CODEC_ROOT_MISMATCH: 422,
  CELLAR_ERR_CODEC_INVALID_ID: 400,
  CELLAR_ERR_CODEC_INVALID_FRAME: 422,
  CELLAR_ERR_CODEC_INVALID_PACKING: 422,
  CELLAR_ERR_CODEC_SIZE_MISMATCH: 422,
  CELLAR_ERR_HEX_INVALID: 400,
  CELLAR_ERR_KZG_INVALID_LENGTH: 400,
  CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT: 422,
  CELLAR_ERR_KZG_INVALID_POINT: 422,
} as const satisfies Record<NodeErrorCode, number> &
  Partial<Record<ProtocolErrorCode | CodecErrorCode | HexErrorCode | KzgErrorCode, number>>;
