import { CellarError } from "@cellar/utils";

/** Refusals of the storage node; `STATUS_BY_CODE` in http-errors.ts gives each its HTTP status. */
export const NODE_ERROR_CODES = [
  "CELLAR_ERR_NODE_BAD_PATH",
  "CELLAR_ERR_NODE_BAD_BODY",
  "CELLAR_ERR_NODE_TOO_LARGE",
  "CELLAR_ERR_NODE_NOT_CUSTODIAN",
  "CELLAR_ERR_NODE_INCOMPLETE_CUSTODY",
  "CELLAR_ERR_NODE_INVALID_CELLS",
  "CELLAR_ERR_NODE_NOT_FOUND",
  "CELLAR_ERR_NODE_KEY_FILE",
  "CELLAR_ERR_NODE_CONFIG",
  "CELLAR_ERR_NODE_STALE_REFERENCE",
] as const;

export type NodeErrorCode = (typeof NODE_ERROR_CODES)[number];

export class NodeError extends CellarError<NodeErrorCode> {}
