import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { NodeClient } from "@cellar/client";
import type { Kzg } from "@cellar/kzg";
import { type Erasure, sharedErasure } from "@cellar/native";
import { MAX_BLOBS_PER_BATCH } from "@cellar/params";
import {
  type AttestationDomain,
  buildNodeSet,
  checkDomain,
  custodyColumns,
  DEFAULT_REPLICATION,
  type Feed,
  type NodeRecord,
  type SnapshotSource,
} from "@cellar/protocol";
import { type ReadyCheck, type ServiceLimits, WorkQueue } from "@cellar/service";
import { bytesEqual } from "@cellar/utils";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { DispersalGuard } from "./dispersal-guard.js";
import { NodeError } from "./errors.js";
import { loadIdentity, type NodeIdentity } from "./identity.js";
import { createNodeMetrics, type NodeMetrics } from "./metrics.js";
import { Repairer, type RepairPass } from "./repair.js";
import { type ScrubResult, scrubOnce } from "./scrub.js";
import { buildNodeApp } from "./server.js";
import { CellStore } from "./store.js";

export interface StorageNodeOptions {
  /** Data directory: the key (unless `keyFile`) and the LMDB store live here. */
  readonly dataDir: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** A key file to use instead of `DIR/node.key`. */
  readonly keyFile?: string;
  /** The registered node set; default: this node alone (it then keeps every column). */
  readonly nodes?: readonly NodeRecord[];
  readonly replication?: number;
  /**
   * Registry snapshots (the L1 registry's checkpoints). With them the node attests only under a
   * reference block at most `referenceWindow` blocks old in which it was active, and computes its
   * custody from that snapshot; without them every reference gets the node set `nodes`.
   */
  readonly snapshots?: SnapshotSource;
  /** How old a reference block the node still signs for (default 7,200, the inbox's default window). */
  readonly referenceWindow?: number;
  /** Chain and inbox that attestations are bound to. */
  readonly domain: AttestationDomain;
  /** Largest batch accepted, in blobs. */
  readonly maxBlobs?: number;
  /** Batches older than this are pruned; 0 keeps everything. Default 14 days. */
  readonly retentionMs?: number;
  readonly scrubCellsPerSecond?: number;
  /** Pause between background scrub passes. */
  readonly scrubIntervalMs?: number;
  /** Pause between retention sweeps. */
  readonly pruneIntervalMs?: number;
  /**
   * BLS public keys of the dispersers whose dispersals this node accepts (a flag, or the L1
   * registry's dispersers through `setDispersers`). None: every dispersal is refused.
   */
  readonly dispersers?: readonly Uint8Array[];
  /** Bytes one disperser may keep on this node at once. Default 16 GiB. */
  readonly disperserQuotaBytes?: number;
  /** Dispersals verified at once, and how many more may wait. Default 2 and 8. */
  readonly verifyConcurrency?: number;
  readonly verifyQueue?: number;
  /** HTTP limits (timeouts, connections, body, rate); defaults in `NODE_LIMITS`. */
  readonly limits?: Partial<ServiceLimits>;
  /**
   * Pause between background repair passes (PROTOCOL.md §14.1); 0 or absent: no repair loop (a
   * pass can still be run with `repair()`).
   */
  readonly repairIntervalMs?: number;
  /** Cells repair fetches or rebuilds per second at most. Default 2,000. */
  readonly repairCellsPerSecond?: number;
  /** How long a registered custodian may fail every request before it counts as gone. Default 60 s. */
  readonly repairGraceMs?: number;
  /** Deadline of each request repair sends to a peer. Default 5 s. */
  readonly repairTimeoutMs?: number;
  /** Readiness checks beyond the node's own (store, node set): L1 reachable, for one. */
  readonly readyChecks?: Readonly<Record<string, ReadyCheck>>;
  /** Followed from `start()` to `stop()`: the node set (custody is recomputed on each change). */
  readonly nodeFeed?: Feed<readonly NodeRecord[]>;
  /** Followed from `start()` to `stop()`: the dispersers whose dispersals are accepted. */
  readonly disperserFeed?: Feed<readonly Uint8Array[]>;
}

