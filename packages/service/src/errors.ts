import { CellarError } from "@cellar/utils";

/** Refusals the HTTP base itself answers with, whatever the service. */
export const SERVICE_ERROR_CODES = [
  "CELLAR_ERR_SERVICE_RATE_LIMITED",
  "CELLAR_ERR_SERVICE_CLIENT_BUSY",
  "CELLAR_ERR_SERVICE_BUSY",
  "CELLAR_ERR_SERVICE_TIMEOUT",
  "CELLAR_ERR_SERVICE_NOT_READY",
  "CELLAR_ERR_SERVICE_CROSS_ORIGIN",
  "CELLAR_ERR_SERVICE_CONFIG",
  "CELLAR_ERR_SERVICE_INTERNAL",
] as const;

export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];

/** A refusal of the HTTP base. `context.retryAfterSeconds`, when set, becomes `Retry-After`. */
export class ServiceError extends CellarError<ServiceErrorCode> {}

/** The status of each of the base's codes. */
export const SERVICE_STATUS = {
  CELLAR_ERR_SERVICE_RATE_LIMITED: 429,
  CELLAR_ERR_SERVICE_CLIENT_BUSY: 429,
  CELLAR_ERR_SERVICE_BUSY: 503,
  CELLAR_ERR_SERVICE_TIMEOUT: 503,
  CELLAR_ERR_SERVICE_NOT_READY: 503,
  CELLAR_ERR_SERVICE_CROSS_ORIGIN: 403,
  CELLAR_ERR_SERVICE_CONFIG: 500,
  CELLAR_ERR_SERVICE_INTERNAL: 500,
} as const satisfies Record<ServiceErrorCode, number>;
