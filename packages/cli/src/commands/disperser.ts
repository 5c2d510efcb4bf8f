import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  buildDisperserApp,
  createDisperserMetrics,
  Disperser,
  EncoderFleet,
  PostgresDisperserStore,
} from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import { createKeyFile, type NodeIdentity, readKeyFile } from "@cellar/node";
import { toHex } from "@cellar/utils";
import { loadNodeSet, type NodeSetFlags, snapshotsOf, watchNodeSet } from "../config.js";
import { type LimitFlags, limitsOf } from "../options.js";
import type { Io } from "../output.js";
import { domainOf, serverLogger, untilStopped } from "../server.js";

export interface DisperserCommandOptions extends NodeSetFlags, LimitFlags {
  readonly key?: string;
  readonly data?: string;
  /** `lmdb` (the default: --data, else memory) or a `postgres://…` URL shared by replicas. */
  readonly store: string;
  readonly publicUrl?: string;
  readonly claimLease: number;
  readonly retention: number;
  readonly postsPerMinute: number;
  readonly cache: number;
  readonly sampleBeforeCommit: boolean;
  readonly availabilityDeadline: number;
  readonly host: string;
  readonly port: number;
  readonly replication: number;
  readonly quorum: number;
  readonly chainId: string;
  readonly inbox: string;
  readonly maxBatchBytes: number;
  readonly daLayerByte: number;
  readonly nodeTimeout: number;
  readonly deadline: number;
  readonly logLevel: string;
  readonly json: boolean;
  readonly light?: string[];
}

/**
 * `cellar disperser`: the rollup-facing server, until SIGINT or SIGTERM. The node set comes from
 * --nodes (SIGHUP reloads it) or the L1 registry (--rpc, --registry; polled for changes).
 */
export async function disperserCommand(options: DisperserCommandOptions, io: Io): Promise<void> {
  const logger = serverLogger("disperser", options.logLevel);
  const snapshots = snapshotsOf(options);
  // The signing key: --key, else DIR/disperser.key (created once), else a key for this run only.
  const identity = await disperserIdentity(options);
  const kzg = sharedKzg({ precompute: true });
  // Replicas share one PostgreSQL database: its schema is migrated here, and blobs go to the
  // encoder fleet announced in it (or are encoded here when no encoder is alive).
  const store = options.store.startsWith("postgres")
    ? await PostgresDisperserStore.open({ url: options.store, logger })
    : undefined;
  const metrics = createDisperserMetrics();
  const fleet = store
    ? new EncoderFleet(
        { pool: store.pool, ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}) },
        { kzg, logger, registry: metrics.registry },
      )
    : undefined;
  const disperser = new Disperser(
    {
      ...(identity ? { key: identity.secretKey } : {}),
      ...(store ? { store } : {}),
      ...(options.data === undefined || store ? {} : { dataDir: join(options.data, "batches.lmdb") }),
      retentionMs: options.retention * 1000,
      claimLeaseMs: options.claimLease * 1000,
      cacheBytes: options.cache * 1024 * 1024,
      sampleBeforeCommit: options.sampleBeforeCommit,
      availabilityDeadlineMs: options.availabilityDeadline * 1000,
      nodes: await loadNodeSet(options),
      ...(snapshots ? { snapshots } : {}),
      domain: domainOf(options),
      replication: options.replication,
      quorum: options.quorum,
      maxBatchBytes: options.maxBatchBytes,
      nodeTimeoutMs: options.nodeTimeout * 1000,
      deadlineMs: options.deadline * 1000,
      lightNodes: options.light ?? [],
    },
    {
      kzg,
      erasure: sharedErasure({ log: logger.info.bind(logger) }),
      logger,
      metrics,
      ...(fleet ? { encoder: fleet } : {}),
    },
  );
  await disperser.start();
  const app = buildDisperserApp(disperser, {
    daLayerByte: options.daLayerByte,
    logger,
    limits: limitsOf(options),
    postsPerMinute: options.postsPerMinute,
  });
  const url = await app.listen({ host: options.host, port: options.port });
  if (fleet && fleet.publicUrl === undefined) fleet.publicUrl = url;
  const ready = {
    event: "listening",
    url,
    store: store ? "postgres" : options.data === undefined ? "memory" : "lmdb",
    nodes: disperser.nodes.length,
    publicKey: toHex(disperser.publicKey),
    explorer: `${url}/explorer/`,
  };
  io.stdout.write(
    options.json
      ? `${JSON.stringify(ready)}\n`
      : `cellar disperser listening on ${url} with ${ready.nodes} storage nodes (explorer: ${ready.explorer})\n` +
          `disperser key ${ready.publicKey}${identity ? "" : " (for this run only: pass --key or --data to keep one)"}\n`,
  );
  const unwatch = watchNodeSet(options, disperser.nodes, (nodes) => disperser.setNodes(nodes), logger);
  await untilStopped(logger);
  unwatch();
  await app.close();
  await disperser.close();
}

/** --key, else DIR/disperser.key with --data (created on first start), else none. */
async function disperserIdentity(options: DisperserCommandOptions): Promise<NodeIdentity | undefined> {
  if (options.key !== undefined) return readKeyFile(options.key);
  if (options.data === undefined) return undefined;
  await mkdir(options.data, { recursive: true, mode: 0o700 });
  const path = join(options.data, "disperser.key");
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  return exists ? readKeyFile(path) : createKeyFile(path);
}
