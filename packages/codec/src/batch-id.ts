import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";
import { CodecError } from "./errors.js";

/** Multihash code of keccak-256 (multicodec table). */
export const KECCAK_256_CODE = 0x1b;

/**
 * The batch id: a CIDv1 (raw codec, keccak-256 multihash) whose digest is the batch root. The
 * root is keccak-256 of its 96-byte preimage, so the CID content-addresses those bytes, and id
 * and root convert into each other without any lookup.
 */
export function batchIdFromRoot(root: Uint8Array): string {
  if (root.length !== 32) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_ID", `a batch root is 32 bytes, got ${root.length}`, {
      length: root.length,
    });
  }
  return CID.createV1(raw.code, Digest.create(KECCAK_256_CODE, root)).toString();
}

/** The root a batch id names; also accepts the root itself as 0x-hex. */
export function rootFromBatchId(id: string): Uint8Array {
  if (/^0x[0-9a-fA-F]{64}$/.test(id)) return new Uint8Array(Buffer.from(id.slice(2), "hex"));
  let cid: CID;
  try {
    cid = CID.parse(id);
  } catch (err) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_INVALID_ID",
      `${JSON.stringify(id)} is neither a batch CID nor a 0x root`,
      { id },
      { cause: err },
    );
  }
  if (
    cid.version !== 1 ||
    cid.code !== raw.code ||
    cid.multihash.code !== KECCAK_256_CODE ||
    cid.multihash.size !== 32
  ) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_ID", `${id} is a CID, but not a batch id (CIDv1, raw, keccak-256)`, {
      id,
      version: cid.version,
      codec: cid.code,
      hash: cid.multihash.code,
    });
  }
  return new Uint8Array(cid.multihash.digest);
}
