import { type BatchManifest, type Column, manifestToJson, parseColumn, serializeColumn } from "@cellar/codec";
import { BYTES_PER_COLUMN_ENTRY, CELLS_PER_EXT_BLOB } from "@cellar/params";
import { ProtocolError } from "./errors.js";

/** First bytes of a dispersal body: "CDSP" and format version 1. */
export const DISPERSAL_MAGIC = Uint8Array.of(0x43, 0x44, 0x53, 0x50, 0x01);

/** A dispersal as decoded, before any check of its manifest or cells. */
export interface DispersalBody {
  /** The manifest's JSON value, still to be checked against the root. */
  readonly manifest: unknown;
  readonly columns: Column[];
}

function invalid(message: string, context: Record<string, unknown> = {}): ProtocolError {
  return new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL", `invalid dispersal body: ${message}`, context);
}

/**
 * Encodes a dispersal (`PUT /v1/batches/:root/columns`):
 * `"CDSP" 0x01 | u32 manifest length | manifest JSON | u8 column count | column indexes
 * (ascending) | each column in the column-file layout`.
 */
export function encodeDispersal(manifest: BatchManifest, columns: readonly Column[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(manifestToJson(manifest)));
  const sorted = [...columns].sort((a, b) => a.index - b.index);
  const parts = sorted.map(serializeColumn);
  const size = DISPERSAL_MAGIC.length + 4 + json.length + 1 + sorted.length + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  out.set(DISPERSAL_MAGIC, at);
  at += DISPERSAL_MAGIC.length;
  view.setUint32(at, json.length);
  at += 4;
  out.set(json, at);
  at += json.length;
  view.setUint8(at++, sorted.length);
  for (const c of sorted) view.setUint8(at++, c.index);
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Decodes a dispersal body. Only the framing is checked here (lengths, indexes, exact size);
 * the manifest and the cells are for the receiver to check. Cells are views into `bytes`.
 */
export function decodeDispersal(bytes: Uint8Array, maxManifestBytes = 1 << 20): DispersalBody {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (n: number, at: number, what: string) => {
    if (at + n > bytes.length) throw invalid(`truncated in the ${what}`, { length: bytes.length });
  };
  need(DISPERSAL_MAGIC.length + 4, 0, "header");
  if (!DISPERSAL_MAGIC.every((b, i) => bytes[i] === b)) throw invalid("wrong magic or version");
  let at = DISPERSAL_MAGIC.length;
  const manifestLength = view.getUint32(at);
  at += 4;
  if (manifestLength > maxManifestBytes) throw invalid(`manifest of ${manifestLength} bytes is too large`);
  need(manifestLength, at, "manifest");
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(at, at + manifestLength)));
  } catch {
    throw invalid("the manifest is not JSON");
  }
  at += manifestLength;
  need(1, at, "column count");
  const count = view.getUint8(at++);
  need(count, at, "column indexes");
  const indexes = [...bytes.subarray(at, at + count)];
  at += count;
  if (count === 0) throw invalid("no columns");
  for (const [i, c] of indexes.entries()) {
    if (c >= CELLS_PER_EXT_BLOB || (i > 0 && c <= (indexes[i - 1] as number))) {
      throw invalid("column indexes must be ascending and below 128", { column: c });
    }
  }
  const rest = bytes.length - at;
  const perColumn = rest / count;
  if (!Number.isInteger(perColumn) || perColumn === 0 || perColumn % BYTES_PER_COLUMN_ENTRY !== 0) {
    throw invalid(`${rest} bytes of columns do not divide into ${count} columns of 2096-byte entries`);
  }
  const blobCount = perColumn / BYTES_PER_COLUMN_ENTRY;
  const columns = indexes.map((c, i) =>
    parseColumn(bytes.subarray(at + i * perColumn, at + (i + 1) * perColumn), c, blobCount),
  );
  return { manifest, columns };
}
