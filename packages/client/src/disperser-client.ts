import type { ManifestJson } from "@cellar/codec";
import type { CertificateJson } from "@cellar/protocol";
import { ClientError } from "./errors.js";
import { answerError, Http, type HttpOptions } from "./http.js";

/** The disperser's answer to a post, and to a status query. */
export interface BatchStatus {
  id: string;
  root: string;
  size: number;
  status: "encoding" | "dispersing" | "certified" | "available" | "failed";
  blobs: { commitment: string; versionedHash: string }[];
  certificate?: CertificateJson;
  error?: { code: string; message: string };
  manifest?: ManifestJson;
  /** Once a light client sampled the batch to the target: who vouched, how sure, when. */
  availability?: { confidence: number; at: string; by: string; independent: boolean };
}

/**
 * A rollup's client for the disperser's native API: post a batch, ask its status, get it back.
 *
 * @example
 * ```ts
 * const disperser = new DisperserClient("http://127.0.0.1:7000");
 * const posted = await disperser.post(bytes); // resolves once certified
 * const back = await disperser.data(posted.id);
 * ```
 */
export class DisperserClient {
  readonly #http: Http;
  readonly url: string;

  constructor(url: string, options: HttpOptions = {}) {
    this.url = url.replace(/\/+$/, "");
    // Posts are sent once (the Http client retries only reads); a post may wait for sampling.
    this.#http = new Http({ timeoutMs: 300_000, maxResponseBytes: 256 * 1024 * 1024, ...options });
  }

  /**
   * Posts a batch; resolves with the certified batch (with `wait: "available"`, once a light
   * client has sampled it), rejects with the server's reason.
   */
  async post(bytes: Uint8Array, options: { wait?: "certified" | "available" } = {}): Promise<BatchStatus> {
    const query = options.wait === "available" ? "?wait=available" : "";
    const res = await this.#http.send("POST", `${this.url}/v1/batches${query}`, {
      body: bytes,
      maxResponseBytes: 4 * 1024 * 1024,
    });
    if (res.status !== 200) throw answerError(res, "post");
    return this.#json(res.body, "post") as BatchStatus;
  }

  async status(id: string): Promise<BatchStatus> {
    const res = await this.#http.send("GET", `${this.url}/v1/batches/${encodeURIComponent(id)}`, {
      maxResponseBytes: 4 * 1024 * 1024,
    });
    if (res.status !== 200) throw answerError(res, "status");
    return this.#json(res.body, "status") as BatchStatus;
  }

  /** The batch's bytes, rebuilt by the disperser from the storage nodes. */
  async data(id: string): Promise<Uint8Array> {
    const res = await this.#http.send("GET", `${this.url}/v1/batches/${encodeURIComponent(id)}/data`);
    if (res.status !== 200) throw answerError(res, "get");
    return new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.length);
  }

  #json(body: Buffer, what: string): unknown {
    try {
      return JSON.parse(body.toString());
    } catch (err) {
      throw new ClientError("CELLAR_ERR_CLIENT_BAD_RESPONSE", `${what}: the answer is not JSON`, {}, { cause: err });
    }
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}
