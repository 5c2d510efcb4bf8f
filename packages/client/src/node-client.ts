import { type BatchManifest, type Column, parseColumn, parseManifest } from "@cellar/codec";
import { BYTES_PER_COLUMN_ENTRY } from "@cellar/params";
import {
  type AttestationDomain,
  dispersalAuthHeaders,
  encodeDispersal,
  type NodeRecord,
  type SecretKey,
  signDispersal,
  verifyAttestation,
} from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import { ClientError } from "./errors.js";
import { answerError, Http, type HttpOptions } from "./http.js";

/** A storage node's answer to a dispersal, checked. */
export type DispersalResult =
  | { ok: true; node: NodeRecord; signature: Uint8Array }
  | { ok: false; node: NodeRecord; reason: string; status?: number };

export interface NodeClientOptions extends HttpOptions {
  /** The disperser key dispersals are signed with; without one, nodes refuse them (401). */
  readonly disperserKey?: SecretKey;
}

/** Largest manifest answer accepted (the manifest of the largest batch is ~200 KiB). */
const MAX_MANIFEST_BYTES = 1 << 20;

/** Talks to storage nodes (PROTOCOL.md §13) over one pooled HTTP client. */
export class NodeClient {
  readonly http: Http;
  readonly #key: SecretKey | undefined;

  constructor(options: NodeClientOptions = {}) {
    this.http = new Http(options);
    this.#key = options.disperserKey;
  }

  /**
   * Sends a node its columns and checks the answer: a signature that does not verify against the
   * node's registered key is a failure (`bad-attestation`), never passed on. Each attempt is
   * signed afresh (a node accepts each authorisation once); a 5xx or network failure is tried
   * again, since storing a root twice is a no-op on the node.
   */
  async disperse(
    node: NodeRecord,
    manifest: BatchManifest,
    columns: readonly Column[],
    domain: AttestationDomain,
    options: { attempts?: number; signal?: AbortSignal; reference?: bigint } = {},
  ): Promise<DispersalResult> {
    // The registry snapshot the node is asked to attest under (0 with a static node set).
    const reference = options.reference ?? 0n;
    const body = encodeDispersal(manifest, columns);
    const attempts = options.attempts ?? this.http.attempts;
    let failure: DispersalResult = { ok: false, node, reason: "unreachable" };
    for (let attempt = 1; attempt <= attempts && !options.signal?.aborted; attempt++) {
      const headers = this.#key
        ? dispersalAuthHeaders(signDispersal(this.#key, domain, node.nodeId, manifest.root))
        : {};
      let res: Awaited<ReturnType<Http["send"]>>;
      try {
        res = await this.http.send(
          "PUT",
          `${node.url}/v1/batches/${toHex(manifest.root)}/columns?reference=${reference}`,
          {
            body,
            headers,
            maxResponseBytes: 64 * 1024,
            ...(options.signal ? { signal: options.signal } : {}),
          },
        );
      } catch {
        failure = { ok: false, node, reason: "unreachable" };
        continue;
      }
      if (res.status >= 500) {
        failure = { ok: false, node, reason: `status-${res.status}`, status: res.status };
        continue;
      }
      if (res.status !== 200) return { ok: false, node, reason: `status-${res.status}`, status: res.status };
      let signature: Uint8Array;
      try {
        signature = fromHex((JSON.parse(res.body.toString()) as { signature?: unknown }).signature, 96, "signature");
      } catch {
        return { ok: false, node, reason: "bad-response" };
      }
      if (!verifyAttestation(node.publicKey, domain, manifest.root, signature, reference))
        return { ok: false, node, reason: "bad-attestation" };
      return { ok: true, node, signature };
    }
    return failure;
  }

  /** The manifest of `root` from one node, checked against the root. */
  async manifest(node: NodeRecord, root: Uint8Array, signal?: AbortSignal): Promise<BatchManifest> {
    const res = await this.http.send("GET", `${node.url}/v1/batches/${toHex(root)}/manifest`, {
      attempts: 1,
      maxResponseBytes: MAX_MANIFEST_BYTES,
      ...(signal ? { signal } : {}),
    });
    if (res.status !== 200) throw answerError(res, `manifest from ${node.url}`);
    let json: unknown;
    try {
      json = JSON.parse(res.body.toString());
    } catch (err) {
      throw new ClientError(
        "CELLAR_ERR_CLIENT_BAD_RESPONSE",
        `manifest from ${node.url} is not JSON`,
        {},
        { cause: err },
      );
    }
    return parseManifest(json, root);
  }

  /**
   * One whole column from one node, parsed (not yet verified: that is the caller's job). One
   * attempt: a reader has other custodians to ask. An answer longer than the column can be is
   * cut off.
   */
  async column(node: NodeRecord, manifest: BatchManifest, index: number, signal?: AbortSignal): Promise<Column> {
    const res = await this.http.send("GET", `${node.url}/v1/batches/${toHex(manifest.root)}/columns/${index}`, {
      attempts: 1,
      maxResponseBytes: Math.max(64 * 1024, manifest.blobs.length * BYTES_PER_COLUMN_ENTRY),
      ...(signal ? { signal } : {}),
    });
    if (res.status !== 200) throw answerError(res, `column ${index} from ${node.url}`);
    return parseColumn(
      new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.length),
      index,
      manifest.blobs.length,
    );
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
