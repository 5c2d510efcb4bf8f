import { CellarError } from "@cellar/utils";

/** Every reason the erasure layer refuses an input or a configuration. */
export const NATIVE_ERROR_CODES = [
  "CELLAR_ERR_NATIVE_INVALID_LENGTH",
  "CELLAR_ERR_NATIVE_INVALID_FIELD_ELEMENT",
  "CELLAR_ERR_NATIVE_INVALID_CELL_INDEX",
  "CELLAR_ERR_NATIVE_MISMATCHED_INPUTS",
  "CELLAR_ERR_NATIVE_NOT_ENOUGH_CELLS",
  "CELLAR_ERR_NATIVE_UNAVAILABLE",
  "CELLAR_ERR_NATIVE_INTERNAL",
] as const;

export type NativeErrorCode = (typeof NATIVE_ERROR_CODES)[number];

export class NativeError extends CellarError<NativeErrorCode> {}
