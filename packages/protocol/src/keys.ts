import { createHash } from "node:crypto";
import { PublicKey, SecretKey, Signature, verify } from "@chainsafe/blst";
import { ProtocolError } from "./errors.js";

/** Domain tag of a proof of possession (DESIGN.md step 6). */
export const POP_TAG = new TextEncoder().encode("CELLAR-POP-v1");

/** A node id: sha256 of the node's 48-byte compressed BLS public key. */
export function nodeIdFromPublicKey(publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(publicKey).digest());
}

/**
 * Parses a 48-byte compressed G1 public key, refusing bytes that are not a point, the point at
 * infinity, and points outside the prime-order subgroup (blst's key validation).
 */
export function parsePublicKey(bytes: Uint8Array): PublicKey {
  try {
    return PublicKey.fromBytes(bytes, true);
  } catch (err) {
    throw new ProtocolError(
      "CELLAR_ERR_PROTOCOL_INVALID_KEY",
      "not a valid BLS public key",
      { length: bytes.length },
      { cause: err },
    );
  }
}

export function parseSignature(bytes: Uint8Array): Signature {
  try {
    return Signature.fromBytes(bytes, true);
  } catch (err) {
    throw new ProtocolError(
      "CELLAR_ERR_PROTOCOL_INVALID_KEY",
      "not a valid BLS signature",
      { length: bytes.length },
      { cause: err },
    );
  }
}

/** Parses a 32-byte secret key. */
export function parseSecretKey(bytes: Uint8Array): SecretKey {
  try {
    return SecretKey.fromBytes(bytes);
  } catch (err) {
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_KEY", "not a valid BLS secret key", {}, { cause: err });
  }
}

/** A fresh secret key from 32 bytes of CSPRNG output (EIP-2333 key generation). */
export function generateSecretKey(ikm: Uint8Array): SecretKey {
  return SecretKey.fromKeygen(ikm);
}

function popMessage(publicKey: Uint8Array): Uint8Array {
  const message = new Uint8Array(POP_TAG.length + publicKey.length);
  message.set(POP_TAG, 0);
  message.set(publicKey, POP_TAG.length);
  return message;
}

/** Proof of possession: the key's signature over `"CELLAR-POP-v1" || publicKey`. */
export function proofOfPossession(secretKey: SecretKey): Uint8Array {
  return secretKey.sign(popMessage(secretKey.toPublicKey().toBytes())).toBytes();
}

/** Checks a proof of possession; false for any signature that does not hold or does not parse. */
export function verifyProofOfPossession(publicKey: Uint8Array, proof: Uint8Array): boolean {
  try {
    return verify(popMessage(publicKey), parsePublicKey(publicKey), parseSignature(proof));
  } catch {
    return false;
  }
}
