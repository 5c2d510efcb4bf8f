import { sharedKzg } from "@cellar/kzg";
import { type Address, registryDisperserFeed } from "@cellar/l1";
import { NODE_DEFAULTS, StorageNode } from "@cellar/node";
import { fromHex, toHex } from "@cellar/utils";
import { Command, Option } from "@commander-js/extra-typings";
import { collectKeys, parseDuration, positiveInt } from "../args.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { hasNodeSet, loadNodeSet, nodeFeedOf, referenceWindowOf, snapshotsOf } from "../config.js";
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

export const nodeDefinition = () =>
  withServerOptions(
    new Command("node")
      .description("run a storage node: verify, store and attest custody columns, serve cells")
      .addOption(
        new Option("--data <dir>", "data directory (key, LMDB store)").env("CELLAR_DATA").makeOptionMandatory(),
      )
      .addOption(hostOption())
      .addOption(portOption(NODE_DEFAULTS.port))
      .addOption(new Option("--key <file>", "BLS key file to use instead of DIR/node.key").env("CELLAR_KEY"))
      .addOption(nodesOption(" (default: this node alone); SIGHUP reloads it"))
      .addOption(rpcOption())
      .addOption(registryOption())
      .addOption(replicationOption())
      .addOption(chainIdOption("attestations are"))
      .addOption(inboxOption("attestations are"))
      .addOption(
        new Option("--max-blobs <n>", "largest batch accepted, in blobs")
          .argParser(positiveInt)
          .default(NODE_DEFAULTS.maxBlobs),
      )
      .addOption(
        new Option("--retention <duration>", "prune batches older than this (0: keep all)")
          .argParser(parseDuration)
          .default(NODE_DEFAULTS.retentionMs / 1000, "14d"),
      )
      .addOption(
        new Option("--scrub-rate <cells>", "cells re-verified per second by the background scrub")
          .argParser(positiveInt)
          .default(NODE_DEFAULTS.scrubCellsPerSecond),
      )
      .addOption(
        new Option("--scrub-interval <duration>", "pause between background scrub passes")
          .env("CELLAR_SCRUB_INTERVAL")
          .argParser(parseDuration)
          .default(NODE_DEFAULTS.scrubIntervalMs / 1000, "60s"),
      )
      .addOption(
        new Option("--repair-interval <duration>", "pause between background repair passes (0: no repair)")
          .env("CELLAR_REPAIR_INTERVAL")
          .argParser(parseDuration)
          .default(NODE_DEFAULTS.repairIntervalMs / 1000, "30s"),
      )
      .addOption(
        new Option("--repair-rate <cells>", "cells repair fetches or rebuilds per second at most")
          .env("CELLAR_REPAIR_RATE")
          .argParser(positiveInt)
          .default(NODE_DEFAULTS.repairCellsPerSecond),
      )
      .addOption(
        new Option("--repair-grace <duration>", "how long a registered custodian may not answer before others stand in")
          .env("CELLAR_REPAIR_GRACE")
          .argParser(parseDuration)
          .default(NODE_DEFAULTS.repairGraceMs / 1000, "60s"),
      )
      .addOption(
        new Option("--disperser-key <hex>", "BLS public key of a disperser whose dispersals are accepted (repeatable)")
          .env("CELLAR_DISPERSER_KEYS")
          .argParser(collectKeys),
      )
      .addOption(
        new Option("--disperser-quota <bytes>", "bytes one disperser may keep on this node")
          .argParser(positiveInt)
          .default(NODE_DEFAULTS.disperserQuotaBytes, "16 GiB"),
      ),
  ).addHelpText(
    "after",
    `
Examples:
  $ cellar node --data ./node1                               a one-node network on 127.0.0.1:7100
  $ cellar node --data ./node1 --port 7101 --nodes nodes.json a node of a registered set
  $ cellar node --data ./node1 --rpc http://127.0.0.1:8545 --registry 0x… --chain-id 31337 --inbox 0x…
                                                             node set from the L1 registry, followed live
  $ cellar node --data ./node1 --nodes nodes.json --repair-interval 10s --repair-rate 500
                                                             repair gaps every 10 s, 500 cells/s at most
  $ CELLAR_DATA=./node1 cellar node --json                   configuration from the environment

Logs go to stderr as JSON lines; metrics are at GET /metrics.`,
  );

