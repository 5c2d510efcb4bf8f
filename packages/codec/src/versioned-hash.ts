import { createHash } from "node:crypto";
import { BYTES_PER_COMMITMENT, VERSIONED_HASH_VERSION_KZG } from "@cellar/params";
import { CodecError } from "./errors.js";

/** EIP-4844 versioned hash of a KZG commitment: `0x01 || sha256(commitment)[1:]`. */
export function versionedHash(commitment: Uint8Array): Uint8Array {
  if (commitment.length !== BYTES_PER_COMMITMENT) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_INVALID_MANIFEST",
      `a commitment must be 48 bytes, got ${commitment.length}`,
      {
        length: commitment.length,
      },
    );
  }
  const hash = new Uint8Array(createHash("sha256").update(commitment).digest());
  hash[0] = VERSIONED_HASH_VERSION_KZG;
  return hash;
}
