import { createHash } from "node:crypto";
import type { SecretKey } from "@chainsafe/blst";
import { verify } from "@chainsafe/blst";
import { ProtocolError } from "./errors.js";
import { parsePublicKey, parseSignature } from "./keys.js";

export const ATTEST_TAG = new TextEncoder().encode("CELLAR-ATTEST-v2");

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

const uint256 = (value: bigint) => Buffer.from(value.toString(16).padStart(64, "0"), "hex");

/**
 * The 32 bytes a node signs for a batch under the registry snapshot of `reference` (an L1 block):
 * `sha256("CELLAR-ATTEST-v2" || uint256(chainId) || inbox (20 bytes) || root || uint256(reference))`,
 * which is `sha256(abi.encodePacked("CELLAR-ATTEST-v2", chainId, inbox, root, reference))` in Solidity.
 */
export function attestationMessage(domain: AttestationDomain, root: Uint8Array, reference = 0n): Uint8Array {
  checkDomain(domain);
  if (root.length !== 32) {
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_DOMAIN", "a batch root is 32 bytes", { length: root.length });
  }
  if (typeof reference !== "bigint" || reference < 0n || reference >= 1n << 64n) {
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_DOMAIN", "a reference block is a uint64", {});
  }
  return new Uint8Array(
    createHash("sha256")
      .update(ATTEST_TAG)
      .update(uint256(domain.chainId))
      .update(domain.inbox)
      .update(root)
      .update(uint256(reference))
      .digest(),
  );
}

/**
 * A node's 96-byte BLS signature over the attestation message of `root` at `reference` (0 under a
 * static node set, which has no L1 snapshots).
 */
export function signAttestation(
  secretKey: SecretKey,
  domain: AttestationDomain,
  root: Uint8Array,
  reference = 0n,
): Uint8Array {
  return secretKey.sign(attestationMessage(domain, root, reference)).toBytes();
}

/** Whether `signature` is `publicKey`'s attestation of `root` at `reference`; false for anything malformed. */
export function verifyAttestation(
  publicKey: Uint8Array,
  domain: AttestationDomain,
  root: Uint8Array,
  signature: Uint8Array,
  reference = 0n,
): boolean {
  try {
    return verify(attestationMessage(domain, root, reference), parsePublicKey(publicKey), parseSignature(signature));
  } catch {
    return false;
  }
}
