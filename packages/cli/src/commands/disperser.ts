import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  createDisperserMetrics,
  DEFAULT_DA_LAYER_BYTE,
  DISPERSER_DEFAULTS,
  Disperser,
  DisperserService,
  EncoderFleet,
  PostgresDisperserStore,
} from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import { createKeyFile, type NodeIdentity, readKeyFile } from "@cellar/node";
import { DEFAULT_QUORUM } from "@cellar/protocol";
import { toHex } from "@cellar/utils";
import { Command, Option } from "@commander-js/extra-typings";
import { daLayerByte, fraction, needNodeSet, nonNegativeInt, parseDuration, positiveInt, storeArg } from "../args.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { loadNodeSet, nodeFeedOf, snapshotsOf } from "../config.js";
import {
  chainIdOption,
  hostOption,
  inboxOption,
  limitsOf,
  nodesOption,
  portOption,
  registryOption,
  replicationOption,
  rpcOption,
  withServerOptions,
} from "../options.js";
import type { Io } from "../output.js";
import { domainOf, runServer } from "../runtime.js";

const MIB = 1024 * 1024;

export const disperserDefinition = () =>
  withServerOptions(
    new Command("disperser")
      .description(
        "run the disperser: encode posted batches, disperse to storage nodes, certify, serve reads and OP alt-DA",
      )
      .addOption(nodesOption("; SIGHUP reloads it"))
      .addOption(rpcOption())
      .addOption(registryOption())
      .addOption(hostOption())
      .addOption(portOption(DISPERSER_DEFAULTS.port))
      .addOption(replicationOption())
      .addOption(
        new Option("--quorum <fraction>", "share of registered nodes a certificate needs")
          .argParser(fraction)
          .default(DEFAULT_QUORUM, "2/3"),
      )
      .addOption(chainIdOption("attestations are"))
      .addOption(inboxOption("attestations are"))
      .addOption(
        new Option("--max-batch-bytes <n>", "largest batch accepted")
          .argParser(positiveInt)
          .default(DISPERSER_DEFAULTS.maxBatchBytes, `${DISPERSER_DEFAULTS.maxBatchBytes / MIB} MiB`),
      )
      .addOption(
        new Option("--da-layer-byte <n>", "DA-layer byte of OP alt-DA generic commitments")
          .argParser(daLayerByte)
          .default(DEFAULT_DA_LAYER_BYTE, `0x${DEFAULT_DA_LAYER_BYTE.toString(16)}`),
      )
      .addOption(
        new Option("--node-timeout <seconds>", "per-request timeout towards storage nodes")
          .argParser(positiveInt)
          .default(DISPERSER_DEFAULTS.nodeTimeoutMs / 1000),
      )
      .addOption(
        new Option("--deadline <seconds>", "longest wait for a quorum before answering 503")
          .argParser(positiveInt)
          .default(DISPERSER_DEFAULTS.deadlineMs / 1000),
      )
      .addOption(
        new Option("--light <url...>", "light nodes to register every certified batch with").env("CELLAR_LIGHT"),
      )
      .addOption(
        new Option(
          "--key <file>",
          "BLS key file dispersals are signed with (default DIR/disperser.key with --data)",
        ).env("CELLAR_KEY"),
      )
      .addOption(
        new Option("--data <dir>", "directory of the durable batch store (statuses, certificates)").env("CELLAR_DATA"),
      )
      .addOption(
        new Option(
          "--store <lmdb|postgres://…>",
          "where statuses and certificates are kept: lmdb (in --data) or a PostgreSQL URL shared by replicas",
        )
          .argParser(storeArg)
          .env("CELLAR_STORE")
          .default("lmdb"),
      )
      .addOption(
        new Option(
          "--claim-lease <seconds>",
          "with --store postgres: how long a replica's hold on a batch lasts unless renewed",
        )
          .argParser(positiveInt)
          .default(DISPERSER_DEFAULTS.claimLeaseMs / 1000),
      )
      .addOption(
        new Option(
          "--public-url <url>",
          "where encoders reach this replica for blobs and results (default: the listening URL)",
        ).env("CELLAR_PUBLIC_URL"),
      )
      .addOption(
        new Option("--retention <duration>", "forget batches older than this (0: keep all)")
          .argParser(parseDuration)
          .default(DISPERSER_DEFAULTS.retentionMs / 1000, "0"),
      )
      .option(
        "--sample-before-commit",
        "alt-DA /put answers only once a light client (--light, else this disperser) sampled the batch",
        false,
      )
      .addOption(
        new Option("--availability-deadline <seconds>", "longest wait for sampling before 503")
          .argParser(positiveInt)
          .default(DISPERSER_DEFAULTS.availabilityDeadlineMs / 1000),
      )
      .addOption(
        new Option("--cache <MiB>", "recently posted or read batches kept in memory for reads (0: none)")
          .argParser(nonNegativeInt)
          .default(DISPERSER_DEFAULTS.cacheBytes / MIB),
      )
      .addOption(
        new Option("--posts-per-minute <n>", "posts one client address may make per minute")
          .argParser(positiveInt)
          .default(DISPERSER_DEFAULTS.postsPerMinute),
      ),
  ).addHelpText(
    "after",
    `
Examples:
  $ cellar disperser --nodes nodes.json                 rollup API on 127.0.0.1:7000
  $ cellar disperser --nodes nodes.json --quorum 0.75   stricter certificates
  $ cellar disperser --rpc http://127.0.0.1:8545 --registry 0x… --chain-id 31337 --inbox 0x…
                                                        node set from the L1 registry
  $ cellar disperser --nodes nodes.json --store postgres://cellar@db:5432/cellar --port 7001
                                                        one of several replicas on one database

OP Stack: run op-node/op-batcher with --altda.enabled --altda.da-service
  --altda.da-server=http://127.0.0.1:7000 (generic commitments 0x01 || 0x43 || root).`,
  );

