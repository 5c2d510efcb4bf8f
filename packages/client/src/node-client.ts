import { type BatchManifest, type Column, parseColumn, parseManifest } from "@cellar/codec";
import { type AttestationDomain, encodeDispersal, type NodeRecord, verifyAttestation } from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import { ClientError } from "./errors.js";
import { answerError, Http, type HttpOptions } from "./http.js";

/** A storage node's answer to a dispersal, checked. */
export type DispersalResult =
  | { ok: true; node: NodeRecord; signature: Uint8Array }
  | { ok: false; node: NodeRecord; reason: string; status?: number };

/** Talks to storage nodes (PROTOCOL.md §13) over one pooled HTTP client. */
export class NodeClient {
  readonly http: Http;

  constructor(options: HttpOptions = {}) {
    this.http = new Http(options);
  }

  /**
   * Sends a node its columns and checks the answer: a signature that does not verify against the
   * node's registered key is a failure (`bad-attestation`), never passed on.
   */
  async disperse(
    node: NodeRecord,
    manifest: BatchManifest,
    columns: readonly Column[],
    domain: AttestationDomain,
    reference = 0n,
  ): Promise<DispersalResult> {
    let res: Awaited<ReturnType<Http["send"]>>;
    try {
      res = await this.http.send(
        "PUT",
        `${node.url}/v1/batches/${toHex(manifest.root)}/columns`,
        encodeDispersal(manifest, columns, reference),
      );
    } catch {
      return { ok: false, node, reason: "unreachable" };
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

  /** The manifest of `root` from one node, checked against the root. */
  async manifest(node: NodeRecord, root: Uint8Array): Promise<BatchManifest> {
    const res = await this.http.send("GET", `${node.url}/v1/batches/${toHex(root)}/manifest`, undefined, undefined, 1);
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
   * attempt: a reader has other custodians to ask.
   */
  async column(node: NodeRecord, manifest: BatchManifest, index: number): Promise<Column> {
    const res = await this.http.send(
      "GET",
      `${node.url}/v1/batches/${toHex(manifest.root)}/columns/${index}`,
      undefined,
      undefined,
      1,
    );
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
