import { readFile } from "node:fs/promises";
import { type Address, readNodeSet, readParameters, registryNodeFeed, registrySnapshots } from "@cellar/l1";
import { type Feed, type NodeRecord, nodeSetToJson, parseNodeSet, type SnapshotSource } from "@cellar/protocol";
import { CliError } from "./errors.js";

/** Reads a node set file (`{nodes: [{publicKey, url}]}`), with one-line errors. */
export async function readNodeSetFile(path: string): Promise<NodeRecord[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CliError(
      "CELLAR_ERR_CLI_INPUT",
      `cannot read node set ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  try {
    return parseNodeSet(JSON.parse(text));
  } catch (err) {
    if (err instanceof SyntaxError)
      throw new CliError("CELLAR_ERR_CLI_INPUT", `node set ${path} is not valid JSON`, { path });
    throw err;
  }
}

export function parseChainId(value: string): bigint {
  try {
    return BigInt(value);
  } catch {
    throw new CliError("CELLAR_ERR_CLI_INPUT", `--chain-id must be an integer, got ${value}`);
  }
}

/** Where a server or client takes its node set from: a file (`--nodes`) or the L1 registry (`--rpc` + `--registry`). */
export interface NodeSetFlags {
  readonly nodes?: string | undefined;
  readonly rpc?: string | undefined;
  readonly registry?: string | undefined;
}

/** The registry's snapshots when the node set comes from L1 (--rpc, --registry); none for a file. */
export function snapshotsOf(flags: NodeSetFlags): SnapshotSource | undefined {
  if (flags.registry === undefined || flags.rpc === undefined) return undefined;
  return registrySnapshots({ rpcUrl: flags.rpc, registry: flags.registry as Address });
}

/** The inbox's certificate window (blocks), when --rpc, --registry and --inbox name a deployment. */
export async function referenceWindowOf(flags: NodeSetFlags & { inbox?: string }): Promise<number | undefined> {
  if (flags.registry === undefined || flags.rpc === undefined || flags.inbox === undefined) return undefined;
  try {
    const { referenceWindow } = await readParameters({
      rpcUrl: flags.rpc,
      registry: flags.registry as Address,
      inbox: flags.inbox as Address,
    });
    return referenceWindow === undefined ? undefined : Number(referenceWindow);
  } catch {
    return undefined; // not an inbox of this registry: the node keeps its default window
  }
}

/** Whether the flags name a node set at all. */
export function hasNodeSet(flags: NodeSetFlags): boolean {
  return flags.nodes !== undefined || flags.registry !== undefined;
}

/** Reads the node set the flags name: the registry's active nodes when --registry is given, else the file. */
export async function loadNodeSet(flags: NodeSetFlags): Promise<NodeRecord[]> {
  if (flags.registry !== undefined) {
    if (flags.rpc === undefined)
      throw new CliError("CELLAR_ERR_CLI_INPUT", "--registry needs --rpc (the L1 JSON-RPC URL) to read it");
    return readNodeSet({ rpcUrl: flags.rpc, registry: flags.registry as Address });
  }
  if (flags.nodes === undefined)
    throw new CliError("CELLAR_ERR_CLI_INPUT", "no node set: give --nodes FILE or --rpc URL --registry ADDRESS");
  return readNodeSetFile(flags.nodes);
}

/**
 * What keeps a server's node set current, as the option its role follows (`{ nodeFeed }`, or
 * nothing without a node set): with --registry the registry, polled every `pollMs`
 * (`registryNodeFeed`: nodes that register or leave take effect without a restart); with --nodes
 * the file, read again on SIGHUP. A value is delivered only when the set changed.
 */
export function nodeFeedOf(
  flags: NodeSetFlags,
  pollMs = 5000,
): { nodeFeed: Feed<readonly NodeRecord[]> } | Record<string, never> {
  if (flags.registry !== undefined && flags.rpc !== undefined)
    return { nodeFeed: registryNodeFeed({ rpcUrl: flags.rpc, registry: flags.registry as Address, pollMs }) };
  const file = flags.nodes;
  if (file === undefined) return {};
  return {
    nodeFeed: {
      follow(apply, onError) {
        let last: string | undefined;
        const reload = () => {
          readNodeSetFile(file)
            .then((nodes) => {
              const key = JSON.stringify(nodeSetToJson(nodes));
              if (last !== undefined && key !== last) apply(nodes);
              last = key;
            })
            .catch(onError);
        };
        reload();
        process.on("SIGHUP", reload);
        return () => process.off("SIGHUP", reload);
      },
    },
  };
}

const ZERO_ADDRESS = `0x${"00".repeat(20)}`;

/** Whether roots can be trusted from the L1 inbox: an RPC and a real inbox address are given. */
export function inboxOnL1(options: { rpc?: string | undefined; inbox: string }): boolean {
  return options.rpc !== undefined && options.inbox.toLowerCase() !== ZERO_ADDRESS;
}
