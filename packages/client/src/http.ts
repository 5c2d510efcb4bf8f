import { setTimeout as sleep } from "node:timers/promises";
import { Agent, type Dispatcher, request } from "undici";
import { ClientError } from "./errors.js";

export interface HttpOptions {
  /** Milliseconds to wait for the response headers and between body chunks. Default 10 s. */
  readonly timeoutMs?: number;
  /** Attempts for idempotent requests that fail on the network or with a 5xx. Default 3. */
  readonly attempts?: number;
  /** First backoff between attempts, doubled each time, with jitter. Default 100 ms. */
  readonly backoffMs?: number;
  /** Connection pool to use; by default one shared keep-alive pool per client. */
  readonly dispatcher?: Dispatcher;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: Buffer;
  readonly contentType: string;
}

/** A pooled keep-alive HTTP client with timeouts and retries with backoff. */
export class Http {
  readonly #dispatcher: Dispatcher;
  readonly #ownDispatcher: boolean;
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly backoffMs: number;

  constructor(options: HttpOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 100;
    this.#ownDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ connections: 16, keepAliveTimeout: 30_000 });
  }

  /**
   * One request, retried on network errors and 5xx answers (never on 4xx, which will not change).
   * Resolves with any HTTP answer once one arrives; rejects with CELLAR_ERR_CLIENT_NETWORK when
   * every attempt failed on the network.
   */
  async send(
    method: "GET" | "PUT" | "POST",
    url: string,
    body?: Uint8Array,
    contentType = "application/octet-stream",
    attempts = this.attempts,
  ): Promise<HttpResponse> {
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await request(url, {
          method,
          dispatcher: this.#dispatcher,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          ...(body === undefined ? {} : { body, headers: { "content-type": contentType } }),
        });
        const bytes = Buffer.from(await res.body.arrayBuffer());
        const answer = { status: res.statusCode, body: bytes, contentType: String(res.headers["content-type"] ?? "") };
        if (res.statusCode < 500 || attempt === attempts) return answer;
        last = new ClientError("CELLAR_ERR_CLIENT_HTTP", `${method} ${url}: ${res.statusCode}`, {
          status: res.statusCode,
        });
      } catch (err) {
        last = err;
      }
      if (attempt < attempts) await sleep(this.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
    }
    throw new ClientError(
      "CELLAR_ERR_CLIENT_NETWORK",
      `${method} ${url} failed after ${attempts} attempt(s): ${(last as Error)?.message ?? String(last)}`,
      { url, attempts },
      { cause: last },
    );
  }

  async close(): Promise<void> {
    if (this.#ownDispatcher) await this.#dispatcher.close();
  }
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
