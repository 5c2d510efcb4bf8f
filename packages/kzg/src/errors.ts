import { CellarError } from "@cellar/utils";

/** Every reason the KZG layer refuses an input. */
export const KZG_ERROR_CODES = [
  "CELLAR_ERR_KZG_INVALID_LENGTH",
  "CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT",
  "CELLAR_ERR_KZG_INVALID_POINT",
  "CELLAR_ERR_KZG_INVALID_CELL_INDEX",
  "CELLAR_ERR_KZG_MISMATCHED_INPUTS",
  "CELLAR_ERR_KZG_RECOVERY",
  "CELLAR_ERR_KZG_SETUP",
  "CELLAR_ERR_KZG_INTERNAL",
] as const;

export type KzgErrorCode = (typeof KZG_ERROR_CODES)[number];

export class KzgError extends CellarError<KzgErrorCode> {}

/**
 * Turns a failure of the native library into a KzgError. Inputs are validated before they
 * reach the library, so what remains here is mostly points that do not decode (the library is
 * the only place that can check a G1 point) and recovery preconditions.
 */
export function fromLibraryError(op: string, err: unknown): KzgError {
  const message = err instanceof Error ? err.message : String(err);
  let code: KzgErrorCode = "CELLAR_ERR_KZG_INTERNAL";
  let reason = "the KZG library failed";
  if (message.includes("G1Point")) {
    code = "CELLAR_ERR_KZG_INVALID_POINT";
    reason = "a commitment or proof is not a valid compressed G1 point";
  } else if (message.includes("Scalar")) {
    code = "CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT";
    reason = "a field element is not canonical";
  } else if (message.includes("CellIndexOutOfRange")) {
    code = "CELLAR_ERR_KZG_INVALID_CELL_INDEX";
    reason = "a cell index is out of range";
  } else if (message.includes("Recovery(")) {
    code = "CELLAR_ERR_KZG_RECOVERY";
    reason = "the cells cannot be recovered";
  }
  return new KzgError(code, `${op}: ${reason}`, { op, detail: message }, { cause: err });
}
