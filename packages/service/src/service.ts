import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { CellarError } from "@cellar/utils";
import rateLimit from "@fastify/rate-limit";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { Counter, type Registry } from "prom-client";
import { AddressBudget } from "./budget.js";
import { SERVICE_STATUS, ServiceError } from "./errors.js";
import { resolveLimits, type ServiceLimits } from "./limits.js";

/**
 * HTTP status by error code: a service's own codes and the foreign codes it passes on (each
 * service's table is checked against its packages' code unions where it is written).
 */
export type StatusTable = { readonly [code: `CELLAR_ERR_${string}`]: number };

const isCellarCode = (code: string): code is `CELLAR_ERR_${string}` => code.startsWith("CELLAR_ERR_");

/** The status `table` gives `code`, if it names it. */
function statusOf(table: StatusTable, code: string): number | undefined {
  return isCellarCode(code) && Object.hasOwn(table, code) ? table[code] : undefined;
}

/** One readiness check: `true` when ready, or the reason it is not. */
export type ReadyCheck = () => boolean | string | Promise<boolean | string>;

export interface ServiceOptions {
  /** The service's error area, for its own codes: `CELLAR_ERR_<AREA>_NOT_FOUND` and so on. */
  readonly area: "NODE" | "DISPERSER" | "LIGHT";
  /**
   * The service's codes for Fastify's own refusals (default `CELLAR_ERR_<AREA>_BAD_REQUEST` and
   * `CELLAR_ERR_<AREA>_TOO_LARGE`).
   */
  readonly codes?: { readonly badRequest?: string; readonly tooLarge?: string };
  /** Status of each of the service's own codes (and the foreign codes it passes on). */
  readonly status: StatusTable;
  readonly limits?: Partial<ServiceLimits>;
  /** Base limits the service starts from (its own defaults) before `limits` apply. */
  readonly defaults?: ServiceLimits;
  /** Checks `/readyz` runs: every one must pass (KZG loaded, store open, node set, L1). */
  readonly ready?: Readonly<Record<string, ReadyCheck>>;
  /** What `/healthz` adds to `{status: "ok"}`. */
  readonly health?: () => Record<string, unknown>;
  /** The registry `/metrics` serves; the base adds its own counters to it. */
  readonly metrics: Registry;
  /** Read routes (GET, HEAD) answer any origin; writes stay closed to cross-origin callers. */
  readonly corsReads?: boolean;
  readonly logger?: FastifyBaseLogger;
}

export interface HttpErrorAnswer {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

/** Fastify's own refusals, under the service's codes. */
const FASTIFY_REASONS: Readonly<Record<string, "TOO_LARGE" | "BAD_REQUEST">> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "BAD_REQUEST",
  FST_ERR_CTP_EMPTY_JSON_BODY: "BAD_REQUEST",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "BAD_REQUEST",
  FST_ERR_CTP_INVALID_JSON_BODY: "BAD_REQUEST",
  // Node's parser, before Fastify sees a request (see clientErrorHandler below).
  HPE_HEADER_OVERFLOW: "TOO_LARGE",
};

/** The status Node's HTTP parser refusals are answered with (anything else: 400). */
const CLIENT_ERROR_STATUS: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/**
 * The one place an error becomes an HTTP answer for a service: Cellar errors by their code's
 * status, Fastify's own refusals under the service's codes, anything else a 500 that reveals
 * nothing.
 */
export function answerFor(err: unknown, options: Pick<ServiceOptions, "area" | "status" | "codes">): HttpErrorAnswer {
  const codeFor = (reason: "TOO_LARGE" | "BAD_REQUEST") =>
    (reason === "TOO_LARGE" ? options.codes?.tooLarge : options.codes?.badRequest) ??
    `CELLAR_ERR_${options.area}_${reason}`;
  if (err instanceof CellarError) {
    const status = statusOf(options.status, err.code) ?? statusOf(SERVICE_STATUS, err.code) ?? 500;
    const retry = err.context.retryAfterSeconds;
    return {
      status,
      code: err.code,
      message: status >= 500 && status !== 503 ? "internal error" : err.message,
      ...(typeof retry === "number" ? { retryAfterSeconds: retry } : {}),
    };
  }
  const e = err as { code?: string; statusCode?: number; message?: string };
  const reason = e.code ? FASTIFY_REASONS[e.code] : undefined;
  if (reason !== undefined) {
    return {
      status: e.statusCode ?? 400,
      code: codeFor(reason),
      message: e.message ?? reason,
    };
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      status: e.statusCode,
      code: `CELLAR_ERR_${options.area}_BAD_REQUEST`,
      message: e.message ?? "bad request",
    };
  }
  return { status: 500, code: "CELLAR_ERR_SERVICE_INTERNAL", message: "internal error" };
}

