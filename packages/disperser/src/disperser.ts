import { createHash, randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { ClientError, NodeClient, type RetrieveOptions, retrieveBatch } from "@cellar/client";
import { checkFrameStart, type EncodedBlob, encodeBatch, manifestToJson, parseManifest } from "@cellar/codec";
import { ExplorerFeed } from "@cellar/explorer";
import type { Kzg } from "@cellar/kzg";
import { DEFAULT_TARGET } from "@cellar/light";
import type { Erasure } from "@cellar/native";
import { MAX_BATCH_BYTES } from "@cellar/params";
import {
  type AttestationDomain,
  certificateToJson,
  checkDomain,
  DEFAULT_QUORUM,
  DEFAULT_REPLICATION,
  generateSecretKey,
  type NodeRecord,
  type SecretKey,
  type SnapshotSource,
} from "@cellar/protocol";
import { WorkQueue } from "@cellar/service";
import { fromHex, toHex } from "@cellar/utils";
import type { FastifyBaseLogger } from "fastify";
import { type Availability, awaitAvailability } from "./availability.js";
import { disperse } from "./disperse.js";
import { DisperserError } from "./errors.js";
import { createDisperserMetrics, type DisperserMetrics } from "./metrics.js";
import { PayloadCache } from "./payload-cache.js";
import {
  type BatchRecord,
  type BatchStatusName,
  type DisperserStore,
  LmdbDisperserStore,
  MemoryDisperserStore,
} from "./store.js";

/** The disperser's defaults, where an option is not given (the CLI's flags show the same). */
export const DISPERSER_DEFAULTS = {
  port: 7000,
  maxBatchBytes: 32 * 1024 * 1024,
  nodeTimeoutMs: 10_000,
  deadlineMs: 30_000,
  retentionMs: 0,
  cacheBytes: 256 * 1024 * 1024,
  availabilityDeadlineMs: 60_000,
  postsPerMinute: 60,
  claimLeaseMs: 15_000,
} as const;

export interface DisperserOptions {
  readonly nodes: readonly NodeRecord[];
  /**
   * Registry snapshots (the L1 registry's checkpoints): each batch is dispersed under the latest
   * block as its reference, to the nodes of that snapshot, and read back by the same snapshot.
   * Without them the node set `nodes` is used under reference 0.
   */
  readonly snapshots?: SnapshotSource;
  readonly domain: AttestationDomain;
  /** The key dispersals are signed with; storage nodes accept only keys they know. Default: a fresh one. */
  readonly key?: SecretKey;
  /** Where statuses and certificates are kept (LMDB); without it they live in memory only. */
  readonly dataDir?: string;
  /** A store of the caller's (a shared database); overrides `dataDir`. */
  readonly store?: DisperserStore;
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
  /** Batches are forgotten this long after they were posted; 0 keeps them. Default 0. */
  readonly retentionMs?: number;
  /** Posts encoded and dispersed at once, and how many more may wait. Default 2 and 8. */
  readonly postConcurrency?: number;
  readonly postQueue?: number;
  /** Posts (or reads) one client may have in progress at once. Default 2. */
  readonly maxPerClient?: number;
  /** Bytes of recently posted or read batches kept in memory for `GET …/data`. Default 256 MiB. */
  readonly cacheBytes?: number;
  /** Total time of one retrieval for a reader. Default 120 s. */
  readonly retrieveDeadlineMs?: number;
  /** Light nodes told about every certified batch (`PUT /v1/batches/:id` with the certificate). */
  readonly lightNodes?: readonly string[];
  /**
   * Sample before commit: the alt-DA `/put` answers only once a light client reached the target
   * confidence (the `lightNodes`, else the disperser's own sampler). Default false.
   */
  readonly sampleBeforeCommit?: boolean;
  /**
   * How long a replica's claim on a payload it is encoding and dispersing lasts unless renewed
   * (it renews every third of it): a replica that died is known dead this long after. Default 15 s.
   */
  readonly claimLeaseMs?: number;
  /** How often a replica waiting for another's batch of the same bytes looks again. Default 200 ms. */
  readonly claimPollMs?: number;
  /** Confidence a batch must reach to be `available`. Default 1 - 1e-6. */
  readonly availabilityTarget?: number;
  /** How long a batch may take to become available before the wait answers 503. Default 60 s. */
  readonly availabilityDeadlineMs?: number;
}

export interface DisperserModules {
  readonly kzg: Pick<Kzg, "blobToCommitmentAsync" | "computeCellsAndProofsAsync" | "verifyCellProofBatchAsync">;
  /** Data-only recovery for retrievals that miss some of columns 0..63 (`@cellar/native`). */
  readonly erasure: Pick<Erasure, "recoverBlobsAsync">;
  readonly logger?: FastifyBaseLogger;
  readonly metrics?: DisperserMetrics;
  /** Encodes blobs elsewhere (an encoder fleet) instead of on this machine's cores. */
  readonly encoder?: BlobEncoder;
}

/** Where a batch's packed blobs are encoded when not in this process. */
export interface BlobEncoder {
  /**
   * Every blob's commitment, cells and proofs, in order, each verified against its commitment;
   * `owner` is the replica holding the payload's claim (work for a claim that lapsed is dropped).
   */
  encodeBlobs(blobs: readonly Uint8Array[], payloadHash: string, owner: string): Promise<readonly EncodedBlob[]>;
}

export type { BatchStatusName };

export interface BatchView {
  id: string;
  root: string;
  size: number;
  status: BatchStatusName;
  blobs: { commitment: string; versionedHash: string }[];
  certificate?: BatchRecord["certificate"];
  error?: { code: string; message: string };
  availability?: Availability;
  createdAt?: string;
}

type Resolved = Required<
  Omit<DisperserOptions, "nodes" | "domain" | "key" | "dataDir" | "store" | "lightNodes" | "snapshots">
> & {
  lightNodes: readonly string[];
};

/**
 * The disperser's work, apart from HTTP: encode a batch on all cores, send each node its custody
 * columns signed with the disperser's key, certify, and rebuild batches from the nodes for
 * readers. Statuses and certificates are durable (`dataDir`) and survive restarts; a batch a
 * dead process left in flight is reported failed and may be posted again. Posting the same bytes
 * again while they are in flight or certified does no new work. Posts and reads run through
 * bounded queues: beyond them, callers are refused at once (503, or 429 past their own share).
 */
export class Disperser {
  readonly opts: Resolved;
  readonly metrics: DisperserMetrics;
  readonly client: NodeClient;
  readonly store: DisperserStore;
  readonly publicKey: Uint8Array;
  readonly domain: AttestationDomain;
  readonly posts: WorkQueue;
  readonly reads: WorkQueue;
  /** What the explorer page shows: each batch as it is encoded, dispersed and certified. */
  readonly explorer = new ExplorerFeed();
  /** This process's name in claims: unique per start, so a restarted replica never inherits a claim. */
  readonly owner = `replica-${randomBytes(8).toString("hex")}`;
  readonly encoder: BlobEncoder | undefined;
  readonly #kzg: DisperserModules["kzg"];
  readonly #erasure: DisperserModules["erasure"];
  readonly #log: FastifyBaseLogger | undefined;
  /** Posts being encoded or dispersed in this process, by payload hash. */
  readonly #inFlight = new Map<string, Promise<BatchView>>();
  readonly #reading = new Map<string, Promise<Uint8Array>>();
  readonly #sampling = new Map<string, Promise<BatchView>>();
  readonly #cache: PayloadCache;
  #nodes: readonly NodeRecord[];
  readonly #snapshots: SnapshotSource | undefined;
  #started: Promise<void> | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(opts: DisperserOptions, modules: DisperserModules) {
    const bad = (m: string) => new DisperserError("CELLAR_ERR_DISPERSER_CONFIG", m);
    if (!Array.isArray(opts.nodes) || opts.nodes.length === 0)
      throw bad("the disperser needs a node set with at least one node");
    checkDomain(opts.domain);
    const quorum = opts.quorum ?? DEFAULT_QUORUM;
    if (!(quorum > 0 && quorum <= 1)) throw bad("quorum must be a fraction in (0, 1]");
    const maxBatchBytes = opts.maxBatchBytes ?? DISPERSER_DEFAULTS.maxBatchBytes;
    if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < 1 || maxBatchBytes > MAX_BATCH_BYTES) {
      throw bad(`maxBatchBytes must be an integer in 1..${MAX_BATCH_BYTES}`);
    }
    this.opts = {
      replication: opts.replication ?? DEFAULT_REPLICATION,
      quorum,
      maxBatchBytes,
      nodeTimeoutMs: opts.nodeTimeoutMs ?? DISPERSER_DEFAULTS.nodeTimeoutMs,
      nodeAttempts: opts.nodeAttempts ?? 3,
      concurrency: opts.concurrency ?? 8,
      lingerMs: opts.lingerMs ?? 250,
      deadlineMs: opts.deadlineMs ?? DISPERSER_DEFAULTS.deadlineMs,
      retentionMs: opts.retentionMs ?? DISPERSER_DEFAULTS.retentionMs,
      postConcurrency: opts.postConcurrency ?? 2,
      postQueue: opts.postQueue ?? 8,
      maxPerClient: opts.maxPerClient ?? 2,
      cacheBytes: opts.cacheBytes ?? DISPERSER_DEFAULTS.cacheBytes,
      retrieveDeadlineMs: opts.retrieveDeadlineMs ?? 120_000,
      lightNodes: opts.lightNodes ?? [],
      sampleBeforeCommit: opts.sampleBeforeCommit ?? false,
      availabilityTarget: opts.availabilityTarget ?? DEFAULT_TARGET,
      availabilityDeadlineMs: opts.availabilityDeadlineMs ?? DISPERSER_DEFAULTS.availabilityDeadlineMs,
      claimLeaseMs: opts.claimLeaseMs ?? DISPERSER_DEFAULTS.claimLeaseMs,
      claimPollMs: opts.claimPollMs ?? 200,
    };
    if (!(this.opts.claimLeaseMs >= 100 && this.opts.claimPollMs >= 1))
      throw bad("claimLeaseMs must be at least 100 and claimPollMs at least 1");
    if (!(this.opts.availabilityTarget > 0 && this.opts.availabilityTarget < 1))
      throw bad("availabilityTarget must be a confidence in (0, 1)");
    if (this.opts.retentionMs < 0) throw bad("retentionMs must not be negative");
    this.domain = opts.domain;
    this.#nodes = opts.nodes;
    this.#snapshots = opts.snapshots;
    this.#kzg = modules.kzg;
    this.#erasure = modules.erasure;
    this.encoder = modules.encoder;
    this.#log = modules.logger;
    this.metrics = modules.metrics ?? createDisperserMetrics();
    const key = opts.key ?? generateSecretKey(randomBytes(32));
    this.publicKey = key.toPublicKey().toBytes();
    this.client = new NodeClient({
      timeoutMs: this.opts.nodeTimeoutMs,
      attempts: this.opts.nodeAttempts,
      disperserKey: key,
    });
    this.store =
      opts.store ?? (opts.dataDir === undefined ? new MemoryDisperserStore() : new LmdbDisperserStore(opts.dataDir));
    // One client never holds every running slot: the last one stays open to the others.
    this.posts = new WorkQueue({
      name: "post",
      concurrency: this.opts.postConcurrency,
      maxQueued: this.opts.postQueue,
      maxPerClient: this.opts.maxPerClient,
      maxRunningPerClient: Math.max(1, this.opts.postConcurrency - 1),
    });
    this.reads = new WorkQueue({
      name: "read",
      concurrency: 2,
      maxQueued: 16,
      maxPerClient: this.opts.maxPerClient,
      maxRunningPerClient: 1,
    });
    this.#cache = new PayloadCache(this.opts.cacheBytes);
  }

  get nodes(): readonly NodeRecord[] {
    return this.#nodes;
  }

  /** Replaces the node set (reloaded file, or the L1 registry). */
  setNodes(nodes: readonly NodeRecord[]): void {
    if (nodes.length === 0) throw new DisperserError("CELLAR_ERR_DISPERSER_CONFIG", "empty node set");
    this.#nodes = nodes;
  }

  /**
   * Opens the store: batches a process that died left in flight (no live claim) are marked
   * failed, never half-certified, and the same bytes may be posted again; with a shared store this
   * is checked again every half claim lease, since another replica may die at any time. Retention sweeps
   * start. A start that fails (the database unreachable) is tried again by the next caller.
   */
  start(): Promise<void> {
    this.#started ??= (async () => {
      await this.#failAbandoned();
      // The explorer lists what this disperser handled before it started, the newest last.
      for (const record of (await this.store.recent(100)).reverse()) this.#showStored(record);
      // One process alone (LMDB, memory) has nothing to sweep after its start.
      if (this.store.shared) {
        this.#sweepTimer = setInterval(
          () => void this.#failAbandoned().catch((err) => this.#log?.warn({ err }, "in-flight sweep failed")),
          Math.max(50, Math.floor(this.opts.claimLeaseMs / 2)),
        );
        this.#sweepTimer.unref();
      }
      if (this.opts.retentionMs > 0) {
        await this.prune();
        this.#pruneTimer = setInterval(
          () => void this.prune().catch((err) => this.#log?.error({ err }, "retention sweep failed")),
          Math.min(3_600_000, this.opts.retentionMs),
        );
        this.#pruneTimer.unref();
      }
    })();
    this.#started.catch(() => {
      this.#started = undefined;
    });
    return this.#started;
  }

  async #failAbandoned(): Promise<void> {
    const stuck = await this.store.failInFlight({
      code: "CELLAR_ERR_DISPERSER_INTERRUPTED",
      message: "the disperser stopped while this batch was in flight; post it again",
    });
    if (stuck.length > 0) {
      this.#log?.warn({ batches: stuck.map((b) => b.id) }, "batches left in flight marked failed");
      for (const record of stuck) this.#showStored(record);
    }
  }

  /** Forgets batches older than the retention window; returns how many. */
  async prune(now = Date.now()): Promise<number> {
    if (this.opts.retentionMs <= 0) return 0;
    return this.store.prune(now - this.opts.retentionMs);
  }

  /**
   * Encodes, disperses and certifies `payload`; resolves with the certified view (durable) or
   * rejects. `client` (the caller's address) bounds how many posts one caller has in progress.
   */
  async post(payload: Uint8Array, client = ""): Promise<BatchView> {
    await this.start();
    if (payload.length > this.opts.maxBatchBytes) {
      throw new DisperserError(
        "CELLAR_ERR_DISPERSER_TOO_LARGE",
        `batch of ${payload.length} bytes exceeds the limit of ${this.opts.maxBatchBytes}`,
        { size: payload.length },
      );
    }
    const key = toHex(createHash("sha256").update(payload).digest());
    const known = await this.store.byPayload(key);
    if (known?.status === "certified" || known?.status === "available") {
      this.metrics.batches.inc({ result: "repeat" });
      return view(known);
    }
    const running = this.#inFlight.get(key);
    if (running) {
      this.metrics.batches.inc({ result: "repeat" });
      return running;
    }
    const job = this.posts.run(() => this.#claimAndRun(payload, key), client);
    this.#inFlight.set(key, job);
    try {
      return await job;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  /**
   * Claims the payload and does the work, or, while another replica holds the claim, waits for
   * that replica's batch: one batch however many replicas are given the same bytes at once. A
   * claim that lapses (its replica died, or gave up on a failed batch) is taken over.
   */
  async #claimAndRun(payload: Uint8Array, payloadHash: string): Promise<BatchView> {
    for (;;) {
      if (await this.store.claim(payloadHash, this.owner, this.opts.claimLeaseMs)) {
        const renew = setInterval(
          () =>
            void this.store
              .claim(payloadHash, this.owner, this.opts.claimLeaseMs)
              .then((held) => {
                if (!held) this.#log?.warn({ payloadHash }, "claim on a batch in flight was lost");
              })
              .catch((err) => this.#log?.warn({ err: (err as Error).message }, "claim renewal failed")),
          Math.max(30, Math.floor(this.opts.claimLeaseMs / 3)),
        );
        try {
          return await this.#run(payload, payloadHash);
        } finally {
          clearInterval(renew);
          await this.store
            .release(payloadHash, this.owner)
            .catch((err) => this.#log?.warn({ err: (err as Error).message }, "claim release failed"));
        }
      }
      await sleep(this.opts.claimPollMs);
      const known = await this.store.byPayload(payloadHash);
      if (known?.status === "certified" || known?.status === "available") {
        this.metrics.batches.inc({ result: "repeat" });
        return view(known);
      }
    }
  }

  async #run(payload: Uint8Array, payloadHash: string): Promise<BatchView> {
    const stopEncode = this.metrics.encodeSeconds.startTimer();
    const pending = `sha256:${payloadHash.replace(/^0x/, "")}`;
    this.explorer.encoding(pending, payload.length);
    let batch: Awaited<ReturnType<typeof encodeBatch>>;
    const encoder = this.encoder;
    try {
      batch = await encodeBatch(payload, {
        kzg: this.#kzg,
        concurrency: availableParallelism(),
        ...(encoder
          ? { encodeBlobs: (blobs: readonly Uint8Array[]) => encoder.encodeBlobs(blobs, payloadHash, this.owner) }
          : {}),
      });
      // [§12] Never certify data that would not decode: the frame must agree with the manifest.
      checkFrameStart(batch.manifest, batch.blobs[0]?.cells[0] ?? new Uint8Array());
    } catch (err) {
      // Nothing was dispersed: the explorer forgets the attempt.
      this.explorer.forget(pending);
      throw err;
    } finally {
      stopEncode();
    }
    const manifest = batch.manifest;
    const now = Date.now();
    let record: BatchRecord = {
      root: toHex(manifest.root),
      id: manifest.id,
      payloadHash,
      size: payload.length,
      status: "dispersing",
      manifest: manifestToJson(manifest),
      createdAt: now,
      updatedAt: now,
    };
    await this.store.put(record);
    this.explorer.update(
      manifest.root,
      { status: "dispersing", size: payload.length, blobs: batch.blobs.length },
      pending,
    );
    const log = this.#log?.child({ batch: manifest.id });
    log?.info({ size: payload.length, blobs: batch.blobs.length }, "encoded");
    this.metrics.bytes.inc(payload.length);
    try {
      const { reference, nodes } = await this.#snapshot();
      const dispersed = await disperse(batch, {
        nodes,
        reference,
        replication: this.opts.replication,
        domain: this.domain,
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
      const certificate = certificateToJson(dispersed.certificate);
      record = { ...record, status: "certified", certificate, updatedAt: Date.now() };
      // Durable before it is acknowledged: a certificate the rollup was given survives a crash.
      // Another replica may have certified the same bytes first: then its certificate is the one.
      await this.store.put(record);
      record = (await this.store.get(record.root)) ?? record;
      this.#cache.set(record.root, payload);
      this.metrics.certificates.inc();
      this.metrics.batches.inc({ result: "certified" });
      const stored = record.certificate ?? certificate;
      log?.info({ signers: stored.signers }, "certified");
      this.explorer.update(manifest.root, { status: "certified", certified: { signers: stored.signers } });
      this.#notifyLightNodes(manifest.id, stored, log);
      return view(record);
    } catch (err) {
      const error =
        err instanceof DisperserError ? err : new DisperserError("CELLAR_ERR_DISPERSER_NO_QUORUM", String(err));
      record = {
        ...record,
        status: "failed",
        error: { code: error.code, message: error.message },
        updatedAt: Date.now(),
      };
      await this.store.put(record);
      this.metrics.batches.inc({ result: "failed" });
      log?.warn({ err: error.message }, "not certified");
      this.explorer.update(manifest.root, { status: "failed", error: error.message });
      throw error;
    }
  }

  /** The reference block and node set a new batch is dispersed under. */
  async #snapshot(): Promise<{ reference: bigint; nodes: readonly NodeRecord[] }> {
    const source = this.#snapshots;
    if (!source) return { reference: 0n, nodes: this.#nodes };
    const reference = await source.latest();
    return { reference, nodes: await source.nodesAt(reference) };
  }

  /** A stored batch, as the explorer shows it. */
  #showStored(record: BatchRecord): void {
    this.explorer.update(fromHex(record.root, 32, "root"), {
      status: record.status,
      size: record.size,
      blobs: record.manifest.blobs.length,
      ...(record.certificate ? { certified: { signers: record.certificate.signers } } : {}),
      ...(record.error ? { error: record.error.message } : {}),
    });
  }

  /** Tells the light nodes about a certified batch; a light node that fails is logged, not retried. */
  #notifyLightNodes(id: string, certificate: BatchRecord["certificate"], log: FastifyBaseLogger | undefined): void {
    const body = new TextEncoder().encode(JSON.stringify({ certificate }));
    for (const url of this.opts.lightNodes) {
      this.client.http
        .send("PUT", `${url.replace(/\/+$/, "")}/v1/batches/${id}`, {
          body,
          contentType: "application/json",
          maxResponseBytes: 64 * 1024,
        })
        .then((res) => {
          if (res.status !== 200) log?.warn({ light: url, status: res.status }, "light node refused the batch");
        })
        .catch((err: unknown) => log?.warn({ light: url, err: (err as Error).message }, "light node unreachable"));
    }
  }

  /**
   * Resolves once a light client the disperser does not control (a configured light node, else
   * the disperser's own sampler, said plainly) has sampled the certified batch to the target
   * confidence; the batch is then `available`, durably, with who vouched and when. Past the
   * deadline: 503 CELLAR_ERR_DISPERSER_NOT_AVAILABLE, and the batch stays `certified`.
   */
  async available(root: Uint8Array): Promise<BatchView> {
    const key = toHex(root);
    const record = await this.store.get(key);
    if (!record)
      throw new DisperserError("CELLAR_ERR_DISPERSER_NOT_FOUND", `batch ${key} is not known to this disperser`);
    if (record.status === "available") return view(record);
    if (record.status !== "certified") {
      throw new DisperserError(
        "CELLAR_ERR_DISPERSER_NOT_AVAILABLE",
        `batch ${key} is ${record.status}, not certified`,
        {
          status: record.status,
        },
      );
    }
    let job = this.#sampling.get(key);
    if (!job) {
      job = this.#vouch(record).finally(() => this.#sampling.delete(key));
      this.#sampling.set(key, job);
    }
    return job;
  }

  async #vouch(record: BatchRecord): Promise<BatchView> {
    const stop = this.metrics.availabilitySeconds.startTimer();
    const availability = await awaitAvailability(record, {
      target: this.opts.availabilityTarget,
      deadlineMs: this.opts.availabilityDeadlineMs,
      lightNodes: this.opts.lightNodes,
      http: this.client.http,
      client: this.client,
      nodes: this.#nodes,
      replication: this.opts.replication,
      kzg: this.#kzg,
      manifest: parseManifest(record.manifest, fromHex(record.root, 32, "root")),
    });
    stop();
    if (!availability) {
      this.metrics.availability.inc({ result: "timeout" });
      throw new DisperserError(
        "CELLAR_ERR_DISPERSER_NOT_AVAILABLE",
        `batch ${record.id} did not reach confidence ${this.opts.availabilityTarget} within ${this.opts.availabilityDeadlineMs} ms`,
        { retryAfterSeconds: 5 },
      );
    }
    const latest = (await this.store.get(record.root)) ?? record;
    const updated: BatchRecord = { ...latest, status: "available", availability, updatedAt: Date.now() };
    await this.store.put(updated);
    this.metrics.availability.inc({ result: availability.independent ? "light-node" : "own-sampler" });
    this.#log?.info({ batch: record.id, ...availability }, "available");
    return view(updated);
  }

  /** The status of a batch this disperser has handled (from the durable store). */
  async status(root: Uint8Array): Promise<BatchView> {
    await this.start();
    const record = await this.store.get(toHex(root));
    if (!record)
      throw new DisperserError("CELLAR_ERR_DISPERSER_NOT_FOUND", `batch ${toHex(root)} is not known to this disperser`);
    return view(record);
  }

  /** The newest batches, newest first. */
  async recent(limit = 50): Promise<BatchView[]> {
    return (await this.store.recent(Math.max(1, Math.min(limit, 500)))).map(view);
  }

  /**
   * A batch's bytes: from the cache of recent batches, or rebuilt from the storage nodes with
   * every cell verified (one retrieval per batch at a time, however many readers ask).
   */
  async data(root: Uint8Array, client = ""): Promise<Uint8Array> {
    const key = toHex(root);
    const cached = this.#cache.get(key);
    if (cached) {
      this.metrics.retrievals.inc({ result: "cached" });
      return cached;
    }
    const running = this.#reading.get(key);
    if (running) return running;
    const job = this.reads.run(() => this.#retrieve(root), client);
    this.#reading.set(key, job);
    try {
      return await job;
    } finally {
      this.#reading.delete(key);
    }
  }

  async #retrieve(root: Uint8Array): Promise<Uint8Array> {
    const record = await this.store.get(toHex(root));
    const known = record?.manifest;
    // Custody is the batch's own snapshot's (§10), whatever joined or left since.
    const reference = record?.certificate ? BigInt(record.certificate.reference) : undefined;
    const nodes = reference !== undefined && this.#snapshots ? await this.#snapshots.nodesAt(reference) : this.#nodes;
    const options: RetrieveOptions = {
      nodes,
      // [§10.1] Stand-ins for custodians that left since the batch's snapshot.
      current: this.#nodes,
      replication: this.opts.replication,
      client: this.client,
      kzg: this.#kzg,
      erasure: this.#erasure,
      deadlineMs: this.opts.retrieveDeadlineMs,
      ...(known ? { manifest: parseManifest(known, root) } : {}),
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
      this.#cache.set(toHex(root), payload);
      return payload;
    } catch (err) {
      this.metrics.retrievals.inc({ result: "failed" });
      if (err instanceof ClientError && err.code === "CELLAR_ERR_CLIENT_UNAVAILABLE") {
        throw new DisperserError("CELLAR_ERR_DISPERSER_UNAVAILABLE", err.message, err.context, { cause: err });
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    await this.client.close();
    await this.store.close();
  }
}

function view(record: BatchRecord): BatchView {
  return {
    id: record.id,
    root: record.root,
    size: record.size,
    status: record.status,
    blobs: record.manifest.blobs,
    ...(record.certificate ? { certificate: record.certificate } : {}),
    ...(record.error ? { error: record.error } : {}),
    ...(record.availability ? { availability: record.availability } : {}),
    createdAt: new Date(record.createdAt).toISOString(),
  };
}
