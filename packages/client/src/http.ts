import { setTimeout as sleep } from "node:timers/promises";
import { Agent, type Dispatcher, request } from "undici";
import { ClientError } from "./errors.js";

export interface HttpOptions {
  /**
   * Milliseconds one request may take from start to the last byte of its answer (an overall
   * deadline: a peer trickling bytes cannot stretch it). Default 10 s.
   */
  readonly timeoutMs?: number;
  /** Largest answer body accepted, in bytes; a longer one is cut off and fails. Default 64 MiB. */
  readonly maxResponseBytes?: number;
  /** Attempts for reads (GET) that fail on the network or with a 5xx. Default 3. Writes: once. */
  readonly attempts?: number;
  /** First backoff between attempts, doubled each time, with jitter. Default 100 ms. */
  readonly backoffMs?: number;
  /** Connection pool to use; by default one shared keep-alive pool per client. */
  readonly dispatcher?: Dispatcher;
}

/** Per-request overrides of the client's defaults. */
export interface SendOptions {
  readonly body?: Uint8Array;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly attempts?: number;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  /** Aborts the request (and the retries) from outside, e.g. a round's total deadline. */
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: Buffer;
  readonly contentType: string;
}

/**
 * A pooled keep-alive HTTP client where every request has an overall deadline and a response
 * size cap, and only reads are retried (with backoff).
 */
export class Http {
  readonly #dispatcher: Dispatcher;
  readonly #ownDispatcher: boolean;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly attempts: number;
  readonly backoffMs: number;

  constructor(options: HttpOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 100;
    this.#ownDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ connections: 16, keepAliveTimeout: 30_000 });
  }

  /**
   * One request. A GET is retried on network errors and 5xx answers (never on 4xx, which will not
   * change); PUT and POST are sent once, since a timed-out write may have taken effect. Resolves
   * with any HTTP answer once one arrives whole; rejects with CELLAR_ERR_CLIENT_NETWORK when every
   * attempt failed on the network, ran past its deadline or sent more than the size cap.
   */
  async send(method: "GET" | "PUT" | "POST", url: string, options: SendOptions = {}): Promise<HttpResponse> {
    const attempts = method === "GET" ? (options.attempts ?? this.attempts) : 1;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const maxBytes = options.maxResponseBytes ?? this.maxResponseBytes;
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (options.signal?.aborted) {
        last = options.signal.reason;
        break;
      }
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
      try {
        const headers = {
          ...(options.headers ?? {}),
          ...(options.body === undefined ? {} : { "content-type": options.contentType ?? "application/octet-stream" }),
        };
        const res = await request(url, {
          method,
          dispatcher: this.#dispatcher,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          signal,
          headers,
          ...(options.body === undefined ? {} : { body: options.body }),
        });
        const bytes = await readCapped(res.body, maxBytes, Number(res.headers["content-length"] ?? Number.NaN));
        const answer = { status: res.statusCode, body: bytes, contentType: String(res.headers["content-type"] ?? "") };
        if (res.statusCode < 500 || attempt === attempts) return answer;
        last = new ClientError("CELLAR_ERR_CLIENT_HTTP", `${method} ${url}: ${res.statusCode}`, {
          status: res.statusCode,
        });
      } catch (err) {
        // An answer over the size cap will be over it again: no retry.
        if (err instanceof ClientError && err.code === "CELLAR_ERR_CLIENT_TOO_LARGE") throw err;
        last = deadline.aborted
          ? new ClientError("CELLAR_ERR_CLIENT_TIMEOUT", `${method} ${url} took longer than ${timeoutMs} ms`, {
              timeoutMs,
            })
          : err;
      }
      if (attempt < attempts) await sleep(this.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
    }
    const cause = last as { code?: string; message?: string } | undefined;
    // A deadline or a size cap is the caller's own limit: say which, not just "network".
    if (last instanceof ClientError && last.code === "CELLAR_ERR_CLIENT_TIMEOUT") throw last;
    throw new ClientError(
      "CELLAR_ERR_CLIENT_NETWORK",
      `${method} ${url} failed after ${attempts} attempt(s): ${cause?.message ?? String(last)}`,
      { url, attempts, reason: cause?.code ?? "network" },
      { cause: last },
    );
  }

  async close(): Promise<void> {
    if (this.#ownDispatcher) await this.#dispatcher.close();
  }
}

/** Reads a body whole, failing as soon as it passes `max` bytes (announced or as it streams). */
async function readCapped(body: Dispatcher.ResponseData["body"], max: number, announced: number): Promise<Buffer> {
  const tooLarge = () =>
    new ClientError("CELLAR_ERR_CLIENT_TOO_LARGE", `the answer is larger than the ${max}-byte limit`, { max });
  // Destroying an unread body makes undici emit an abort error on it: expected, not a crash.
  body.on("error", () => {});
  if (announced > max) {
    body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > max) {
      body.destroy();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

/** The `{error: {code, message}}` of a failed answer, as a ClientError keeping the server's code. */
export function answerError(res: HttpResponse, what: string): ClientError {
  let code = "";
  let message = "";
  try {
    const json = JSON.parse(res.body.toString()) as { error?: { code?: string; message?: string } };
    code = json.error?.code ?? "";
    message = json.error?.message ?? "";
  } catch {
    // Not JSON: keep the status alone.
  }
  return new ClientError(
    "CELLAR_ERR_CLIENT_HTTP",
    `${what}: ${res.status}${message ? ` ${message}` : ""}${code ? ` [${code}]` : ""}`,
    {
      status: res.status,
      serverCode: code,
    },
  );
}
