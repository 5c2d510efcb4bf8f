import { readFile } from "node:fs/promises";
import { type Address, readNodeSet, readParameters, registrySnapshots } from "@cellar/l1";
import { type NodeRecord, nodeSetToJson, parseNodeSet, type SnapshotSource } from "@cellar/protocol";
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
 * Keeps a server's node set current: SIGHUP reads it again, and with --registry the registry is
 * polled every `pollMs` (nodes that register or leave take effect without a restart). `apply` is
 * called only when the set changed. Returns the function that stops watching.
 */
export function watchNodeSet(
  flags: NodeSetFlags,
  current: readonly NodeRecord[] | undefined,
  apply: (nodes: NodeRecord[]) => void,
  logger: { info(obj: object, msg: string): void; error(obj: object, msg: string): void },
  pollMs = 5000,
): () => void {
  let last = current ? JSON.stringify(nodeSetToJson(current)) : "";
  let busy = false;
  const refresh = (why: string) => {
    if (busy || !hasNodeSet(flags)) return;
    busy = true;
    loadNodeSet(flags)
      .then((nodes) => {
        const key = JSON.stringify(nodeSetToJson(nodes));
        if (key === last) return;
        last = key;
        apply(nodes);
        logger.info({ nodes: nodes.length, why }, "node set reloaded");
      })
      .catch((err: unknown) => logger.error({ err, why }, "node set reload failed; keeping the old one"))
      .finally(() => {
        busy = false;
      });
  };
  const onHup = () => refresh("SIGHUP");
  process.on("SIGHUP", onHup);
  const timer = flags.registry !== undefined ? setInterval(() => refresh("registry"), pollMs) : undefined;
  timer?.unref();
  return () => {
    process.off("SIGHUP", onHup);
    if (timer) clearInterval(timer);
  };
}

const ZERO_ADDRESS = `0x${"00".repeat(20)}`;

/** Whether roots can be trusted from the L1 inbox: an RPC and a real inbox address are given. */
export function inboxOnL1(options: { rpc?: string | undefined; inbox: string }): boolean {
  return options.rpc !== undefined && options.inbox.toLowerCase() !== ZERO_ADDRESS;
}
