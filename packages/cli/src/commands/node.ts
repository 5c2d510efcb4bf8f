import { sharedKzg } from "@cellar/kzg";
import { type Address, readDispersers } from "@cellar/l1";
import { StorageNode } from "@cellar/node";
import { fromHex, toHex } from "@cellar/utils";
import { hasNodeSet, loadNodeSet, type NodeSetFlags, referenceWindowOf, snapshotsOf, watchNodeSet } from "../config.js";
import { type LimitFlags, limitsOf } from "../options.js";
import type { Io } from "../output.js";
import { domainOf, serverLogger, untilStopped } from "../server.js";

export interface NodeCommandOptions extends NodeSetFlags, LimitFlags {
  readonly data: string;
  readonly host: string;
  readonly port: number;
  readonly key?: string;
  readonly replication: number;
  readonly chainId: string;
  readonly inbox: string;
  readonly maxBlobs: number;
  readonly retention: number;
  readonly scrubRate: number;
  /** Seconds between scrub passes. */
  readonly scrubInterval: number;
  /** Seconds between repair passes (0: none), cells per second, seconds of grace. */
  readonly repairInterval: number;
  readonly repairRate: number;
  readonly repairGrace: number;
  readonly disperserKey?: string[];
  readonly disperserQuota: number;
  readonly logLevel: string;
  readonly json: boolean;
}

/**
 * `cellar node`: runs a storage node until SIGINT or SIGTERM. The node set comes from --nodes
 * (SIGHUP re-reads it) or the L1 registry (--rpc, --registry; polled, so registrations and
 * departures change custody without a restart).
 * Stdout gets one line when the node listens (JSON with --json); logs go to stderr as JSON.
 */
export async function nodeCommand(options: NodeCommandOptions, io: Io): Promise<void> {
  const logger = serverLogger("node", options.logLevel);
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
    },
    { kzg: sharedKzg({ precompute: false }), logger },
  );
  const url = await node.start();
  const ready = {
    event: "listening",
    url,
    nodeId: toHex(node.identity.nodeId),
    publicKey: toHex(node.identity.publicKey),
    custody: node.custody.size,
    dispersers: node.dispersers,
  };
  io.stdout.write(
    options.json
      ? `${JSON.stringify(ready)}\n`
      : `cellar node listening on ${url}\nnode id ${ready.nodeId}, keeping ${ready.custody} of 128 columns\n` +
          (ready.dispersers === 0
            ? "no disperser is authorised (--disperser-key): every dispersal will be refused\n"
            : `accepting dispersals from ${ready.dispersers} disperser key(s)\n`),
  );
  const unwatch = watchNodeSet(
    options,
    node.nodes,
    (nodes) => {
      node.setNodes(nodes);
      logger.info({ custody: node.custody.size }, "custody recomputed");
    },
    logger,
  );
  const unwatchDispersers = dispersers.watch((keys) => node.setDispersers(keys));
  await untilStopped(logger);
  unwatch();
  unwatchDispersers();
  await node.stop();
}

/**
 * The dispersers a node accepts: the `--disperser-key` flags, and with --rpc and --registry every
 * active disperser the L1 registry lists (polled every `pollMs`, so a disperser that registers or
 * leaves takes effect without a restart). `ready()` says whether L1 answered the last poll.
 */
export function disperserKeys(
  options: Pick<NodeCommandOptions, "disperserKey" | "rpc" | "registry">,
  logger: { error(obj: object, msg: string): void },
  pollMs = 5000,
) {
  const flags = (options.disperserKey ?? []).map((k) => fromHex(k, 48, "--disperser-key"));
  const onL1 = options.rpc !== undefined && options.registry !== undefined;
  let l1Error: string | undefined;
  const read = async (): Promise<Uint8Array[]> => {
    if (!onL1) return flags;
    try {
      const listed = await readDispersers({ rpcUrl: options.rpc as string, registry: options.registry as Address });
      l1Error = undefined;
      const keys = new Map([...flags, ...listed.map((d) => d.publicKey)].map((k) => [toHex(k), k]));
      return [...keys.values()];
    } catch (err) {
      l1Error = (err as Error).message;
      throw err;
    }
  };
  return {
    current: read,
    ready: (): true | string => (l1Error === undefined ? true : `the L1 registry did not answer: ${l1Error}`),
    watch(apply: (keys: Uint8Array[]) => void): () => void {
      if (!onL1) return () => {};
      const timer = setInterval(() => {
        read()
          .then(apply)
          .catch((err: unknown) =>
            logger.error({ err }, "reading the dispersers from L1 failed; keeping the old ones"),
          );
      }, pollMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
