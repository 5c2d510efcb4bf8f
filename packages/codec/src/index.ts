/**
 * Cellar's codec: turns a rollup batch into KZG-committed, erasure-coded blobs and back.
 * Framing (version, lengths, optional compression), packing 31 bytes per field element, EIP-4844
 * versioned hashes, the keccak batch root, the manifest, batch ids (CIDs), the column file layout,
 * and rebuilding from any 64 verified columns. Crypto is passed in (`kzg`, and `erasure` for
 * data-only recovery), never loaded here.
 *
 * @example
 * ```ts
 * import { sharedKzg } from "@cellar/kzg";
 * import { sharedErasure } from "@cellar/native";
 * import { columnOf, decodeBatch, encodeBatch } from "@cellar/codec";
 * const kzg = sharedKzg();
 * const erasure = sharedErasure();
 * const batch = await encodeBatch(bytes, { kzg });
 * const some = [70, 3, 99, ...].map((c) => columnOf(batch, c)); // any 64 columns
 * const back = await decodeBatch(batch.manifest, some, { kzg, erasure });
 * ```
 *
 * @packageDocumentation
 */
export { batchIdFromRoot, KECCAK_256_CODE, rootFromBatchId } from "./batch-id.js";
export { type Column, checkColumnIndex, parseColumn, serializeColumn } from "./column.js";
export {
  type BadCell,
  checkFrameStart,
  chooseColumns,
  type DecodeOptions,
  type DecodeProgress,
  decodeBatch,
  unframeBlobs,
  type VerifyOptions,
  verifyColumns,
} from "./decode.js";
export {
  columnOf,
  type EncodedBatch,
  type EncodedBlob,
  type EncodeOptions,
  type EncodeProgress,
  encodeBatch,
  encodeBlob,
} from "./encode.js";
export { CODEC_ERROR_CODES, CodecError, type CodecErrorCode } from "./errors.js";
export { type Compression, type FrameHeader, frameBatch, readFrameHeader, unframeBody } from "./frame.js";
export {
  type BatchManifest,
  buildManifest,
  type ManifestBlob,
  type ManifestJson,
  manifestToJson,
  parseManifest,
} from "./manifest.js";
export { blobCountFor, packBlobs, unpackBlobs } from "./pack.js";
export { batchRoot, blobProof, blobsRoot, blobsRootFromProof, rootPreimage } from "./root.js";
export { versionedHash } from "./versioned-hash.js";
