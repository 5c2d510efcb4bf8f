/**
 * The HTTP base every Cellar service (storage node, disperser, light node) is built on: one
 * Fastify set-up with deadlines, connection and body caps, per-client rate limits, JSON errors,
 * `/healthz`, `/readyz` and `/metrics`; and bounded work queues for expensive jobs.
 *
 * @example
 * ```ts
 * import { createService, WorkQueue } from "@cellar/service";
 * import { Registry } from "prom-client";
 * const verify = new WorkQueue({ name: "verify", concurrency: 2, maxQueued: 8, maxPerClient: 2 });
 * const app = createService({ area: "NODE", status: {}, metrics: new Registry() }, (app) => {
 *   app.get("/v1/hello", async (request) => verify.run(async () => ({ hello: "world" }), request.ip));
 * });
 * await app.listen({ host: "127.0.0.1", port: 0 });
 * ```
 *
 * @packageDocumentation
 */

export { AddressBudget } from "./budget.js";
export { SERVICE_ERROR_CODES, SERVICE_STATUS, ServiceError, type ServiceErrorCode } from "./errors.js";
export { DEFAULT_LIMITS, type RateLimit, resolveLimits, type ServiceLimits } from "./limits.js";
export {
  answerFor,
  clientOf,
  createService,
  type HttpErrorAnswer,
  type ReadyCheck,
  type ServiceOptions,
  type StatusTable,
} from "./service.js";
export { WorkQueue, type WorkQueueOptions } from "./work-queue.js";
