import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { ClientError, NodeClient, type RetrieveOptions, retrieveBatch } from "@cellar/client";
import { type BatchManifest, encodeBatch, type ManifestJson, manifestToJson } from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import { MAX_BATCH_BYTES } from "@cellar/params";
import {
  type AttestationDomain,
  type Certificate,
  type CertificateJson,
  certificateToJson,
  checkDomain,
  DEFAULT_QUORUM,
  DEFAULT_REPLICATION,
  type NodeRecord,
  type SnapshotSource,
} from "@cellar/protocol";
import { toHex } from "@cellar/utils";
import type { FastifyBaseLogger } from "fastify";
import { disperse } from "./disperse.js";
import { DisperserError } from "./errors.js";
import { createDisperserMetrics, type DisperserMetrics } from "./metrics.js";

export interface DisperserOptions {
  readonly nodes: readonly NodeRecord[];
  /**
   * Registry snapshots (the L1 registry's checkpoints): each batch is dispersed under the latest
   * block as its reference, to the nodes of that snapshot, and read back by the same snapshot.
   * Without them the node set `nodes` is used under reference 0.
   */
  readonly snapshots?: SnapshotSource;
  readonly domain: AttestationDomain;
  readonly replication?: number;
  /** Fraction of registered nodes a certificate needs. Default 2/3. */
  readonly quorum?: number;
  /** Largest batch accepted, in bytes. Default 32 MiB. */
  readonly maxBatchBytes?: number;
  /** Per-request timeout towards nodes. Default 10 s. */
  readonly nodeTimeoutMs?: number;
  /** Attempts per node request. Default 3. */
  readonly nodeAttempts?: number;
  /** Node requests in flight at once. Default 8. */
  readonly concurrency?: number;
  readonly lingerMs?: number;
  /** How long a post may wait for a quorum before answering 503. Default 30 s. */
  readonly deadlineMs?: number;
  /** Batches whose status is remembered. Default 10,000. */
  readonly maxTracked?: number;
  /** Light nodes told about every certified batch (`PUT /v1/batches/:id` with the certificate). */
  readonly lightNodes?: readonly string[];
}

export interface DisperserModules {
  readonly kzg: Pick<
    Kzg,
    "blobToCommitmentAsync" | "computeCellsAndProofsAsync" | "verifyCellProofBatchAsync" | "recoverCellsAndProofsAsync"
  >;
  readonly logger?: FastifyBaseLogger;
  readonly metrics?: DisperserMetrics;
}

export type BatchStatusName = "encoding" | "dispersing" | "certified" | "failed";

export interface BatchView {
  id: string;
  root: string;
  size: number;
  status: BatchStatusName;
  blobs: ManifestJson["blobs"];
  certificate?: CertificateJson;
  error?: { code: string; message: string };
}

interface Entry {
  status: BatchStatusName;
  size: number;
  manifest?: BatchManifest;
  certificate?: Certificate;
  error?: DisperserError;
  done: Promise<Entry>;
}

/**
 * The disperser's work, apart from HTTP: encode a batch on all cores, send each node its custody
 * columns, certify, and rebuild batches from the nodes for readers. Posting the same bytes again
 * while they are in flight or certified does no new work.
 */
export class Disperser {
  readonly opts: Required<Omit<DisperserOptions, "nodes" | "domain" | "snapshots">> &
    Pick<DisperserOptions, "nodes" | "domain" | "snapshots">;
  readonly metrics: DisperserMetrics;
  readonly client: NodeClient;
  readonly #kzg: DisperserModules["kzg"];
  readonly #log: FastifyBaseLogger | undefined;
  readonly #byPayload = new Map<string, Entry>();
  readonly #byRoot = new Map<string, Entry>();
  #nodes: readonly NodeRecord[];

