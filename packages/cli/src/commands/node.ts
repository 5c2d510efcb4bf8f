import { sharedKzg } from "@cellar/kzg";
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
      dispersers: (options.disperserKey ?? []).map((k) => fromHex(k, 48, "--disperser-key")),
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
    dispersers: options.disperserKey?.length ?? 0,
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
  await untilStopped(logger);
  unwatch();
  await node.stop();
}
