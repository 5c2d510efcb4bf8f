import { sharedKzg } from "@cellar/kzg";
import { StorageNode } from "@cellar/node";
import { fromHex, toHex } from "@cellar/utils";
import pino from "pino";
import { parseChainId, readNodeSetFile } from "../config.js";
import type { Io } from "../output.js";

export interface NodeCommandOptions {
  readonly data: string;
  readonly host: string;
  readonly port: number;
  readonly key?: string;
  readonly nodes?: string;
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
 * `cellar node`: runs a storage node until SIGINT or SIGTERM. SIGHUP re-reads the node set file.
 * Stdout gets one line when the node listens (JSON with --json); logs go to stderr as JSON.
 */
export async function nodeCommand(options: NodeCommandOptions, io: Io): Promise<void> {
  const logger = pino({ level: options.logLevel, base: { role: "node" } }, pino.destination(2));
  const chainId = parseChainId(options.chainId);
  const node = new StorageNode(
    {
      dataDir: options.data,
      host: options.host,
      port: options.port,
      ...(options.key === undefined ? {} : { keyFile: options.key }),
      ...(options.nodes === undefined ? {} : { nodes: await readNodeSetFile(options.nodes) }),
      replication: options.replication,
      domain: { chainId, inbox: fromHex(options.inbox, 20, "--inbox") },
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
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "stopping");
      process.off("SIGHUP", reload);
      resolve();
    };
    const reload = () => {
      if (options.nodes === undefined) return;
      readNodeSetFile(options.nodes)
        .then((nodes) => {
          node.setNodes(nodes);
          logger.info({ nodes: nodes.length, custody: node.custody.size }, "node set reloaded");
        })
        .catch((err: unknown) => logger.error({ err }, "node set reload failed; keeping the old one"));
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    process.on("SIGHUP", reload);
  });
  await node.stop();
}