  constructor(opts: DisperserOptions, modules: DisperserModules) {
    const bad = (m: string) => new DisperserError("CELLAR_ERR_DISPERSER_CONFIG", m);
    if (!Array.isArray(opts.nodes) || opts.nodes.length === 0)
      throw bad("the disperser needs a node set with at least one node");
    checkDomain(opts.domain);
    const quorum = opts.quorum ?? DEFAULT_QUORUM;
    if (!(quorum > 0 && quorum <= 1)) throw bad("quorum must be a fraction in (0, 1]");
    const maxBatchBytes = opts.maxBatchBytes ?? 32 * 1024 * 1024;
    if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < 1 || maxBatchBytes > MAX_BATCH_BYTES) {
      throw bad(`maxBatchBytes must be an integer in 1..${MAX_BATCH_BYTES}`);
    }
    this.opts = {
      nodes: opts.nodes,
      ...(opts.snapshots ? { snapshots: opts.snapshots } : {}),
      domain: opts.domain,
      replication: opts.replication ?? DEFAULT_REPLICATION,
      quorum,
      maxBatchBytes,
      nodeTimeoutMs: opts.nodeTimeoutMs ?? 10_000,
      nodeAttempts: opts.nodeAttempts ?? 3,
      concurrency: opts.concurrency ?? 8,
      lingerMs: opts.lingerMs ?? 250,
      deadlineMs: opts.deadlineMs ?? 30_000,
      maxTracked: opts.maxTracked ?? 10_000,
      lightNodes: opts.lightNodes ?? [],
    };
    this.#nodes = opts.nodes;
    this.#kzg = modules.kzg;
    this.#log = modules.logger;
    this.metrics = modules.metrics ?? createDisperserMetrics();
    this.client = new NodeClient({ timeoutMs: this.opts.nodeTimeoutMs, attempts: this.opts.nodeAttempts });
  }

  get nodes(): readonly NodeRecord[] {
    return this.#nodes;
  }

  /** Replaces the node set (reloaded file, or the L1 registry). */
  setNodes(nodes: readonly NodeRecord[]): void {
    if (nodes.length === 0) throw new DisperserError("CELLAR_ERR_DISPERSER_CONFIG", "empty node set");
    this.#nodes = nodes;
  }

  /** Encodes, disperses and certifies `payload`; resolves with the certified view or rejects. */
  async post(payload: Uint8Array): Promise<BatchView> {
    if (payload.length > this.opts.maxBatchBytes) {
      throw new DisperserError(
        "CELLAR_ERR_DISPERSER_TOO_LARGE",
        `batch of ${payload.length} bytes exceeds the limit of ${this.opts.maxBatchBytes}`,
        {
          size: payload.length,
        },
      );
    }
    const key = createHash("sha256").update(payload).digest("hex");
    const existing = this.#byPayload.get(key);
    if (existing) {
      this.metrics.batches.inc({ result: "repeat" });
      const entry = await existing.done;
      if (entry.error) throw entry.error;
      return view(entry);
    }
    const entry: Entry = { status: "encoding", size: payload.length, done: Promise.resolve(undefined as never) };
    entry.done = this.#run(entry, payload, key);
    this.#track(this.#byPayload, key, entry);
    const finished = await entry.done;
    if (finished.error) throw finished.error;
    return view(finished);
  }

  async #run(entry: Entry, payload: Uint8Array, key: string): Promise<Entry> {
    const stopEncode = this.metrics.encodeSeconds.startTimer();
    let batch: Awaited<ReturnType<typeof encodeBatch>>;
    try {
      batch = await encodeBatch(payload, { kzg: this.#kzg, concurrency: availableParallelism() });
    } catch (err) {
      // Nothing was dispersed: forget the attempt so the same bytes can be posted again.
      this.#byPayload.delete(key);
      throw err;
    } finally {
      stopEncode();
    }
    entry.manifest = batch.manifest;
    entry.status = "dispersing";
    const rootHex = toHex(batch.manifest.root);
    this.#track(this.#byRoot, rootHex, entry);
    const log = this.#log?.child({ batch: batch.manifest.id });
    log?.info({ size: payload.length, blobs: batch.blobs.length }, "encoded");
    this.metrics.bytes.inc(payload.length);
    try {
      const { reference, nodes } = await this.#snapshot();
      const dispersed = await disperse(batch, {
        nodes,
        reference,
        replication: this.opts.replication,
        domain: this.opts.domain,
        client: this.client,
        quorum: this.opts.quorum,
        concurrency: this.opts.concurrency,
        lingerMs: this.opts.lingerMs,
        deadlineMs: this.opts.deadlineMs,
        onResult: (result, seconds) => {
          this.metrics.dispersalSeconds.observe({ node: String(result.node.index) }, seconds);
          if (!result.ok) {
            this.metrics.attestationsFailed.inc({ reason: result.reason });
            log?.warn({ node: result.node.index, url: result.node.url, reason: result.reason }, "dispersal failed");
          }
        },
      });
      entry.certificate = dispersed.certificate;
      entry.status = "certified";
      this.metrics.certificates.inc();
      this.metrics.batches.inc({ result: "certified" });
      log?.info({ signers: certificateToJson(dispersed.certificate).signers }, "certified");
      this.#notifyLightNodes(batch.manifest.id, dispersed.certificate, log);
    } catch (err) {
      entry.status = "failed";
      entry.error =
        err instanceof DisperserError ? err : new DisperserError("CELLAR_ERR_DISPERSER_NO_QUORUM", String(err));
      // A failed post may be tried again: forget it by payload, keep its status by root.
      this.#byPayload.delete(key);
      this.metrics.batches.inc({ result: "failed" });
      log?.warn({ err: entry.error.message }, "not certified");
    }
    return entry;
  }

  /** The reference block and node set a new batch is dispersed under. */
  async #snapshot(): Promise<{ reference: bigint; nodes: readonly NodeRecord[] }> {
    const source = this.opts.snapshots;
    if (!source) return { reference: 0n, nodes: this.#nodes };
    const reference = await source.latest();
    return { reference, nodes: await source.nodesAt(reference) };
  }

  /** Tells the light nodes about a certified batch; a light node that fails is logged, not retried. */
  #notifyLightNodes(id: string, certificate: Certificate, log: FastifyBaseLogger | undefined): void {
    const body = new TextEncoder().encode(JSON.stringify({ certificate: certificateToJson(certificate) }));
    for (const url of this.opts.lightNodes) {
      this.client.http
        .send("PUT", `${url.replace(/\/+$/, "")}/v1/batches/${id}`, body, "application/json", 1)
        .then((res) => {
          if (res.status !== 200) log?.warn({ light: url, status: res.status }, "light node refused the batch");
        })
        .catch((err: unknown) => log?.warn({ light: url, err: (err as Error).message }, "light node unreachable"));
    }
  }

  #track(map: Map<string, Entry>, key: string, entry: Entry): void {
    map.set(key, entry);
    if (map.size > this.opts.maxTracked) map.delete(map.keys().next().value as string);
  }

  /** The status of a batch this disperser has handled. */
  status(root: Uint8Array): BatchView {
    const entry = this.#byRoot.get(toHex(root));
    if (!entry)
      throw new DisperserError("CELLAR_ERR_DISPERSER_NOT_FOUND", `batch ${toHex(root)} is not known to this disperser`);
    return view(entry);
  }

  /** Rebuilds a batch's bytes from the storage nodes, verifying every cell used. */
  async data(root: Uint8Array): Promise<Uint8Array> {
    const entry = this.#byRoot.get(toHex(root));
    const known = entry?.manifest;
    // Custody is the batch's own snapshot's (§10), whatever joined or left since.
    const reference = entry?.certificate?.reference;
    const nodes =
      reference !== undefined && this.opts.snapshots ? await this.opts.snapshots.nodesAt(reference) : this.#nodes;
    const options: RetrieveOptions = {
      nodes,
      replication: this.opts.replication,
      client: this.client,
      kzg: this.#kzg,
      ...(known ? { manifest: known } : {}),
      onBadNode: (node, column, reason) => {
        this.metrics.badNodes.inc({ reason });
        this.#log?.warn(
          { node: node.index, column, reason, batch: toHex(root) },
          "bad answer from a node during retrieval",
        );
      },
    };
    try {
      const { payload } = await retrieveBatch(root, options);
      this.metrics.retrievals.inc({ result: "ok" });
      return payload;
    } catch (err) {
      this.metrics.retrievals.inc({ result: "failed" });
      if (err instanceof ClientError && err.code === "CELLAR_ERR_CLIENT_UNAVAILABLE") {
        throw new DisperserError("CELLAR_ERR_DISPERSER_UNAVAILABLE", err.message, err.context, { cause: err });
      }
      throw err;
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

function view(entry: Entry): BatchView {
  const m = entry.manifest;
  return {
    id: m?.id ?? "",
    root: m ? toHex(m.root) : "",
    size: entry.size,
    status: entry.status,
    blobs: m ? manifestToJson(m).blobs : [],
    ...(entry.certificate ? { certificate: certificateToJson(entry.certificate) } : {}),
    ...(entry.error ? { error: { code: entry.error.code, message: entry.error.message } } : {}),
  };
}
