import { setTimeout as sleep } from "node:timers/promises";
import { NodeClient } from "@cellar/client";
import { rootFromBatchId } from "@cellar/codec";
import { ExplorerFeed, registerExplorer } from "@cellar/explorer";
import type { Kzg } from "@cellar/kzg";
import {
  type AttestationDomain,
  DEFAULT_REPLICATION,
  type Feed,
  holdersTable,
  type NodeRecord,
  parseCertificate,
  type SnapshotSource,
} from "@cellar/protocol";
import { createService, DEFAULT_LIMITS, type ServiceLimits, WorkQueue } from "@cellar/service";
import { bytesEqual, toHex } from "@cellar/utils";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { DEFAULT_TARGET, samplesFor } from "./confidence.js";
import { LIGHT_STATUS, LightError } from "./errors.js";
import { type SampleResult, sampleBatch, trustCertificate } from "./sampler.js";

/** A light node's defaults, where an option is not given (the CLI's flags show the same). */
export const LIGHT_DEFAULTS = { port: 7200, intervalMs: 60_000, roundDeadlineMs: 60_000 } as const;

/** A batch the L1 inbox recorded, as a light node follows them. */
export interface RecordedBatch {
  readonly root: Uint8Array;
  readonly reference: bigint;
  readonly txHash: string;
  readonly blockNumber: bigint;
}

export interface LightNodeOptions {
  /** Where `start()` listens (default 127.0.0.1, any free port). */
  readonly host?: string;
  readonly port?: number;
  /** Followed from `start()` to `stop()`: the node set (later rounds use each new one). */
  readonly nodeFeed?: Feed<readonly NodeRecord[]>;
  /**
   * Followed from `start()` to `stop()`: the batches the L1 inbox records, its trusted roots. Each
   * is sampled (custody from the snapshot at the reference it recorded) and shown settled.
   */
  readonly inboxFeed?: Feed<RecordedBatch>;
  readonly nodes: readonly NodeRecord[];
  /**
   * Registry snapshots: a batch's certificate is judged, and its custody computed, against the
   * node set at the certificate's reference block (§10, §18). Without them, the node set `nodes`.
   */
  readonly snapshots?: SnapshotSource;
  readonly domain: AttestationDomain;
  readonly replication?: number;
  readonly target?: number;
  /** Pause between sampling rounds of a tracked batch. Default 60 s. */
  readonly intervalMs?: number;
  /** How long a batch keeps being sampled after it was registered. Default 1 h. */
  readonly windowMs?: number;
  /** Per-request timeout towards storage nodes. Default 5 s. */
  readonly nodeTimeoutMs?: number;
  /** Require a valid certificate to register a batch. Default true. */
  readonly requireCertificate?: boolean;
  /** Total time of one sampling round. Default 60 s. */
  readonly roundDeadlineMs?: number;
  /** Batches tracked at once; a registration beyond it is refused (429). Default 10,000. */
  readonly maxTracked?: number;
  /** Sampling rounds running at once. Default 2. */
  readonly roundConcurrency?: number;
  /** HTTP limits (timeouts, connections, body, rate); defaults in `DEFAULT_LIMITS`. */
  readonly limits?: Partial<ServiceLimits>;
}

export interface LightNodeModules {
  readonly kzg: Pick<Kzg, "verifyCellProofBatchAsync">;
  readonly logger?: FastifyBaseLogger;
}

type Status = "sampling" | "available" | "unavailable";

interface Tracked {
  readonly root: Uint8Array;
  /** The reference block of the batch's certificate, when known. */
  readonly reference?: bigint;
  readonly registeredAt: number;
  status: Status;
  rounds: number;
  last?: SampleResult & { checkedAt: string };
  /** The certificate (as JSON) the batch was first registered with, once one was verified. */
  certificate?: string;
  /** When the round in progress started (ms since the epoch), if one is. */
  roundStartedAt?: number;
  settled?: SettledOnL1;
}

/** Where the L1 inbox recorded a batch. */
export interface SettledOnL1 {
  readonly txHash: string;
  readonly blockNumber: number;
}

/**
 * A long-lived light node: batches are registered with it (by the disperser after certifying, or
 * by anyone holding a valid certificate), and it samples each right away and then every interval
 * for a while, serving the latest verdict at `GET /v1/batches/:id/availability`.
 */
export class LightNode {
  readonly app: FastifyInstance;
  readonly registry = new Registry();
  /** What the explorer page shows: every batch tracked, each round and column as it lands. */
  readonly explorer = new ExplorerFeed();
  readonly #opts: LightNodeOptions;
  #nodes: readonly NodeRecord[];
  readonly #kzg: LightNodeModules["kzg"];
  readonly #client: NodeClient;
  readonly #batches = new Map<string, Tracked>();
  readonly #loops = new AbortController();
  readonly #unfollow: (() => void)[] = [];
  readonly #tasks = new Set<Promise<void>>();
  readonly #rounds: Counter<"verdict">;
  readonly #strikes: Counter<"reason">;
  readonly #seconds: Histogram;
  readonly #queue: WorkQueue;

