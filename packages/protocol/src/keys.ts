import { createHash } from "node:crypto";
import { PublicKey, SecretKey, Signature, verify } from "@chainsafe/blst";
import { ProtocolError } from "./errors.js";

/** Domain tag of a storage node's proof of possession (DESIGN.md step 6, PROTOCOL.md §9). */
export const POP_TAG = new TextEncoder().encode("CELLAR-POP-v2");
/** Domain tag of a disperser key's proof of possession. */
export const DISPERSER_POP_TAG = new TextEncoder().encode("CELLAR-DISPERSER-POP-v1");

/**
 * Who registers a key, where: the operator account, the chain and the registry contract. A proof
 * of possession signs all three, so it cannot be replayed by another account, on another chain or
 * at another registry (no key squatting).
 */
export interface PopBinding {
  /** The operator's 20-byte account address. */
  readonly operator: Uint8Array;
  readonly chainId: bigint;
  /** The registry contract's 20-byte address. */
  readonly registry: Uint8Array;
}

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

/**
 * The bytes a proof of possession signs: `tag || operator (20) || uint256 chainId (32) ||
 * registry (20) || publicKey (48)`, `abi.encodePacked(tag, operator, block.chainid, registry,
 * compressedKey)` in Solidity.
 */
export function popMessage(publicKey: Uint8Array, binding: PopBinding, tag: Uint8Array = POP_TAG): Uint8Array {
  const { operator, chainId, registry } = binding;
  if (
    !(operator instanceof Uint8Array) ||
    operator.length !== 20 ||
    !(registry instanceof Uint8Array) ||
    registry.length !== 20
  )
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_DOMAIN", "operator and registry must be 20-byte addresses");
  if (typeof chainId !== "bigint" || chainId < 0n || chainId >= 1n << 256n)
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_DOMAIN", "chain id must be a uint256");
  const chain = Buffer.from(chainId.toString(16).padStart(64, "0"), "hex");
  return new Uint8Array(Buffer.concat([tag, operator, chain, registry, publicKey]));
}

/** Proof of possession bound to `binding`: the key's signature over `popMessage`. */
export function proofOfPossession(secretKey: SecretKey, binding: PopBinding, tag: Uint8Array = POP_TAG): Uint8Array {
  return secretKey.sign(popMessage(secretKey.toPublicKey().toBytes(), binding, tag)).toBytes();
}

/** Checks a bound proof of possession; false for any proof that does not hold, parse or bind. */
export function verifyProofOfPossession(
  publicKey: Uint8Array,
  proof: Uint8Array,
  binding: PopBinding,
  tag: Uint8Array = POP_TAG,
): boolean {
  try {
    return verify(popMessage(publicKey, binding, tag), parsePublicKey(publicKey), parseSignature(proof));
  } catch {
    return false;
  }
}
