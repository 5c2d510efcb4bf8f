import { createHash, randomBytes } from "node:crypto";
import { fromHex, toHex } from "@cellar/utils";
import type { SecretKey } from "@chainsafe/blst";
import { verify } from "@chainsafe/blst";
import { type AttestationDomain, checkDomain } from "./attestation.js";
import { ProtocolError } from "./errors.js";
import { parsePublicKey, parseSignature } from "./keys.js";

/** Domain tag of a disperser's signature on one dispersal request (PROTOCOL.md §13). */
export const DISPERSE_TAG = new TextEncoder().encode("CELLAR-DISPERSE-v1");

/** Longest an authorisation may be valid for: a node remembers nonces at least this long. */
export const MAX_AUTH_LIFETIME_SECONDS = 300;

/** The request headers that carry a dispersal's authorisation. */
export const AUTH_HEADERS = {
  disperser: "x-cellar-disperser",
  expiry: "x-cellar-expiry",
  nonce: "x-cellar-nonce",
  signature: "x-cellar-signature",
} as const;

/** A disperser's authorisation of one dispersal to one node. */
export interface DispersalAuth {
  /** The disperser's 48-byte BLS public key. */
  readonly disperser: Uint8Array;
  /** Unix seconds after which the node refuses the request. */
  readonly expiry: number;
  /** 16 random bytes: a node accepts each (disperser, nonce) once. */
  readonly nonce: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * The 32 bytes a disperser signs to send `root` to one node:
 * `sha256("CELLAR-DISPERSE-v1" || uint256(chainId) || inbox || nodeId || root || uint64(expiry) || nonce)`.
 */
export function dispersalAuthMessage(
  domain: AttestationDomain,
  nodeId: Uint8Array,
  root: Uint8Array,
  expiry: number,
  nonce: Uint8Array,
): Uint8Array {
  checkDomain(domain);
  if (nodeId.length !== 32 || root.length !== 32 || nonce.length !== 16) {
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_AUTH", "node id and root are 32 bytes, the nonce 16", {});
  }
  const expiryBytes = expiryField(expiry);
  return new Uint8Array(
    createHash("sha256")
      .update(DISPERSE_TAG)
      .update(Buffer.from(domain.chainId.toString(16).padStart(64, "0"), "hex"))
      .update(domain.inbox)
      .update(nodeId)
      .update(root)
      .update(expiryBytes)
      .update(nonce)
      .digest(),
  );
}

/** Signs one dispersal of `root` to the node `nodeId`, valid for `lifetimeSeconds`. */
export function signDispersal(
  secretKey: SecretKey,
  domain: AttestationDomain,
  nodeId: Uint8Array,
  root: Uint8Array,
  options: { lifetimeSeconds?: number; now?: number } = {},
): DispersalAuth {
  const expiry = Math.floor((options.now ?? Date.now()) / 1000) + (options.lifetimeSeconds ?? 60);
  const nonce = new Uint8Array(randomBytes(16));
  const message = dispersalAuthMessage(domain, nodeId, root, expiry, nonce);
  return {
    disperser: secretKey.toPublicKey().toBytes(),
    expiry,
    nonce,
    signature: secretKey.sign(message).toBytes(),
  };
}

/** The authorisation as request headers. */
export function dispersalAuthHeaders(auth: DispersalAuth): Record<string, string> {
  return {
    [AUTH_HEADERS.disperser]: toHex(auth.disperser),
    [AUTH_HEADERS.expiry]: String(auth.expiry),
    [AUTH_HEADERS.nonce]: toHex(auth.nonce),
    [AUTH_HEADERS.signature]: toHex(auth.signature),
  };
}

/**
 * Reads an authorisation from request headers; only the shape is checked, not the signature.
 * `keyHeader` names the header with the signer's public key (an encoder's, for encode requests).
 */
export function parseDispersalAuth(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  keyHeader: string = AUTH_HEADERS.disperser,
): DispersalAuth {
  const one = (name: string): string => {
    const value = headers[name];
    if (typeof value !== "string" || value === "") {
      throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_AUTH", `the ${name} header is missing`, { header: name });
    }
    return value;
  };
  try {
    const expiryText = one(AUTH_HEADERS.expiry);
    if (!/^\d{1,15}$/.test(expiryText)) throw new Error(`${AUTH_HEADERS.expiry} must be unix seconds`);
    return {
      disperser: fromHex(one(keyHeader), 48, keyHeader),
      expiry: Number(expiryText),
      nonce: fromHex(one(AUTH_HEADERS.nonce), 16, AUTH_HEADERS.nonce),
      signature: fromHex(one(AUTH_HEADERS.signature), 96, AUTH_HEADERS.signature),
    };
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError(
      "CELLAR_ERR_PROTOCOL_INVALID_AUTH",
      `malformed dispersal authorisation: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}

/** Whether `auth` is the disperser's valid signature for this node and root (not the expiry). */
export function verifyDispersalAuth(
  auth: DispersalAuth,
  domain: AttestationDomain,
  nodeId: Uint8Array,
  root: Uint8Array,
): boolean {
  try {
    return verify(
      dispersalAuthMessage(domain, nodeId, root, auth.expiry, auth.nonce),
      parsePublicKey(auth.disperser),
      parseSignature(auth.signature),
    );
  } catch {
    return false;
  }
}

/** An authorisation's expiry (unix seconds) as the 8 big-endian bytes its signed message holds. */
export function expiryField(expiry: number): Uint8Array {
  if (!Number.isSafeInteger(expiry) || expiry < 0) {
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_AUTH", "expiry must be unix seconds", { expiry });
  }
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(expiry));
  return bytes;
}