/** Routes outside the request budget, so that monitoring is never locked out. */
const UNMETERED = /^\/(healthz|readyz|metrics)(\?|$)/;

/** The client address a request is counted against (the socket's, never a header a caller sets). */
export function clientOf(request: FastifyRequest): string {
  return request.socket.remoteAddress ?? request.ip;
}

/**
 * The HTTP base every Cellar service is built on (Fastify): deadlines for headers, whole
 * requests, idle sockets and keep-alive; a connection cap; body limits enforced while the body
 * streams; a request budget per client address (429 with Retry-After); JSON errors from one
 * handler; `/healthz` (alive), `/readyz` (every readiness check passes) and `/metrics`. The
 * service adds its routes in `routes`, which runs after the limits are in place.
 */
export function createService(
  options: ServiceOptions,
  routes: (app: FastifyInstance) => void | Promise<void>,
): FastifyInstance {
  const limits = resolveLimits(options.limits, options.defaults);
  const { max, windowMs } = limits.rateLimit;
  const budget = max > 0 ? new AddressBudget(max, windowMs) : undefined;
  // [§20] An address past its budget is refused on Node's raw request, before Fastify does any
  // work for it: no request object, hooks, routing or serialisation (a canned JSON answer).
  const overBudget = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (budget === undefined || UNMETERED.test(req.url ?? "")) return false;
    const address = req.socket.remoteAddress ?? "";
    const retryAfter = budget.take(address);
    if (retryAfter === 0) return false;
    refused.inc({ code: "CELLAR_ERR_SERVICE_RATE_LIMITED" });
    if (budget.firstRefusal(address))
      options.logger?.info(
        { client: address, max, windowMs },
        "request budget used up: refusing until the window ends",
      );
    const body = JSON.stringify({
      error: {
        code: "CELLAR_ERR_SERVICE_RATE_LIMITED",
        message: `more than ${max} requests from this address in ${windowMs / 1000} s, retry in ${retryAfter} s`,
      },
    });
    const cors = options.corsReads && (req.method === "GET" || req.method === "HEAD");
    res.writeHead(429, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      "retry-after": String(retryAfter),
      ...(cors ? { "access-control-allow-origin": "*" } : {}),
    });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  };
  const http = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
  const common = {
    // The server Fastify would make (the same deadlines), with the budget checked first.
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
      const server = createServer(http, (req, res) => {
        if (!overBudget(req, res)) handler(req, res);
      });
      server.keepAliveTimeout = limits.keepAliveTimeoutMs;
      server.requestTimeout = limits.requestTimeoutMs;
      server.setTimeout(limits.idleTimeoutMs);
      return server;
    },
    bodyLimit: limits.bodyLimit,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    return503OnClosing: true,
    forceCloseConnections: true,
    // A request Node's parser refuses (a broken request line, headers past the size limit, a
    // header deadline) and one Fastify's router refuses (a bad URL encoding, an over-long
    // parameter) are answered in the same JSON shape as every other refusal.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === "ECONNRESET" || socket.destroyed) return;
      const status = CLIENT_ERROR_STATUS[err.code ?? ""] ?? 400;
      const answer = answerFor(
        { code: err.code, statusCode: status, message: `malformed request (${err.code ?? "parse error"})` },
        options,
      );
      refused.inc({ code: answer.code });
      const body = JSON.stringify({ error: { code: answer.code, message: answer.message } });
      // An answer already under way on this socket (a refusal sent before the body turned out
      // malformed) must not be followed by a second one: the socket is only closed (as Node does).
      const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (socket.writable && !inFlight?.headersSent) {
        socket.write(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy(err);
    },
    frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
      sendError(err, request, reply),
  };
  const app: FastifyInstance = options.logger
    ? Fastify({ ...common, loggerInstance: options.logger })
    : Fastify({ ...common, logger: false });
  app.server.maxConnections = limits.maxConnections;

  const requests = new Counter({
    name: "cellar_http_requests_total",
    help: "HTTP requests answered, by method, route and status",
    labelNames: ["method", "route", "status"],
    registers: [options.metrics],
  });
  const refused = new Counter({
    name: "cellar_http_refused_total",
    help: "HTTP requests refused, by error code",
    labelNames: ["code"],
    registers: [options.metrics],
  });
  // [§20] The idle timeout is for a client that has gone silent while sending; once its request
  // is in, the service owes the answer and the socket's timer becomes the answer's backstop (a
  // dispersal waiting for its quorum and a light client's verdict is silent for longer than the
  // idle timeout). Past it: a 503 in the JSON shape, and the connection closed. Once the answer
  // is being sent, the idle timeout is back: a client that stops reading it is cut off.
  const answering = new WeakSet<ServerResponse>();
  app.addHook("preHandler", async (request, reply) => {
    reply.raw.setTimeout(limits.responseTimeoutMs, () => {
      const res = reply.raw;
      if (res.headersSent || answering.has(res)) {
        res.destroy();
        return;
      }
      refused.inc({ code: "CELLAR_ERR_SERVICE_TIMEOUT" });
      request.log.warn({ url: request.url, responseTimeoutMs: limits.responseTimeoutMs }, "answer timed out");
      const body = JSON.stringify({
        error: {
          code: "CELLAR_ERR_SERVICE_TIMEOUT",
          message: `no answer within ${limits.responseTimeoutMs / 1000} s`,
        },
      });
      res.writeHead(503, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(body),
        connection: "close",
      });
      res.end(body, () => res.destroy());
    });
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    answering.add(reply.raw);
    reply.raw.setTimeout(limits.idleTimeoutMs);
    return payload;
  });
  app.addHook("onResponse", async (request, reply) => {
    requests.inc({
      method: request.method,
      route: request.routeOptions.url ?? "unmatched",
      status: String(reply.statusCode),
    });
  });

  function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const answer = answerFor(err, options);
    refused.inc({ code: answer.code });
    if (answer.status >= 500 && answer.status !== 503) request.log.error({ err }, "request failed");
    else request.log.info({ code: answer.code, status: answer.status }, answer.message);
    if (answer.retryAfterSeconds !== undefined) void reply.header("retry-after", String(answer.retryAfterSeconds));
    void reply.status(answer.status).send({ error: { code: answer.code, message: answer.message } });
  }
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) => {
    const code = `CELLAR_ERR_${options.area}_NOT_FOUND`;
    refused.inc({ code });
    void reply.status(404).send({ error: { code, message: `no route ${request.method} ${request.url}` } });
  });

  if (options.corsReads) {
    app.addHook("onRequest", async (request, reply) => {
      if (request.method === "GET" || request.method === "HEAD") {
        void reply.header("access-control-allow-origin", "*");
        return;
      }
      if (request.method === "OPTIONS" && request.headers.origin !== undefined) {
        const wanted = String(request.headers["access-control-request-method"] ?? "").toUpperCase();
        if (wanted !== "GET" && wanted !== "HEAD") {
          throw new ServiceError(
            "CELLAR_ERR_SERVICE_CROSS_ORIGIN",
            `cross-origin ${wanted || "requests"} are not allowed here; only GET and HEAD are`,
            {},
          );
        }
        return reply
          .status(204)
          .header("access-control-allow-origin", "*")
          .header("access-control-allow-methods", "GET, HEAD")
          .header("access-control-max-age", "600")
          .send();
      }
    });
  }

  // The budget of every route is checked before Fastify (above); routes with a budget of their
  // own (`config: {rateLimit: {max, timeWindow}}`, the disperser's posts) are checked here.
  if (limits.rateLimit.max > 0) {
    void app.register(rateLimit, {
      global: false,
      max: limits.rateLimit.max,
      timeWindow: limits.rateLimit.windowMs,
      keyGenerator: clientOf,
      errorResponseBuilder: (_request, context) =>
        new ServiceError(
          "CELLAR_ERR_SERVICE_RATE_LIMITED",
          `more than ${context.max} requests from this address in ${limits.rateLimit.windowMs / 1000} s, retry in ${context.after}`,
          { retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) },
        ),
    });
  }

  void app.register(async (scoped) => {
    scoped.get("/healthz", { config: { rateLimit: false } }, async () => ({
      status: "ok",
      ...(options.health?.() ?? {}),
    }));
    scoped.get("/readyz", { config: { rateLimit: false } }, async (_request, reply) => {
      const checks: Record<string, true | string> = {};
      for (const [name, check] of Object.entries(options.ready ?? {})) {
        try {
          const result = await check();
          checks[name] = result === true ? true : result === false ? "not ready" : result;
        } catch (err) {
          checks[name] = (err as Error).message;
        }
      }
      const failing = Object.entries(checks).filter(([, v]) => v !== true);
      if (failing.length === 0) return { status: "ready", checks };
      refused.inc({ code: "CELLAR_ERR_SERVICE_NOT_READY" });
      return reply.status(503).send({
        error: {
          code: "CELLAR_ERR_SERVICE_NOT_READY",
          message: `not ready: ${failing.map(([k, v]) => `${k} (${v})`).join(", ")}`,
        },
        checks,
      });
    });
    scoped.get("/metrics", { config: { rateLimit: false } }, async (_request, reply) =>
      reply.type(options.metrics.contentType).send(await options.metrics.metrics()),
    );
    await routes(scoped);
  });
  return app;
}
