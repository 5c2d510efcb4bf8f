/**
 * Protocol constants shared by every Cellar package: the EIP-4844 / EIP-7594 blob and cell
 * geometry, Cellar's packing and limits. Nothing here computes anything.
 *
 * @example
 * ```ts
 * import { BYTES_PER_BLOB, CELLS_PER_EXT_BLOB } from "@cellar/params";
 * ```
 *
 * @packageDocumentation
 */

/** Field elements in one blob (EIP-4844). */
export const FIELD_ELEMENTS_PER_BLOB = 4096;
/** Bytes in one serialized BLS12-381 scalar (big-endian). */
export const BYTES_PER_FIELD_ELEMENT = 32;
/** Bytes in one blob: 4096 × 32 = 128 KiB. */
export const BYTES_PER_BLOB = FIELD_ELEMENTS_PER_BLOB * BYTES_PER_FIELD_ELEMENT;
/** Bytes in a 48-byte compressed G1 point: a KZG commitment or proof. */
export const BYTES_PER_COMMITMENT = 48;
export const BYTES_PER_PROOF = 48;

/** Cells in an extended blob (EIP-7594): the blob's 8192 evaluations in groups of 64. */
export const CELLS_PER_EXT_BLOB = 128;
/** Field elements per cell. */
export const FIELD_ELEMENTS_PER_CELL = 64;
/** Bytes in one cell: 64 × 32 = 2 KiB. */
export const BYTES_PER_CELL = FIELD_ELEMENTS_PER_CELL * BYTES_PER_FIELD_ELEMENT;
/** Columns 0..63 carry the blob itself, 64..127 the parity; any 64 rebuild the blob. */
export const DATA_COLUMNS = CELLS_PER_EXT_BLOB / 2;
/** One blob's entry in a column: the cell, then its proof. */
export const BYTES_PER_COLUMN_ENTRY = BYTES_PER_CELL + BYTES_PER_PROOF;

/** Cellar packs 31 payload bytes under a zero top byte, so every field element is canonical. */
export const USABLE_BYTES_PER_FIELD_ELEMENT = 31;
/** Payload bytes one blob carries: 4096 × 31 = 126,976. */
export const PAYLOAD_BYTES_PER_BLOB = FIELD_ELEMENTS_PER_BLOB * USABLE_BYTES_PER_FIELD_ELEMENT;

/** The BLS12-381 scalar field modulus r: a canonical field element is < r. */
export const BLS_MODULUS = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

/** EIP-4844 versioned hash version byte for KZG commitments. */
export const VERSIONED_HASH_VERSION_KZG = 0x01;

/**
 * The most blobs one batch may span: 1024 blobs is 124 MiB of payload and keeps a blob's
 * membership proof in the batch root to 10 hashes. Services set lower limits of their own.
 */
export const MAX_BLOBS_PER_BATCH = 1024;

/** Framing format version written into every batch header. */
export const FRAME_VERSION = 1;
/** Bytes of the batch frame header (see docs/PROTOCOL.md). */
export const FRAME_HEADER_BYTES = 12;
/** The largest payload a batch can carry: what fits in MAX_BLOBS_PER_BATCH after the header. */
export const MAX_BATCH_BYTES = MAX_BLOBS_PER_BATCH * PAYLOAD_BYTES_PER_BLOB - FRAME_HEADER_BYTES;

/** Manifest format version. */
export const MANIFEST_VERSION = 1;
