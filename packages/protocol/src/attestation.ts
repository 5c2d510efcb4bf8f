import { createHash } from "node:crypto";
import type { SecretKey } from "@chainsafe/blst";
import { verify } from "@chainsafe/blst";
import { ProtocolError } from "./errors.js";
import { parsePublicKey, parseSignature } from "./keys.js";

export const ATTEST_TAG = new TextEncoder().encode("CELLAR-ATTEST-v1");

/** Where attestations count: the L1 chain and inbox contract. Signing binds both (no replay). */
export interface AttestationDomain {
  readonly chainId: bigint;
  /** The inbox contract's 20-byte address. */
  readonly inbox: Uint8Array;
}

export function checkDomain(domain: AttestationDomain): void {
  if (typeof domain.chainId !== "bigint" || domain.chainId < 0n || domain.chainId >= 1n << 256n) {
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_DOMAIN", "chain id must be a uint256", {});
  }
  if (!(domain.inbox instanceof Uint8Array) || domain.inbox.length !== 20) {
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_DOMAIN", "inbox must be a 20-byte address", {});
  }
}

/**
 * The 32 bytes a node signs for a batch:
 * `sha256("CELLAR-ATTEST-v1" || uint256(chainId) || inbox (20 bytes) || root)`, which is
 * `sha256(abi.encodePacked("CELLAR-ATTEST-v1", chainId, inbox, root))` in Solidity.
 */
export function attestationMessage(domain: AttestationDomain, root: Uint8Array): Uint8Array {
  checkDomain(domain);
  if (root.length !== 32) {
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_DOMAIN", "a batch root is 32 bytes", { length: root.length });
  }
  const chainId = Buffer.from(domain.chainId.toString(16).padStart(64, "0"), "hex");
  return new Uint8Array(
    createHash("sha256").update(ATTEST_TAG).update(chainId).update(domain.inbox).update(root).digest(),
  );
}

/** A node's 96-byte BLS signature over the attestation message of `root`. */
export function signAttestation(secretKey: SecretKey, domain: AttestationDomain, root: Uint8Array): Uint8Array {
  return secretKey.sign(attestationMessage(domain, root)).toBytes();
}

/** Whether `signature` is `publicKey`'s attestation of `root`; false for anything malformed. */
export function verifyAttestation(
  publicKey: Uint8Array,
  domain: AttestationDomain,
  root: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return verify(attestationMessage(domain, root), parsePublicKey(publicKey), parseSignature(signature));
  } catch {
    return false;
  }
}