export interface StorageNodeModules {
  /** Verification always; repair also recomputes proofs of rebuilt cells (`computeCellsAndProofsAsync`). */
  readonly kzg: Pick<Kzg, "verifyCellProofBatchAsync"> & Partial<Pick<Kzg, "computeCellsAndProofsAsync">>;
  /** Data recovery for repair's rebuilds; default the shared native erasure. */
  readonly erasure?: Pick<Erasure, "recoverBlobsAsync">;
  /** A pino logger for structured request and lifecycle logs; none when absent. */
  readonly logger?: FastifyBaseLogger;
}

function checkOptions(opts: StorageNodeOptions): void {
  const bad = (message: string) => new NodeError("CELLAR_ERR_NODE_CONFIG", message);
  if (typeof opts.dataDir !== "string" || opts.dataDir === "") throw bad("dataDir is required");
  checkDomain(opts.domain);
  const maxBlobs = opts.maxBlobs ?? NODE_DEFAULTS.maxBlobs;
  if (!Number.isInteger(maxBlobs) || maxBlobs < 1 || maxBlobs > MAX_BLOBS_PER_BATCH) {
    throw bad(`maxBlobs must be an integer in 1..${MAX_BLOBS_PER_BATCH}`);
  }
  const replication = opts.replication ?? DEFAULT_REPLICATION;
  if (!Number.isInteger(replication) || replication < 1) throw bad("replication must be a positive integer");
  if ((opts.scrubCellsPerSecond ?? 1) <= 0) throw bad("scrubCellsPerSecond must be positive");
  if ((opts.retentionMs ?? 0) < 0) throw bad("retentionMs must not be negative");
  if ((opts.repairIntervalMs ?? 0) < 0) throw bad("repairIntervalMs must not be negative");
  if ((opts.repairCellsPerSecond ?? 1) <= 0) throw bad("repairCellsPerSecond must be positive");
  if ((opts.repairGraceMs ?? 0) < 0) throw bad("repairGraceMs must not be negative");
  const quota = opts.disperserQuotaBytes ?? DEFAULT_QUOTA_BYTES;
  if (!Number.isSafeInteger(quota) || quota < 1) throw bad("disperserQuotaBytes must be a positive integer");
  for (const key of opts.dispersers ?? []) {
    if (!(key instanceof Uint8Array) || key.length !== 48) throw bad("a disperser key is 48 bytes");
  }
}

/** Default bytes one disperser may keep on a node. */
export const DEFAULT_QUOTA_BYTES = 16 * 1024 ** 3;

/** A storage node's defaults, where an option is not given (the CLI's flags show the same). */
export const NODE_DEFAULTS = {
  port: 7100,
  maxBlobs: 256,
  retentionMs: 14 * 86_400_000,
  scrubCellsPerSecond: 2000,
  scrubIntervalMs: 60_000,
  /** The library runs no repair loop unless asked; the CLI's default is a pass every 30 s. */
  repairIntervalMs: 30_000,
  repairCellsPerSecond: 2000,
  repairGraceMs: 60_000,
  disperserQuotaBytes: DEFAULT_QUOTA_BYTES,
} as const;

/**
 * A storage node: identity, LMDB store, HTTP API, background scrub and retention. `start()` opens
 * everything and listens; `stop()` closes the server, stops the loops and closes the store.
 */
export class StorageNode {
  readonly #opts: StorageNodeOptions;
  readonly #modules: StorageNodeModules;
  #identity: NodeIdentity | undefined;
  #store: CellStore | undefined;
  #app: FastifyInstance | undefined;
  #metrics: NodeMetrics | undefined;
  #nodes: readonly NodeRecord[] = [];
  #custody: ReadonlySet<number> = new Set();
  readonly #snapshotCustody = new Map<bigint, ReadonlySet<number>>();
  #loops: AbortController | undefined;
  readonly #unfollow: (() => void)[] = [];
  #tasks: Promise<void>[] = [];
  #url = "";
  #guard: DispersalGuard | undefined;
  #dispersers: readonly Uint8Array[];
  lastScrub: ScrubResult | undefined;
  lastRepair: RepairPass | undefined;
  #repairer: Repairer | undefined;
  #client: NodeClient | undefined;

