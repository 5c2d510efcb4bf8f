import { CellarError } from "@cellar/utils";

/** Every reason the codec refuses an input. */
export const CODEC_ERROR_CODES = [
  "CELLAR_ERR_CODEC_TOO_LARGE",
  "CELLAR_ERR_CODEC_INVALID_FRAME",
  "CELLAR_ERR_CODEC_INVALID_PACKING",
  "CELLAR_ERR_CODEC_INVALID_MANIFEST",
  "CELLAR_ERR_CODEC_ROOT_MISMATCH",
  "CELLAR_ERR_CODEC_INVALID_ID",
  "CELLAR_ERR_CODEC_INVALID_COLUMN",
  "CELLAR_ERR_CODEC_NOT_ENOUGH_COLUMNS",
  "CELLAR_ERR_CODEC_INVALID_CELL",
  "CELLAR_ERR_CODEC_SIZE_MISMATCH",
] as const;

export type CodecErrorCode = (typeof CODEC_ERROR_CODES)[number];

export class CodecError extends CellarError<CodecErrorCode> {}
