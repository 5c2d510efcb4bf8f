import { MANIFEST_VERSION, MAX_BATCH_BYTES, MAX_BLOBS_PER_BATCH } from "@cellar/params";
import { bytesEqual, fromHex, isCellarError, toHex } from "@cellar/utils";
import { batchIdFromRoot } from "./batch-id.js";
import { CodecError } from "./errors.js";
import { batchRoot } from "./root.js";
import { versionedHash } from "./versioned-hash.js";

export interface ManifestBlob {
  readonly commitment: Uint8Array;
  readonly versionedHash: Uint8Array;
}

/**
 * What a client needs to check any cell of a batch: the blob commitments, the payload size and
 * the root that binds them. Every BatchManifest value has passed `checkManifest`.
 */
export interface BatchManifest {
  readonly version: number;
  readonly id: string;
  readonly root: Uint8Array;
  readonly size: number;
  readonly blobs: readonly ManifestBlob[];
}

/** The JSON form (`manifest.json`, HTTP bodies): byte strings as 0x-hex. */
export interface ManifestJson {
  version: number;
  id: string;
  root: string;
  size: number;
  blobs: { commitment: string; versionedHash: string }[];
}

/** Builds the manifest of a batch from its blob commitments and payload size. */
export function buildManifest(commitments: readonly Uint8Array[], size: number): BatchManifest {
  const blobs = commitments.map((commitment) => ({ commitment, versionedHash: versionedHash(commitment) }));
  const root = batchRoot(
    blobs.map((b) => b.versionedHash),
    size,
  );
  return { version: MANIFEST_VERSION, id: batchIdFromRoot(root), root, size, blobs };
}

export function manifestToJson(manifest: BatchManifest): ManifestJson {
  return {
    version: manifest.version,
    id: manifest.id,
    root: toHex(manifest.root),
    size: manifest.size,
    blobs: manifest.blobs.map((b) => ({ commitment: toHex(b.commitment), versionedHash: toHex(b.versionedHash) })),
  };
}

function invalid(message: string, context: Record<string, unknown> = {}, cause?: unknown): CodecError {
  return new CodecError("CELLAR_ERR_CODEC_INVALID_MANIFEST", `invalid manifest: ${message}`, context, { cause });
}

function hexField(value: unknown, length: number, field: string): Uint8Array {
  try {
    return fromHex(value, length, field);
  } catch (err) {
    throw isCellarError(err) ? invalid(err.message, { field }, err) : err;
  }
}

/**
 * Parses and checks a manifest from its JSON form: every field's type and length, each
 * versioned hash against its commitment, the root against the versioned hashes, blob count and
 * size, and the id against the root. With `expectedRoot`, the manifest must name that root.
 * Throws CELLAR_ERR_CODEC_INVALID_MANIFEST or CELLAR_ERR_CODEC_ROOT_MISMATCH.
 */
export function parseManifest(json: unknown, expectedRoot?: Uint8Array): BatchManifest {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw invalid("not a JSON object");
  const m = json as Record<string, unknown>;
  if (m.version !== MANIFEST_VERSION) throw invalid(`unsupported version ${String(m.version)}`, { version: m.version });
  const size = m.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0 || size > MAX_BATCH_BYTES) {
    throw invalid(`size must be an integer in 0..${MAX_BATCH_BYTES}`, { size });
  }
  if (!Array.isArray(m.blobs) || m.blobs.length === 0 || m.blobs.length > MAX_BLOBS_PER_BATCH) {
    throw invalid(`blobs must be a list of 1 to ${MAX_BLOBS_PER_BATCH} entries`);
  }
  const blobs = m.blobs.map((entry: unknown, i: number): ManifestBlob => {
    if (typeof entry !== "object" || entry === null) throw invalid(`blob ${i} is not an object`, { blob: i });
    const e = entry as Record<string, unknown>;
    const commitment = hexField(e.commitment, 48, `blobs[${i}].commitment`);
    const hash = hexField(e.versionedHash, 32, `blobs[${i}].versionedHash`);
    if (!bytesEqual(hash, versionedHash(commitment))) {
      throw invalid(`blob ${i}'s versioned hash does not match its commitment`, { blob: i });
    }
    return { commitment, versionedHash: hash };
  });
  const root = hexField(m.root, 32, "root");
  const computed = batchRoot(
    blobs.map((b) => b.versionedHash),
    size,
  );
  if (!bytesEqual(root, computed)) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_ROOT_MISMATCH",
      "invalid manifest: its root does not match its blobs and size",
      { root: toHex(root), computed: toHex(computed) },
    );
  }
  if (expectedRoot !== undefined && !bytesEqual(root, expectedRoot)) {
    throw new CodecError("CELLAR_ERR_CODEC_ROOT_MISMATCH", "the manifest is for another batch root", {
      root: toHex(root),
      expected: toHex(expectedRoot),
    });
  }
  const id = batchIdFromRoot(root);
  if (m.id !== id) throw invalid("its id does not match its root", { id: m.id, expected: id });
  return { version: MANIFEST_VERSION, id, root, size, blobs };
}