export type DisperserCommandOptions = OptionsOf<typeof disperserDefinition>;

export const disperser: CommandModule = ({ io, run }) =>
  disperserDefinition().action((options, command) => run(disperserCommand(needNodeSet(options, command), io)));

/**
 * `cellar disperser`: the rollup-facing server, until SIGINT or SIGTERM. The node set comes from
 * --nodes (SIGHUP reloads it) or the L1 registry (--rpc, --registry; polled for changes).
 */
export async function disperserCommand(options: DisperserCommandOptions, io: Io): Promise<void> {
  await runServer(io, { role: "disperser", ...options }, async (logger) => {
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
        cacheBytes: options.cache * MIB,
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
    const service = new DisperserService(disperser, {
      host: options.host,
      port: options.port,
      daLayerByte: options.daLayerByte,
      logger,
      limits: limitsOf(options),
      postsPerMinute: options.postsPerMinute,
      ...nodeFeedOf(options),
    });
    return {
      service: {
        // Encoders fetch blobs from, and send results to, where this replica listens.
        start: async () => {
          const url = await service.start();
          if (fleet && fleet.publicUrl === undefined) fleet.publicUrl = url;
          return url;
        },
        stop: () => service.stop(),
      },
      ready: (url) => {
        const ready = {
          store: store ? "postgres" : options.data === undefined ? "memory" : "lmdb",
          nodes: disperser.nodes.length,
          publicKey: toHex(disperser.publicKey),
          explorer: `${url}/explorer/`,
        };
        return {
          json: ready,
          text:
            `cellar disperser listening on ${url} with ${ready.nodes} storage nodes (explorer: ${ready.explorer})\n` +
            `disperser key ${ready.publicKey}${identity ? "" : " (for this run only: pass --key or --data to keep one)"}\n`,
        };
      },
    };
  });
}

/** --key, else DIR/disperser.key with --data (created on first start), else none. */
async function disperserIdentity(
  options: Pick<DisperserCommandOptions, "key" | "data">,
): Promise<NodeIdentity | undefined> {
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
