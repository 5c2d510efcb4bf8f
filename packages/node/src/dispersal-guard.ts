import {
  type AttestationDomain,
  type DispersalAuth,
  MAX_AUTH_LIFETIME_SECONDS,
  parseDispersalAuth,
  verifyDispersalAuth,
} from "@cellar/protocol";
import { toHex } from "@cellar/utils";
import { NodeError } from "./errors.js";

export interface DispersalGuardOptions {
  readonly domain: AttestationDomain;
  readonly nodeId: Uint8Array;
  /** Nonces remembered at most; when every one is still live, new dispersals wait (503). */
  readonly maxNonces?: number;
}

/**
 * Decides, from the request headers alone, whether a dispersal may be read at all (PROTOCOL.md
 * §13.1): it must carry a disperser's signature over this node, the root and an expiry no more
 * than five minutes away; the disperser must be one of the authorised keys; and each nonce is
 * accepted once. Cheap checks (shape, expiry, known key, replay) run before the one pairing.
 */
export class DispersalGuard {
  readonly #opts: DispersalGuardOptions;
  #keys = new Set<string>();
  readonly #nonces = new Map<string, number>();

  constructor(opts: DispersalGuardOptions, keys: readonly Uint8Array[] = []) {
    this.#opts = opts;
    this.setDispersers(keys);
  }

  /** Replaces the authorised disperser keys (a flag, or the L1 registry's dispersers). */
  setDispersers(keys: readonly Uint8Array[]): void {
    this.#keys = new Set(keys.map((k) => toHex(k)));
  }

  get dispersers(): number {
    return this.#keys.size;
  }

  /** Checks a request's authorisation for `root`; returns it, or throws a 401/403 NodeError. */
  check(
    headers: Readonly<Record<string, string | string[] | undefined>>,
    root: Uint8Array,
    now = Date.now(),
  ): DispersalAuth {
    let auth: DispersalAuth;
    try {
      auth = parseDispersalAuth(headers);
    } catch (err) {
      throw new NodeError(
        "CELLAR_ERR_NODE_UNAUTHENTICATED",
        `dispersals must be signed by an authorised disperser: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    }
    const seconds = Math.floor(now / 1000);
    if (auth.expiry < seconds || auth.expiry > seconds + MAX_AUTH_LIFETIME_SECONDS) {
      throw new NodeError(
        "CELLAR_ERR_NODE_AUTH_EXPIRED",
        `the authorisation expires at ${auth.expiry}, outside [now, now + ${MAX_AUTH_LIFETIME_SECONDS} s]`,
        { expiry: auth.expiry, now: seconds },
      );
    }
    const disperser = toHex(auth.disperser);
    if (!this.#keys.has(disperser)) {
      throw new NodeError("CELLAR_ERR_NODE_UNKNOWN_DISPERSER", `disperser ${disperser} is not authorised here`, {
        disperser,
      });
    }
    const nonce = `${disperser}:${toHex(auth.nonce)}`;
    if (this.#nonces.has(nonce)) {
      throw new NodeError("CELLAR_ERR_NODE_REPLAYED", "this dispersal authorisation was used already", {});
    }
    if (!verifyDispersalAuth(auth, this.#opts.domain, this.#opts.nodeId, root)) {
      throw new NodeError(
        "CELLAR_ERR_NODE_UNAUTHENTICATED",
        "the dispersal signature does not verify for this node and root",
        {},
      );
    }
    this.#remember(nonce, auth.expiry, seconds);
    return auth;
  }

  #remember(nonce: string, expiry: number, now: number): void {
    const max = this.#opts.maxNonces ?? 100_000;
    if (this.#nonces.size >= max) {
      for (const [key, until] of this.#nonces) if (until < now) this.#nonces.delete(key);
    }
    if (this.#nonces.size >= max) {
      throw new NodeError("CELLAR_ERR_NODE_BUSY", "too many dispersals in flight, try again shortly", {
        retryAfterSeconds: 5,
      });
    }
    this.#nonces.set(nonce, expiry);
  }
}
