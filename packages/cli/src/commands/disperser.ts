import { buildDisperserApp, Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { loadNodeSet, type NodeSetFlags, snapshotsOf, watchNodeSet } from "../config.js";
import type { Io } from "../output.js";
import { domainOf, serverLogger, untilStopped } from "../server.js";

export interface DisperserCommandOptions extends NodeSetFlags {
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
  const disperser = new Disperser(
    {
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
    { kzg: sharedKzg({ precompute: true }), logger },
  );
  const app = buildDisperserApp(disperser, { daLayerByte: options.daLayerByte, logger });
  const url = await app.listen({ host: options.host, port: options.port });
  const ready = { event: "listening", url, nodes: disperser.nodes.length };
  io.stdout.write(
    options.json
      ? `${JSON.stringify(ready)}\n`
      : `cellar disperser listening on ${url} with ${ready.nodes} storage nodes\n`,
  );
  const unwatch = watchNodeSet(options, disperser.nodes, (nodes) => disperser.setNodes(nodes), logger);
  await untilStopped(logger);
  unwatch();
  await app.close();
  await disperser.close();
}
