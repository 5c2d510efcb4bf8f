import {
  BYTES_PER_BLOB,
  BYTES_PER_FIELD_ELEMENT,
  FIELD_ELEMENTS_PER_BLOB,
  MAX_BLOBS_PER_BATCH,
  PAYLOAD_BYTES_PER_BLOB,
  USABLE_BYTES_PER_FIELD_ELEMENT,
} from "@cellar/params";
import { CodecError } from "./errors.js";

/** Blobs needed to carry `length` framed bytes: at least one, so the empty batch has a blob. */
export function blobCountFor(length: number): number {
  return Math.max(1, Math.ceil(length / PAYLOAD_BYTES_PER_BLOB));
}

/**
 * Packs bytes 31 to a field element under a zero top byte (so every element is canonical) into
 * as many blobs as needed; the last blob is zero-padded. The blobs are views of one allocation.
 */
export function packBlobs(data: Uint8Array): Uint8Array[] {
  const count = blobCountFor(data.length);
  if (count > MAX_BLOBS_PER_BATCH) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_TOO_LARGE",
      `${data.length} bytes need ${count} blobs, more than the limit of ${MAX_BLOBS_PER_BATCH}`,
      { length: data.length, blobs: count, limit: MAX_BLOBS_PER_BATCH },
    );
  }
  const out = new Uint8Array(count * BYTES_PER_BLOB);
  let src = 0;
  for (let dst = 1; src < data.length; dst += BYTES_PER_FIELD_ELEMENT) {
    const end = Math.min(src + USABLE_BYTES_PER_FIELD_ELEMENT, data.length);
    out.set(data.subarray(src, end), dst);
    src = end;
  }
  return Array.from({ length: count }, (_, i) => out.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB));
}

/**
 * Reverses packBlobs: reads `length` bytes back out of the blobs' field elements. Every top byte
 * must be zero and every byte past `length` must be zero, so one payload has exactly one packing.
 */
export function unpackBlobs(blobs: readonly Uint8Array[], length: number): Uint8Array {
  if (length > blobs.length * PAYLOAD_BYTES_PER_BLOB) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_PACKING", `${length} bytes cannot fit in ${blobs.length} blobs`, {
      length,
      blobs: blobs.length,
    });
  }
  const out = new Uint8Array(length);
  let dst = 0;
  for (let b = 0; b < blobs.length; b++) {
    const blob = blobs[b] as Uint8Array;
    if (blob.length !== BYTES_PER_BLOB) {
      throw new CodecError("CELLAR_ERR_CODEC_INVALID_PACKING", `blob ${b} is ${blob.length} bytes`, {
        blob: b,
        length: blob.length,
      });
    }
    for (let e = 0; e < FIELD_ELEMENTS_PER_BLOB; e++) {
      const offset = e * BYTES_PER_FIELD_ELEMENT;
      if (blob[offset] !== 0) {
        throw new CodecError("CELLAR_ERR_CODEC_INVALID_PACKING", `blob ${b} element ${e} has a non-zero top byte`, {
          blob: b,
          element: e,
        });
      }
      const take = Math.min(USABLE_BYTES_PER_FIELD_ELEMENT, length - dst);
      if (take > 0) {
        out.set(blob.subarray(offset + 1, offset + 1 + take), dst);
        dst += take;
      }
      if (take < USABLE_BYTES_PER_FIELD_ELEMENT && !isZero(blob, offset + 1 + take, offset + BYTES_PER_FIELD_ELEMENT)) {
        throw new CodecError("CELLAR_ERR_CODEC_INVALID_PACKING", `blob ${b} has non-zero bytes after the data`, {
          blob: b,
          element: e,
        });
      }
    }
  }
  return out;
}

function isZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}
