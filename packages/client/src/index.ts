/**
 * Cellar's HTTP clients over undici: `NodeClient` for storage nodes (dispersal with checked
 * attestations, manifests, columns), `retrieveBatch` to rebuild a batch from the nodes while
 * trusting none of them, and `DisperserClient` for rollups posting and reading batches.
 *
 * @example
 * ```ts
 * import { DisperserClient } from "@cellar/client";
 * const disperser = new DisperserClient("http://127.0.0.1:7000");
 * const { id, certificate } = await disperser.post(new TextEncoder().encode("batch"));
 * ```
 *
 * @packageDocumentation
 */
export { type BatchStatus, DisperserClient } from "./disperser-client.js";
export { CLIENT_ERROR_CODES, ClientError, type ClientErrorCode } from "./errors.js";
export { answerError, Http, type HttpOptions, type HttpResponse, type SendOptions } from "./http.js";
export { type DispersalResult, NodeClient, type NodeClientOptions } from "./node-client.js";
export { fetchManifest, type Retrieved, type RetrieveOptions, retrieveBatch } from "./retrieve.js";