  constructor(opts: LightNodeOptions, modules: LightNodeModules) {
    samplesFor(opts.target ?? DEFAULT_TARGET);
    if (opts.nodes.length === 0) throw new LightError("CELLAR_ERR_LIGHT_BAD_REQUEST", "a light node needs a node set");
    this.#opts = opts;
    this.#nodes = opts.nodes;
    this.#kzg = modules.kzg;
    this.#client = new NodeClient({ timeoutMs: opts.nodeTimeoutMs ?? 5000, attempts: 1 });
    collectDefaultMetrics({ register: this.registry, prefix: "cellar_light_" });
    const r = [this.registry];
    this.#rounds = new Counter({
      name: "cellar_light_rounds_total",
      help: "Sampling rounds, by verdict",
      labelNames: ["verdict"],
      registers: r,
    });
    this.#strikes = new Counter({
      name: "cellar_light_strikes_total",
      help: "Bad answers from storage nodes, by reason",
      labelNames: ["reason"],
      registers: r,
    });
    this.#seconds = new Histogram({
      name: "cellar_light_round_seconds",
      help: "Time of one sampling round",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    });
    const batches = this.#batches;
    const tracked: Gauge = new Gauge({
      name: "cellar_light_batches",
      help: "Batches tracked",
      registers: r,
      collect(): void {
        tracked.set(batches.size);
      },
    });
    this.#queue = new WorkQueue({
      name: "sample",
      concurrency: opts.roundConcurrency ?? 2,
      maxQueued: opts.maxTracked ?? 10_000,
    });
    this.app = createService(
      {
        area: "LIGHT",
        status: LIGHT_STATUS,
        defaults: { ...DEFAULT_LIMITS, bodyLimit: 64 * 1024 },
        ...(opts.limits ? { limits: opts.limits } : {}),
        metrics: this.registry,
        corsReads: true,
        health: () => ({ batches: this.#batches.size }),
        ready: { nodeSet: () => (this.#nodes.length > 0 ? true : "no node set") },
        ...(modules.logger ? { logger: modules.logger } : {}),
      },
      (app) => this.#routes(app),
    );
  }

  #routes(app: FastifyInstance): void {
    app.put<{ Params: { id: string }; Body: { certificate?: unknown } | undefined }>(
      "/v1/batches/:id",
      async (request) => {
        const root = this.#root(request.params.id);
        const certificate = request.body?.certificate;
        if (certificate !== undefined) {
          // Cheap before expensive: the very certificate this batch was registered with is not
          // verified again (a pairing each time), so repeats cost a lookup.
          const tracked = this.#batches.get(toHex(root));
          const key = JSON.stringify(certificate);
          if (tracked !== undefined && tracked.certificate === key) return this.#view(tracked);
          const parsed = parseCertificate(certificate);
          const trusted = trustCertificate(parsed, await this.#nodesAt(parsed.reference), this.#opts.domain, {
            replication: this.#opts.replication ?? DEFAULT_REPLICATION,
          });
          if (!bytesEqual(trusted, root))
            throw new LightError("CELLAR_ERR_LIGHT_UNTRUSTED_ROOT", "the certificate is for another root");
          const registered = this.track(root, parsed.reference);
          registered.certificate ??= key;
          return this.#view(registered);
        } else if (this.#opts.requireCertificate ?? true) {
          throw new LightError(
            "CELLAR_ERR_LIGHT_UNTRUSTED_ROOT",
            "registering a batch needs its certificate ({certificate})",
          );
        }
        return this.#view(this.track(root));
      },
    );
    app.get<{ Params: { id: string } }>("/v1/batches/:id/availability", async (request) => {
      const tracked = this.#batches.get(toHex(this.#root(request.params.id)));
      if (!tracked) throw new LightError("CELLAR_ERR_LIGHT_NOT_FOUND", "this light node does not track that batch");
      return this.#view(tracked);
    });
    // [§10.1] A tracked batch's holders now: its snapshot's custodians, then the stand-ins for
    // those that left the registry (the function every reader uses).
    app.get<{ Params: { id: string } }>("/v1/batches/:id/holders", async (request) => {
      const tracked = this.#batches.get(toHex(this.#root(request.params.id)));
      if (!tracked) throw new LightError("CELLAR_ERR_LIGHT_NOT_FOUND", "this light node does not track that batch");
      const replication = this.#opts.replication ?? DEFAULT_REPLICATION;
      const holders = holdersTable({
        snapshot: await this.#nodesAt(tracked.reference),
        current: this.#nodes,
        replication,
      });
      return {
        root: toHex(tracked.root),
        reference: (tracked.reference ?? 0n).toString(),
        replication,
        columns: holders.map((h) => ({
          column: h.column,
          originals: h.originals.map((n) => n.index),
          standIns: h.standIns.map((n) => n.index),
          gone: h.gone,
        })),
      };
    });
    registerExplorer(app, {
      source: "light",
      feed: this.explorer,
      nodes: () => this.#nodes,
      replication: this.#opts.replication ?? DEFAULT_REPLICATION,
      target: this.#opts.target ?? DEFAULT_TARGET,
    });
  }

  #root(id: string): Uint8Array {
    try {
      return rootFromBatchId(id);
    } catch (err) {
      throw new LightError(
        "CELLAR_ERR_LIGHT_BAD_REQUEST",
        `${JSON.stringify(id)} is not a batch id or root`,
        {},
        { cause: err },
      );
    }
  }

  /**
   * A verdict as served: when it was computed, and `stale` once it is older than two intervals or
   * a round has been running longer than its deadline allows (the verdict is then not current).
   */
  #view(t: Tracked) {
    const last = t.last;
    const now = Date.now();
    const interval = this.#opts.intervalMs ?? LIGHT_DEFAULTS.intervalMs;
    const checked = last ? Date.parse(last.checkedAt) : undefined;
    const stuck =
      t.roundStartedAt !== undefined &&
      now - t.roundStartedAt > (this.#opts.roundDeadlineMs ?? LIGHT_DEFAULTS.roundDeadlineMs);
    const old =
      checked !== undefined &&
      now - checked > 2 * interval &&
      now < t.registeredAt + (this.#opts.windowMs ?? 3_600_000);
    return {
      stale: stuck || old,
      roundInProgress: t.roundStartedAt !== undefined,
      root: toHex(t.root),
      status: t.status,
      rounds: t.rounds,
      confidence: last?.confidence ?? 0,
      samples: last?.samples ?? 0,
      verified: last?.verified ?? 0,
      failed: last?.failed ?? [],
      checkedAt: last?.checkedAt ?? null,
      ...(t.settled ? { settled: t.settled } : {}),
    };
  }

  /** The node set of the snapshot at `reference` (the static set without snapshots or reference). */
  async #nodesAt(reference: bigint | undefined): Promise<readonly NodeRecord[]> {
    const source = this.#opts.snapshots;
    if (!source || reference === undefined) return this.#nodes;
    try {
      return await source.nodesAt(reference);
    } catch (err) {
      throw new LightError(
        "CELLAR_ERR_LIGHT_UNTRUSTED_ROOT",
        `no registry snapshot at reference block ${reference}`,
        {},
        { cause: err },
      );
    }
  }

  /** Replaces the node set (read again from a file or the L1 registry); later rounds use it. */
  setNodes(nodes: readonly NodeRecord[]): void {
    if (nodes.length === 0) throw new LightError("CELLAR_ERR_LIGHT_BAD_REQUEST", "a light node needs a node set");
    this.#nodes = nodes;
  }

  get nodes(): readonly NodeRecord[] {
    return this.#nodes;
  }

  /**
   * Starts tracking a trusted root (idempotent); the first round starts at once. `reference`: its
   * certificate's reference block, whose snapshot gives the batch's custody.
   */
  track(root: Uint8Array, reference?: bigint): Tracked {
    const key = toHex(root);
    const existing = this.#batches.get(key);
    if (existing) return existing;
    this.#forgetExpired();
    if (this.#batches.size >= (this.#opts.maxTracked ?? 10_000)) {
      throw new LightError(
        "CELLAR_ERR_LIGHT_TOO_MANY",
        `this light node tracks ${this.#batches.size} batches already, the most it keeps`,
        { retryAfterSeconds: 60 },
      );
    }
    const tracked: Tracked = {
      root,
      registeredAt: Date.now(),
      status: "sampling",
      rounds: 0,
      ...(reference !== undefined ? { reference } : {}),
    };
    this.#batches.set(key, tracked);
    this.explorer.update(root, { status: "sampling" });
    const task = this.#loop(tracked).finally(() => this.#tasks.delete(task));
    this.#tasks.add(task);
    return tracked;
  }

  /** Starts tracking a root the L1 inbox recorded, and remembers where (shown by the explorer). */
  markSettled(root: Uint8Array, settled: SettledOnL1, reference?: bigint): void {
    const tracked = this.track(root, reference);
    tracked.settled = settled;
    this.explorer.update(root, { status: "settled", settled });
  }

  /** Batches whose sampling window ended long ago (a window past it) are forgotten. */
  #forgetExpired(now = Date.now()): void {
    const window = this.#opts.windowMs ?? 3_600_000;
    for (const [key, t] of this.#batches) if (now > t.registeredAt + 2 * window) this.#batches.delete(key);
  }

  /** One round now, for tests and for `track`'s loop (at most `roundConcurrency` at once). */
  round(tracked: Tracked): Promise<SampleResult> {
    return this.#queue.run(() => this.#round(tracked));
  }

  async #round(tracked: Tracked): Promise<SampleResult> {
    const stop = this.#seconds.startTimer();
    const round = tracked.rounds + 1;
    let result: SampleResult;
    tracked.roundStartedAt = Date.now();
    try {
      result = await sampleBatch(tracked.root, {
        deadlineMs: this.#opts.roundDeadlineMs ?? LIGHT_DEFAULTS.roundDeadlineMs,
        signal: this.#loops.signal,
        nodes: await this.#nodesAt(tracked.reference),
        // [§10.1] Stand-ins for custodians that left since the batch's snapshot.
        current: this.#nodes,
        replication: this.#opts.replication ?? DEFAULT_REPLICATION,
        client: this.#client,
        kzg: this.#kzg,
        target: this.#opts.target ?? DEFAULT_TARGET,
        onColumn: (outcome) => this.explorer.column(tracked.root, round, outcome),
      });
    } catch (err) {
      // No manifest anywhere: as good as unavailable.
      result = {
        root: toHex(tracked.root),
        available: false,
        confidence: 0,
        target: this.#opts.target ?? DEFAULT_TARGET,
        samples: 0,
        verified: 0,
        columns: [],
        blobs: 0,
        failed: [],
        strikes: [],
        asked: {},
      };
      this.app.log.warn({ err, batch: toHex(tracked.root) }, "sampling round failed");
    }
    stop();
    delete tracked.roundStartedAt;
    tracked.rounds++;
    tracked.last = { ...result, checkedAt: new Date().toISOString() };
    tracked.status = result.available ? "available" : "unavailable";
    this.#rounds.inc({ verdict: tracked.status });
    for (const s of result.strikes) this.#strikes.inc({ reason: s.reason });
    this.#explain(tracked, round, result);
    return result;
  }

  /** The round's verdict for the explorer, with each sampled column's outcome. */
  #explain(tracked: Tracked, round: number, result: SampleResult): void {
    const failed = new Set(result.failed);
    const lied = new Set(result.strikes.filter((s) => s.reason === "invalid-cells").map((s) => s.column));
    this.explorer.sampled(
      tracked.root,
      tracked.status as "available" | "unavailable",
      {
        round,
        confidence: result.confidence,
        target: result.target,
        samples: result.samples,
        verified: result.verified,
        failed: result.failed,
        checkedAt: tracked.last?.checkedAt ?? null,
        columns: result.columns.map((column) => ({
          column,
          state: !failed.has(column) ? "verified" : lied.has(column) ? "failed" : "missing",
        })),
      },
      result.blobs > 0 ? result.blobs : undefined,
    );
  }

  async #loop(tracked: Tracked): Promise<void> {
    const signal = this.#loops.signal;
    const until = tracked.registeredAt + (this.#opts.windowMs ?? 3_600_000);
    while (!signal.aborted && Date.now() < until) {
      await this.round(tracked);
      try {
        await sleep(this.#opts.intervalMs ?? LIGHT_DEFAULTS.intervalMs, undefined, { signal });
      } catch {
        return;
      }
    }
  }

  /** Listens where the options say (`host`, `port`); resolves to the URL. */
  async start(): Promise<string> {
    const url = await this.listen(this.#opts.host, this.#opts.port);
    const log = this.app.log;
    const { nodeFeed, inboxFeed } = this.#opts;
    if (nodeFeed)
      this.#unfollow.push(
        nodeFeed.follow(
          (nodes) => this.setNodes(nodes),
          (err) => log.error({ err }, "following the node set failed; keeping the old one"),
        ),
      );
    if (inboxFeed)
      this.#unfollow.push(
        inboxFeed.follow(
          (batch) => {
            log.info({ root: toHex(batch.root), block: Number(batch.blockNumber) }, "batch recorded on L1");
            this.markSettled(
              batch.root,
              { txHash: batch.txHash, blockNumber: Number(batch.blockNumber) },
              batch.reference,
            );
          },
          (err) => log.error({ err }, "following the L1 inbox failed; retrying"),
        ),
      );
    return url;
  }

  async listen(host = this.#opts.host ?? "127.0.0.1", port = this.#opts.port ?? 0): Promise<string> {
    return this.app.listen({ host, port });
  }

  async stop(): Promise<void> {
    for (const stop of this.#unfollow.splice(0)) stop();
    this.#loops.abort();
    await this.app.close();
    await Promise.allSettled(this.#tasks);
    await this.#client.close();
  }
}
