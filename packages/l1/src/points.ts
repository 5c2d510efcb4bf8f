import { parsePublicKey, parseSignature } from "@cellar/protocol";
import { PublicKey } from "@chainsafe/blst";
import { L1Error } from "./errors.js";

/**
 * The contracts take points uncompressed (decompressing costs a square root on chain): a public
 * key as 96 bytes (x || y), a signature as 192 bytes (x.c1 || x.c0 || y.c1 || y.c0), both in
 * blst's serialization.
 */
export function uncompressedPublicKey(compressed: Uint8Array): Uint8Array {
  return parsePublicKey(compressed).toBytes(false);
}

export function uncompressedSignature(compressed: Uint8Array): Uint8Array {
  return parseSignature(compressed).toBytes(false);
}

/** The 48-byte compressed key of a 96-byte uncompressed one (validated: on curve, in subgroup). */
export function compressedPublicKey(uncompressed: Uint8Array): Uint8Array {
  try {
    return PublicKey.fromBytes(uncompressed, true).toBytes(true);
  } catch (err) {
    throw new L1Error(
      "CELLAR_ERR_L1_INVALID_INPUT",
      "the registry returned a key that is not a valid BLS key",
      {},
      {
        cause: err,
      },
    );
  }
}
