import { brotliCompressSync, brotliDecompressSync, constants as zlib } from "node:zlib";
import { FRAME_HEADER_BYTES, FRAME_VERSION, MAX_BATCH_BYTES } from "@cellar/params";
import { CodecError } from "./errors.js";

/** How a batch body is stored. `none` keeps the bytes as given. */
export type Compression = "none" | "brotli";

const COMPRESSION_IDS: Record<Compression, number> = { none: 0, brotli: 1 };
const COMPRESSION_NAMES = new Map<number, Compression>([
  [0, "none"],
  [1, "brotli"],
]);

/** The decoded 12-byte frame header (layout in docs/PROTOCOL.md). */
export interface FrameHeader {
  readonly version: number;
  readonly compression: Compression;
  /** Bytes of body that follow the header, as stored. */
  readonly bodyLength: number;
  /** Bytes of the payload after decompression (equal to bodyLength when uncompressed). */
  readonly payloadLength: number;
}

function checkSize(payload: Uint8Array): void {
  if (payload.length > MAX_BATCH_BYTES) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_TOO_LARGE",
      `batch of ${payload.length} bytes exceeds the protocol limit of ${MAX_BATCH_BYTES} bytes`,
      { size: payload.length, limit: MAX_BATCH_BYTES },
    );
  }
}

/**
 * Frames a payload: header, then the body. With `brotli`, the body is compressed, unless that
 * would not make it smaller, in which case the frame records `none` and stores the bytes as given.
 */
export function frameBatch(payload: Uint8Array, compression: Compression = "none"): Uint8Array {
  checkSize(payload);
  let body = payload;
  let stored: Compression = "none";
  if (compression === "brotli" && payload.length > 0) {
    const compressed = brotliCompressSync(payload, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: 9,
        [zlib.BROTLI_PARAM_SIZE_HINT]: payload.length,
      },
    });
    if (compressed.length < payload.length) {
      body = compressed;
      stored = "brotli";
    }
  } else if (compression !== "none" && compression !== "brotli") {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_FRAME", `unknown compression ${String(compression)}`, {
      compression,
    });
  }
  const framed = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  const view = new DataView(framed.buffer);
  view.setUint8(0, FRAME_VERSION);
  view.setUint8(1, COMPRESSION_IDS[stored]);
  view.setUint16(2, 0);
  view.setUint32(4, body.length);
  view.setUint32(8, payload.length);
  framed.set(body, FRAME_HEADER_BYTES);
  return framed;
}

/** Reads and checks the frame header at the start of `bytes`. */
export function readFrameHeader(bytes: Uint8Array): FrameHeader {
  if (bytes.length < FRAME_HEADER_BYTES) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_FRAME", "batch data is shorter than the frame header", {
      length: bytes.length,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, FRAME_HEADER_BYTES);
  const version = view.getUint8(0);
  if (version !== FRAME_VERSION) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_FRAME", `unsupported frame version ${version}`, { version });
  }
  const compression = COMPRESSION_NAMES.get(view.getUint8(1));
  if (compression === undefined) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_FRAME", `unknown compression id ${view.getUint8(1)}`, {
      compressionId: view.getUint8(1),
    });
  }
  if (view.getUint16(2) !== 0) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_FRAME", "reserved frame header bytes are not zero", {});
  }
  const bodyLength = view.getUint32(4);
  const payloadLength = view.getUint32(8);
  if (payloadLength > MAX_BATCH_BYTES || bodyLength > MAX_BATCH_BYTES) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_FRAME", "frame lengths exceed the protocol limit", {
      bodyLength,
      payloadLength,
    });
  }
  if (compression === "none" && bodyLength !== payloadLength) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_INVALID_FRAME",
      `uncompressed frame has body length ${bodyLength} but payload length ${payloadLength}`,
      { bodyLength, payloadLength },
    );
  }
  return { version, compression, bodyLength, payloadLength };
}

/**
 * Recovers the payload from a frame body. Decompression is bounded by the length the header
 * states, so a small body cannot expand into an unbounded allocation.
 */
export function unframeBody(header: FrameHeader, body: Uint8Array): Uint8Array {
  if (body.length !== header.bodyLength) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_FRAME", "frame body is truncated", {
      expected: header.bodyLength,
      actual: body.length,
    });
  }
  if (header.compression === "none") return body;
  let payload: Buffer;
  try {
    payload = brotliDecompressSync(body, { maxOutputLength: Math.max(1, header.payloadLength) });
  } catch (err) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_FRAME", "compressed body does not decompress", {}, { cause: err });
  }
  if (payload.length !== header.payloadLength) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_INVALID_FRAME",
      `compressed body expands to ${payload.length} bytes, the header says ${header.payloadLength}`,
      { expected: header.payloadLength, actual: payload.length },
    );
  }
  return new Uint8Array(payload.buffer, payload.byteOffset, payload.length);
}