export type NodeCommandOptions = OptionsOf<typeof nodeDefinition>;

export const node: CommandModule = ({ io, run }) => nodeDefinition().action((options) => run(nodeCommand(options, io)));

/**
 * `cellar node`: runs a storage node until SIGINT or SIGTERM. The node set comes from --nodes
 * (SIGHUP re-reads it) or the L1 registry (--rpc, --registry; polled, so registrations and
 * departures change custody without a restart).
 * Stdout gets one line when the node listens (JSON with --json); logs go to stderr as JSON.
 */
export async function nodeCommand(options: NodeCommandOptions, io: Io): Promise<void> {
  await runServer(io, { role: "node", ...options }, async (logger) => {
    const dispersers = disperserKeys(options, logger);
    const snapshots = snapshotsOf(options);
    const referenceWindow = await referenceWindowOf(options);
    const node = new StorageNode(
      {
        dataDir: options.data,
        host: options.host,
        port: options.port,
        ...(options.key === undefined ? {} : { keyFile: options.key }),
        ...(hasNodeSet(options) ? { nodes: await loadNodeSet(options) } : {}),
        ...(snapshots ? { snapshots } : {}),
        ...(referenceWindow !== undefined ? { referenceWindow } : {}),
        replication: options.replication,
        domain: domainOf(options),
        maxBlobs: options.maxBlobs,
        retentionMs: options.retention * 1000,
        scrubCellsPerSecond: options.scrubRate,
        scrubIntervalMs: options.scrubInterval * 1000,
        repairIntervalMs: options.repairInterval * 1000,
        repairCellsPerSecond: options.repairRate,
        repairGraceMs: options.repairGrace * 1000,
        dispersers: await dispersers.current(),
        readyChecks: { l1: () => dispersers.ready() },
        disperserQuotaBytes: options.disperserQuota,
        limits: limitsOf(options),
        ...nodeFeedOf(options),
        ...(dispersers.feed ? { disperserFeed: dispersers.feed } : {}),
      },
      { kzg: sharedKzg({ precompute: false }), logger },
    );
    return {
      service: node,
      ready: (url) => {
        const ready = {
          nodeId: toHex(node.identity.nodeId),
          publicKey: toHex(node.identity.publicKey),
          custody: node.custody.size,
          dispersers: node.dispersers,
        };
        return {
          json: ready,
          text:
            `cellar node listening on ${url}\nnode id ${ready.nodeId}, keeping ${ready.custody} of 128 columns\n` +
            (ready.dispersers === 0
              ? "no disperser is authorised (--disperser-key): every dispersal will be refused\n"
              : `accepting dispersals from ${ready.dispersers} disperser key(s)\n`),
        };
      },
    };
  });
}

/**
 * The dispersers a node accepts: the `--disperser-key` flags, and with --rpc and --registry every
 * active disperser the L1 registry lists (`registryDisperserFeed`, polled every `pollMs`, so a
 * disperser that registers or leaves takes effect without a restart). `ready()` says whether L1
 * answered the last poll; `feed` is what the node follows.
 */
export function disperserKeys(
  options: Pick<NodeCommandOptions, "disperserKey" | "rpc" | "registry">,
  logger: { error(obj: object, msg: string): void },
  pollMs = 5000,
) {
  const flags = (options.disperserKey ?? []).map((k) => fromHex(k, 48, "--disperser-key"));
  const feed =
    options.rpc !== undefined && options.registry !== undefined
      ? registryDisperserFeed({ rpcUrl: options.rpc, registry: options.registry as Address, pollMs, extra: flags })
      : undefined;
  return {
    feed,
    current: (): Promise<Uint8Array[]> => (feed ? feed.read() : Promise.resolve(flags)),
    ready: (): true | string => {
      const error = feed?.lastError();
      return error === undefined ? true : `the L1 registry did not answer: ${error}`;
    },
    watch(apply: (keys: Uint8Array[]) => void): () => void {
      return feed
        ? feed.follow(apply, (err) =>
            logger.error({ err }, "reading the dispersers from L1 failed; keeping the old ones"),
          )
        : () => {};
    },
  };
}
