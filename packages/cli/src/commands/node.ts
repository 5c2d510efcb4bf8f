import { sharedKzg } from "@cellar/kzg";
import { StorageNode } from "@cellar/node";
import { toHex } from "@cellar/utils";
import { hasNodeSet, loadNodeSet, type NodeSetFlags, referenceWindowOf, snapshotsOf, watchNodeSet } from "../config.js";
import type { Io } from "../output.js";
import { domainOf, serverLogger, untilStopped } from "../server.js";

export interface NodeCommandOptions extends NodeSetFlags {
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
  };
  io.stdout.write(
    options.json
      ? `${JSON.stringify(ready)}\n`
      : `cellar node listening on ${url}\nnode id ${ready.nodeId}, keeping ${ready.custody} of 128 columns\n`,
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
