import { createHash, randomBytes } from "node:crypto";
import { toHex } from "@cellar/utils";
import type { SecretKey } from "@chainsafe/blst";
import { verify } from "@chainsafe/blst";
import {
  AUTH_HEADERS,
  type DispersalAuth,
  expiryField,
  MAX_AUTH_LIFETIME_SECONDS,
  parseDispersalAuth,
} from "./dispersal-auth.js";
import { ProtocolError } from "./errors.js";
import { parsePublicKey, parseSignature } from "./keys.js";

/** Domain tag of an encoder's signature on one request to a disperser replica (PROTOCOL.md §22). */
export const ENCODE_TAG = new TextEncoder().encode("CELLAR-ENCODE-v1");

/** The header with the encoder's 48-byte BLS public key; expiry, nonce and signature as for dispersals. */
export const ENCODER_HEADER = "x-cellar-encoder";

/**
 * The 32 bytes an encoder signs for one request about one encode job:
 * `sha256("CELLAR-ENCODE-v1" || method || 0x00 || jobId || 0x00 || sha256(body) || uint64(expiry) || nonce)`
 * (an empty body for a GET). The body hash binds a result to the request that carries it.
 */
export function encodeAuthMessage(
  method: string,
  jobId: string,
  body: Uint8Array,
  expiry: number,
  nonce: Uint8Array,
): Uint8Array {
  if (nonce.length !== 16 || !/^[0-9a-f]{1,64}$/.test(jobId)) {
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_AUTH", "a job id is lowercase hex, the nonce 16 bytes", {});
  }
  const expiryBytes = expiryField(expiry);
  return new Uint8Array(
    createHash("sha256")
      .update(ENCODE_TAG)
      .update(`${method}\0${jobId}\0`)
      .update(createHash("sha256").update(body).digest())
      .update(expiryBytes)
      .update(nonce)
      .digest(),
  );
}

/** The request headers that authorise `method` on job `jobId` with `body`, valid for `lifetimeSeconds`. */
export function signEncodeRequest(
  secretKey: SecretKey,
  method: string,
  jobId: string,
  body: Uint8Array,
  options: { lifetimeSeconds?: number; now?: number } = {},
): Record<string, string> {
  const expiry = Math.floor((options.now ?? Date.now()) / 1000) + (options.lifetimeSeconds ?? 60);
  const nonce = new Uint8Array(randomBytes(16));
  const signature = secretKey.sign(encodeAuthMessage(method, jobId, body, expiry, nonce)).toBytes();
  return {
    [ENCODER_HEADER]: toHex(secretKey.toPublicKey().toBytes()),
    [AUTH_HEADERS.expiry]: String(expiry),
    [AUTH_HEADERS.nonce]: toHex(nonce),
    [AUTH_HEADERS.signature]: toHex(signature),
  };
}

/**
 * Checks an encoder's request: the headers' shape, an expiry neither past nor further than
 * MAX_AUTH_LIFETIME_SECONDS ahead, and the signature over (method, job, body). Returns the
 * encoder's public key; throws CELLAR_ERR_PROTOCOL_INVALID_AUTH otherwise.
 */
export function verifyEncodeRequest(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  method: string,
  jobId: string,
  body: Uint8Array,
  now = Date.now(),
): Uint8Array {
  const auth: DispersalAuth = parseDispersalAuth(headers, ENCODER_HEADER);
  const seconds = Math.floor(now / 1000);
  if (auth.expiry < seconds || auth.expiry > seconds + MAX_AUTH_LIFETIME_SECONDS) {
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_AUTH", "the authorisation has expired or lives too long", {
      expiry: auth.expiry,
    });
  }
  let valid = false;
  try {
    valid = verify(
      encodeAuthMessage(method, jobId, body, auth.expiry, auth.nonce),
      parsePublicKey(auth.disperser),
      parseSignature(auth.signature),
    );
  } catch {
    valid = false;
  }
  if (!valid)
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_AUTH", "the encoder's signature does not verify", {});
  return auth.disperser;
}
