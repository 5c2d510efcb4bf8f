import { ServiceError } from "./errors.js";

/** Per-client request budget: at most `max` requests per `windowMs` from one address. */
export interface RateLimit {
  readonly max: number;
  readonly windowMs: number;
}

/**
 * What one HTTP service lets any caller cost it (docs/OPERATING.md lists the flags). Every
 * connection and request has a deadline, bodies are capped while they stream, and every client
 * address has a request budget.
 */
export interface ServiceLimits {
  /** Largest request body in bytes: refused from the content-length, or once passed mid-stream. */
  readonly bodyLimit: number;
  /** Time for a client to send the request line and headers (slow-loris headers). */
  readonly headersTimeoutMs: number;
  /** Time for a client to send a whole request, body included (slow-loris bodies). */
  readonly requestTimeoutMs: number;
  /** A socket with no traffic from the client for this long is closed (not while the service owes it an answer). */
  readonly idleTimeoutMs: number;
  /**
   * Time the service has to answer once a request is in; past it a 503 CELLAR_ERR_SERVICE_TIMEOUT
   * and the connection closed. A backstop: each route's own deadlines answer well before it.
   */
  readonly responseTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections at once; more are refused by the kernel accept path. */
  readonly maxConnections: number;
  /** Requests per client address per window; `max: 0` turns the limit off. */
  readonly rateLimit: RateLimit;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  bodyLimit: 1 << 20,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
  idleTimeoutMs: 30_000,
  responseTimeoutMs: 300_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
  rateLimit: { max: 1200, windowMs: 60_000 },
};

/** `DEFAULT_LIMITS` overridden by `given`, every value checked. */
export function resolveLimits(given: Partial<ServiceLimits> = {}, base: ServiceLimits = DEFAULT_LIMITS): ServiceLimits {
  const limits = { ...base, ...given, rateLimit: { ...base.rateLimit, ...given.rateLimit } };
  const positive: (keyof Omit<ServiceLimits, "rateLimit">)[] = [
    "bodyLimit",
    "headersTimeoutMs",
    "requestTimeoutMs",
    "idleTimeoutMs",
    "responseTimeoutMs",
    "keepAliveTimeoutMs",
    "maxConnections",
  ];
  for (const key of positive) {
    const value = limits[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new ServiceError("CELLAR_ERR_SERVICE_CONFIG", `${key} must be a positive integer, got ${value}`, { key });
    }
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new ServiceError("CELLAR_ERR_SERVICE_CONFIG", "headersTimeoutMs must not exceed requestTimeoutMs", {});
  }
  const { max, windowMs } = limits.rateLimit;
  if (!Number.isInteger(max) || max < 0 || !Number.isInteger(windowMs) || windowMs < 1) {
    throw new ServiceError(
      "CELLAR_ERR_SERVICE_CONFIG",
      "rateLimit needs an integer max >= 0 and an integer windowMs >= 1",
      {},
    );
  }
  return limits;
}
