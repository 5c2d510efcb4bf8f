import { readFile, rename, writeFile } from "node:fs/promises";
import { CliError } from "../errors.js";

/** A service the devnet runs as a child process. */
export interface DevnetService {
  url: string;
  pid: number;
  /** The argv that starts it again (`[node, cellar.js, role, …]`), with the same port. */
  command: string[];
  /** Its JSON log (stderr). */
  log: string;
}

export interface DevnetNode extends DevnetService {
  /** Registry index: the node's place in the node set and in certificates' signer bitmaps. */
  index: number;
  dataDir: string;
  keyFile: string;
  publicKey: string;
  nodeId: string;
}

/** `D/devnet.json`: everything a client needs to use a running devnet. */
export interface DevnetInfo {
  version: 1;
  /** The `cellar devnet` process: SIGINT or SIGTERM to it stops the whole devnet. */
  pid: number;
  dir: string;
  chainId: number;
  l1: {
    rpc: string;
    pid: number;
    registry: string;
    inbox: string;
    /** A funded anvil account (its well-known development key), used to deploy and register. */
    account: { address: string; privateKey: string };
  };
  /** The inbox attestations are bound to (= l1.inbox). */
  inbox: string;
  replication: number;
  /** The node set as registered (`{nodes: [{publicKey, url, index}]}`), for `--nodes`; the processes read the registry. */
  nodeSet: string;
  disperser: DevnetService;
  light: DevnetService;
  nodes: DevnetNode[];
  /** With `--store postgres`: the shared database, every disperser replica (the first is `disperser`) and the encoders. */
  postgres?: { url: string; dir: string };
  replicas?: DevnetService[];
  encoders?: DevnetService[];
}

export const DEVNET_FILE = "devnet.json";

/** Writes devnet.json beside itself and renames it into place, so no reader sees half a file. */
export async function writeDevnetFile(path: string, info: DevnetInfo): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, `${JSON.stringify(info, null, 2)}\n`);
  await rename(temp, path);
}

/** Reads and checks a devnet.json, with a one-line error naming the file. */
export async function readDevnetFile(path: string): Promise<DevnetInfo> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new CliError(
      "CELLAR_ERR_CLI_DEVNET_FILE",
      `cannot read devnet file ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  const info = json as Partial<DevnetInfo> | null;
  const ok =
    info?.version === 1 &&
    typeof info.chainId === "number" &&
    typeof info.nodeSet === "string" &&
    typeof info.l1?.rpc === "string" &&
    typeof info.disperser?.url === "string" &&
    typeof info.light?.url === "string" &&
    Array.isArray(info.nodes);
  if (!ok)
    throw new CliError("CELLAR_ERR_CLI_DEVNET_FILE", `${path} is not a devnet file written by cellar devnet`, { path });
  return info as DevnetInfo;
}