  constructor(opts: StorageNodeOptions, modules: StorageNodeModules) {
    checkOptions(opts);
    this.#opts = opts;
    this.#modules = modules;
    this.#dispersers = opts.dispersers ?? [];
  }

  /** How many disperser keys this node accepts dispersals from. */
  get dispersers(): number {
    return this.#dispersers.length;
  }

  /** Replaces the authorised disperser keys (from a flag or the L1 registry). */
  setDispersers(keys: readonly Uint8Array[]): void {
    this.#dispersers = keys;
    this.#guard?.setDispersers(keys);
  }

  get identity(): NodeIdentity {
    if (!this.#identity) throw new NodeError("CELLAR_ERR_NODE_CONFIG", "the node has not started");
    return this.#identity;
  }

  /** The base URL the node listens on, once started. */
  get url(): string {
    return this.#url;
  }

  get store(): CellStore {
    if (!this.#store) throw new NodeError("CELLAR_ERR_NODE_CONFIG", "the node has not started");
    return this.#store;
  }

  get custody(): ReadonlySet<number> {
    return this.#custody;
  }

  /** The node set custody is computed from. */
  get nodes(): readonly NodeRecord[] {
    return this.#nodes;
  }

  /** Replaces the node set (from a reloaded file or the L1 registry) and recomputes custody. */
  setNodes(nodes: readonly NodeRecord[]): void {
    const self = this.identity;
    if (!nodes.some((n) => bytesEqual(n.publicKey, self.publicKey))) {
      throw new NodeError("CELLAR_ERR_NODE_CONFIG", "this node's public key is not in the node set", {});
    }
    this.#nodes = nodes;
    this.#custody = new Set(custodyColumns(nodes, self.nodeId, this.#opts.replication ?? DEFAULT_REPLICATION));
  }

  /**
   * The columns this node keeps under the snapshot of `reference` (PROTOCOL.md §13): refused
   * (CELLAR_ERR_NODE_STALE_REFERENCE) when the reference is in the future or older than the
   * window, and (CELLAR_ERR_NODE_NOT_CUSTODIAN) when this node was not active at it.
   */
  async custodyAt(reference: bigint): Promise<ReadonlySet<number>> {
    const snapshots = this.#opts.snapshots;
    if (!snapshots) return this.#custody;
    const cached = this.#snapshotCustody.get(reference);
    const latest = await snapshots.latest();
    const window = BigInt(this.#opts.referenceWindow ?? 7200);
    if (reference > latest || latest - reference >= window)
      throw new NodeError(
        "CELLAR_ERR_NODE_STALE_REFERENCE",
        `reference block ${reference} is not within the last ${window} blocks (latest ${latest})`,
        { reference: reference.toString(), latest: latest.toString() },
      );
    if (cached) return cached;
    const self = this.identity;
    const nodes = await snapshots.nodesAt(reference);
    if (!nodes.some((n) => bytesEqual(n.publicKey, self.publicKey)))
      throw new NodeError("CELLAR_ERR_NODE_NOT_CUSTODIAN", `this node was not active at reference block ${reference}`, {
        reference: reference.toString(),
      });
    const custody = new Set(custodyColumns(nodes, self.nodeId, this.#opts.replication ?? DEFAULT_REPLICATION));
    if (this.#snapshotCustody.size >= 64)
      this.#snapshotCustody.delete(this.#snapshotCustody.keys().next().value as bigint);
    this.#snapshotCustody.set(reference, custody);
    return custody;
  }

  async start(): Promise<string> {
    await mkdir(this.#opts.dataDir, { recursive: true, mode: 0o700 });
    this.#identity = await loadIdentity(this.#opts.dataDir, this.#opts.keyFile);
    this.#store = new CellStore(join(this.#opts.dataDir, "cells.lmdb"));
    const store = this.#store;
    this.#metrics = createNodeMetrics(
      () => {
        let batches = 0;
        for (const _ of store.batches()) batches++;
        return { bytes: store.storedBytes(), batches };
      },
      () => this.#repairer?.secondsBehind() ?? 0,
    );
    this.setNodes(this.#opts.nodes ?? buildNodeSet([{ publicKey: this.#identity.publicKey, url: "http://127.0.0.1" }]));
    this.#guard = new DispersalGuard({ domain: this.#opts.domain, nodeId: this.#identity.nodeId }, this.#dispersers);
    this.#app = buildNodeApp(
      {
        identity: this.#identity,
        store,
        kzg: this.#modules.kzg,
        metrics: this.#metrics,
        domain: this.#opts.domain,
        maxBlobs: this.#opts.maxBlobs ?? NODE_DEFAULTS.maxBlobs,
        replication: this.#opts.replication ?? DEFAULT_REPLICATION,
        guard: this.#guard,
        verifyQueue: new WorkQueue({
          name: "verify",
          concurrency: this.#opts.verifyConcurrency ?? 2,
          maxQueued: this.#opts.verifyQueue ?? 8,
          maxPerClient: 0,
        }),
        quotaBytes: this.#opts.disperserQuotaBytes ?? DEFAULT_QUOTA_BYTES,
        ...(this.#opts.limits ? { limits: this.#opts.limits } : {}),
        ...(this.#opts.readyChecks ? { readyChecks: this.#opts.readyChecks } : {}),
        custody: () => this.#custody,
        custodyAt: (reference) => this.custodyAt(reference),
        nodeCount: () => this.#nodes.length,
        ready: () => (this.#nodes.length > 0 ? true : "no node set"),
      },
      this.#modules.logger,
    );
    this.#url = await this.#app.listen({ host: this.#opts.host ?? "127.0.0.1", port: this.#opts.port ?? 0 });
    this.#repairer = this.#createRepairer();
    this.#loops = new AbortController();
    this.#tasks = [this.#scrubLoop(this.#loops.signal), this.#pruneLoop(this.#loops.signal)];
    this.#follow();
    if ((this.#opts.repairIntervalMs ?? 0) > 0) this.#tasks.push(this.#repairLoop(this.#loops.signal));
    return this.#url;
  }

  #createRepairer(): Repairer {
    const kzg = this.#modules.kzg;
    const opts = this.#opts;
    this.#client = new NodeClient({ timeoutMs: opts.repairTimeoutMs ?? 5000, attempts: 1 });
    const snapshots = opts.snapshots;
    return new Repairer(
      {
        cellsPerSecond: opts.repairCellsPerSecond ?? NODE_DEFAULTS.repairCellsPerSecond,
        graceMs: opts.repairGraceMs ?? NODE_DEFAULTS.repairGraceMs,
        retentionMs: opts.retentionMs ?? 0,
        replication: opts.replication ?? DEFAULT_REPLICATION,
        quotaBytes: opts.disperserQuotaBytes ?? DEFAULT_QUOTA_BYTES,
      },
      {
        store: this.store,
        kzg: {
          verifyCellProofBatchAsync: (...args) => kzg.verifyCellProofBatchAsync(...args),
          computeCellsAndProofsAsync: (blob) => {
            if (!kzg.computeCellsAndProofsAsync)
              throw new NodeError("CELLAR_ERR_NODE_CONFIG", "rebuilding cells needs kzg.computeCellsAndProofsAsync");
            return kzg.computeCellsAndProofsAsync(blob);
          },
        },
        erasure: this.#modules.erasure ?? sharedErasure(),
        client: this.#client,
        identity: this.identity,
        domain: opts.domain,
        nodes: () => this.#nodes,
        snapshotAt: async (reference) => (snapshots ? snapshots.nodesAt(reference) : this.#nodes),
        metrics: this.#metrics ?? null,
        log: this.#app?.log,
      },
    );
  }

  /**
   * One repair pass now (PROTOCOL.md §14.1): every batch within retention gets the cells this
   * node must hold, fetched and verified or rebuilt. The background loop runs them on its own.
   */
  async repair(signal?: AbortSignal): Promise<RepairPass> {
    if (!this.#repairer) throw new NodeError("CELLAR_ERR_NODE_CONFIG", "the node has not started");
    const result = await this.#repairer.pass(signal);
    this.lastRepair = result;
    return result;
  }

  /** Peers this node's repair counts as gone (unresponsive past the grace period). */
  isGone(node: NodeRecord): boolean {
    return this.#repairer?.liveness.isGone(node) ?? false;
  }

  async #repairLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.repair(signal);
        await sleep(this.#opts.repairIntervalMs ?? 60_000, undefined, { signal });
      } catch (err) {
        if (signal.aborted) return;
        this.#app?.log.error({ err }, "repair pass failed");
        await sleep(1000, undefined, { signal }).catch(() => {});
      }
    }
  }

  /** One full scrub pass now (the background loop runs them on its own). */
  async scrub(signal?: AbortSignal): Promise<ScrubResult> {
    const result = await scrubOnce(
      this.store,
      this.#modules.kzg,
      { cellsPerSecond: this.#opts.scrubCellsPerSecond ?? NODE_DEFAULTS.scrubCellsPerSecond },
      this.#metrics,
      signal,
    );
    this.lastScrub = result;
    return result;
  }

  /** Removes batches stored longer ago than the retention window; returns how many. */
  async prune(now = Date.now()): Promise<number> {
    const window = this.#opts.retentionMs ?? NODE_DEFAULTS.retentionMs;
    if (window <= 0) return 0;
    const old = [...this.store.batches()].filter(({ record }) => record.storedAt < now - window);
    for (const { root } of old) await this.store.deleteBatch(root);
    this.#metrics?.pruned.inc(old.length);
    return old.length;
  }

  async #scrubLoop(signal: AbortSignal): Promise<void> {
    const log = this.#app?.log;
    while (!signal.aborted) {
      try {
        const result = await this.scrub(signal);
        if (result.dropped > 0) log?.warn(result, "scrub dropped cells that failed their checks");
        await sleep(this.#opts.scrubIntervalMs ?? NODE_DEFAULTS.scrubIntervalMs, undefined, { signal });
      } catch (err) {
        if (signal.aborted) return;
        log?.error({ err }, "scrub failed");
        await sleep(1000, undefined, { signal }).catch(() => {});
      }
    }
  }

  async #pruneLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.prune();
        await sleep(this.#opts.pruneIntervalMs ?? 60_000, undefined, { signal });
      } catch (err) {
        if (signal.aborted) return;
        this.#app?.log.error({ err }, "retention sweep failed");
        await sleep(1000, undefined, { signal }).catch(() => {});
      }
    }
  }

  /** Starts the feeds the options name; `stop()` ends them first. */
  #follow(): void {
    const log = this.#app?.log;
    const { nodeFeed, disperserFeed } = this.#opts;
    if (nodeFeed)
      this.#unfollow.push(
        nodeFeed.follow(
          (nodes) => {
            this.setNodes(nodes);
            log?.info({ nodes: nodes.length, custody: this.#custody.size }, "node set changed; custody recomputed");
          },
          (err) => log?.error({ err }, "following the node set failed; keeping the old one"),
        ),
      );
    if (disperserFeed)
      this.#unfollow.push(
        disperserFeed.follow(
          (keys) => this.setDispersers(keys),
          (err) => log?.error({ err }, "following the dispersers failed; keeping the old ones"),
        ),
      );
  }

  async stop(): Promise<void> {
    for (const stop of this.#unfollow.splice(0)) stop();
    this.#loops?.abort();
    await Promise.allSettled(this.#tasks);
    await this.#client?.close();
    await this.#app?.close();
    await this.#store?.close();
  }
}
