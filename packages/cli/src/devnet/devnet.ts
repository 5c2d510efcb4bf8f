import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { createKeyFile, type NodeIdentity } from "@cellar/node";
import { nodeSetToJson, proofOfPossession } from "@cellar/protocol";
import { bytesEqual, fromHex, mapConcurrent, toHex } from "@cellar/utils";
import { CliError } from "../errors.js";
import { type ChildServer, freePorts, isAlive, spawnServer } from "./children.js";
import { DEVNET_FILE, type DevnetInfo, type DevnetNode, readDevnetFile, writeDevnetFile } from "./devnet-file.js";
import { type Anvil, cellarL1, type L1 } from "./l1.js";
import { type Postgres, startPostgres } from "./postgres.js";

export interface DevnetOptions {
  /** Storage nodes to run (default 8). */
  readonly nodes?: number;
  /** Where keys, stores, logs and devnet.json go: created, or a stopped devnet's directory. */
  readonly dir: string;
  /** The L1 library (default `@cellar/l1`); tests may wrap it. */
  readonly l1?: L1;
  readonly replication?: number;
  /** Log level of every child (default info). */
  readonly logLevel?: string;
  /** How long each child may take to print its ready line (default 120 s). */
  readonly startTimeoutMs?: number;
  /** Where the disperser keeps its state: its own LMDB (default) or a PostgreSQL the devnet starts. */
  readonly store?: "lmdb" | "postgres";
  /** Disperser replicas on the shared database (default 1; more need `store: "postgres"`). */
  readonly replicas?: number;
  /** `cellar encoder` processes taking the replicas' blobs (default 0; need `store: "postgres"`). */
  readonly encoders?: number;
  /** Progress, for people: one short line per step. */
  readonly onStep?: (message: string) => void;
}

/** A running devnet; `stop()` ends every process it started (idempotent). */
export interface Devnet {
  readonly info: DevnetInfo;
  /** The devnet.json path. */
  readonly file: string;
  /** The storage nodes in registry order, then the light node and the disperser. */
  readonly children: readonly ChildServer[];
  stop(): Promise<void>;
}

export const DEFAULT_DEVNET_NODES = 8;
/** The devnet's registry: a bond of 0.01 ether, 64 blocks of unbonding, certificates valid for 32 blocks. */
export const DEVNET_MINIMUM_STAKE = 10n ** 16n;
export const DEVNET_UNBONDING_BLOCKS = 64;
export const DEVNET_REFERENCE_WINDOW = 32;

/**
 * Starts a devnet: anvil with the contracts deployed, N storage nodes (each its own key and LMDB
 * directory, registered on L1 with its URL), a light node and a disperser, every one a `cellar`
 * child process on a free loopback port; then writes DIR/devnet.json. Nodes listen on ports fixed
 * up front (their URLs are registered before they start), so their recorded commands restart them
 * where they were. On any failure everything already started is stopped before the error is thrown.
 */
export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  const count = options.nodes ?? DEFAULT_DEVNET_NODES;
  const replication = options.replication ?? 2;
  const logLevel = options.logLevel ?? "info";
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const step = options.onStep ?? (() => {});
  const store = options.store ?? "lmdb";
  const replicas = options.replicas ?? 1;
  const encoderCount = options.encoders ?? 0;
  if (!Number.isInteger(replicas) || replicas < 1 || !Number.isInteger(encoderCount) || encoderCount < 0) {
    throw new CliError("CELLAR_ERR_CLI_USAGE", "replicas must be at least 1 and encoders at least 0", {});
  }
  if (store !== "postgres" && (replicas > 1 || encoderCount > 0)) {
    throw new CliError("CELLAR_ERR_CLI_USAGE", "replicas and encoders share a database: add --store postgres", {});
  }
  const dir = resolve(options.dir);
  const file = join(dir, DEVNET_FILE);
  await prepareDir(dir, file);
  await mkdir(join(dir, "logs"), { recursive: true });

  let anvil: Anvil | null = null;
  let postgres: Postgres | null = null;
  const nodeChildren: ChildServer[] = [];
  const services: ChildServer[] = [];
  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      // The disperser and the light node first, so nothing writes to nodes that are going away.
      await Promise.all(services.map((c) => c.stop()));
      await Promise.all(nodeChildren.map((c) => c.stop()));
      await anvil?.stop();
      await postgres?.close();
    })();
    return stopped;
  };

  try {
    // Nodes, the light node, the replicas, the encoders.
    const ports = await freePorts(count + 1 + replicas + encoderCount);
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    // The disperser's signing key: the nodes accept dispersals signed with it and no other.
    const disperserDir = join(dir, "disperser");
    await mkdir(disperserDir, { recursive: true });
    const disperserKey = join(disperserDir, "disperser.key");
    const disperserIdentity = await createKeyFile(disperserKey);
    const identities: NodeIdentity[] = [];
    for (let i = 0; i < count; i++) {
      await mkdir(join(dir, "nodes", String(i)), { recursive: true });
      identities.push(await createKeyFile(join(dir, "nodes", String(i), "node.key")));
    }

    const l1 = options.l1 ?? cellarL1;
    anvil = await l1.startAnvil();
    const rpcUrl = anvil.rpcUrl;
    const account = anvil.accounts[0] as Anvil["accounts"][number];
    step(`anvil on ${rpcUrl} (chain ${anvil.chainId})`);
    // A small bond and short delays: the devnet's own account pays every node's stake.
    const deployed = await l1.deployContracts({
      rpcUrl,
      privateKey: account.privateKey,
      minimumStake: DEVNET_MINIMUM_STAKE,
      unbondingBlocks: DEVNET_UNBONDING_BLOCKS,
      referenceWindow: DEVNET_REFERENCE_WINDOW,
    });
    step(`contracts deployed: registry ${deployed.registry}, inbox ${deployed.inbox}`);
    // One sender, so one registration at a time (nonces in order).
    for (const [i, identity] of identities.entries())
      await l1.registerNode({
        rpcUrl,
        privateKey: account.privateKey,
        registry: deployed.registry,
        secretKey: identity.secretKey,
        url: urls[i] as string,
      });
    // The disperser bonds and registers its key too: the nodes learn whom to accept from L1.
    await l1.registerDisperser({
      rpcUrl,
      privateKey: account.privateKey,
      registry: deployed.registry,
      secretKey: disperserIdentity.secretKey,
      url: urls[count + 1] as string,
    });
    // The node set as L1 has it: what every process is given, in registry order with its indexes.
    const set = await l1.readNodeSet({ rpcUrl, registry: deployed.registry });
    step(`${set.length} storage nodes registered with their proofs of possession`);
    const chainId = Number(deployed.chainId);
    const inbox = deployed.inbox;
    const nodeSet = join(dir, "nodes.json");
    // The file carries each node's operator and proof of possession, bound as the registry checked them.
    const binding = {
      operator: fromHex(account.address, 20, "operator"),
      chainId: deployed.chainId,
      registry: fromHex(deployed.registry, 20, "registry"),
    };
    const withProofs = set.map((record) => {
      const identity = identities.find((id) => bytesEqual(id.publicKey, record.publicKey)) as NodeIdentity;
      return { ...record, proofOfPossession: proofOfPossession(identity.secretKey, binding) };
    });
    await writeFile(nodeSet, `${JSON.stringify(nodeSetToJson(withProofs, binding), null, 2)}\n`);
    // Every process reads the node set from the registry (and follows it); the file is for clients.
    const common = [
      ...["--rpc", rpcUrl, "--registry", deployed.registry],
      ...["--chain-id", String(chainId), "--inbox", inbox, "--replication", String(replication)],
      ...["--log-level", logLevel],
    ];
    const logs = (name: string) => join(dir, "logs", `${name}.log`);

    // As many starting at once as there are cores: each child loads the KZG setup, and a burst of
    // ten would starve everything else on the machine. A failure lets the starts in flight finish
    // (so stop() sees them) and starts no more.
    const width = Math.max(1, availableParallelism());
    const nodes = await mapConcurrent(set, width, async (record, i) => {
      const dataDir = join(dir, "nodes", String(i));
      const keyFile = join(dataDir, "node.key");
      const log = logs(`node-${i}`);
      const child = await spawnServer({
        args: [
          ...["node", "--data", dataDir, "--key", keyFile, "--host", "127.0.0.1", "--port", String(ports[i])],
          ...common,
        ],
        timeoutMs,
        logFile: log,
      });
      nodeChildren.push(child);
      return { record, child, dataDir, keyFile, log };
    });
    step(`${nodes.length} storage nodes listening`);
    if (store === "postgres") {
      postgres = await startPostgres();
      step(`PostgreSQL on 127.0.0.1:${postgres.port}`);
    }
    const shared = postgres ? ["--store", postgres.url] : ["--data", disperserDir];
    // The light node's URL is known before it listens, so the services start together; every
    // replica signs with the one disperser key.
    const lightUrl = urls[count] as string;
    const [light, disperser, ...others] = (await mapConcurrent(
      [
        { role: "light", name: "light", port: ports[count], extra: [] as string[] },
        ...Array.from({ length: replicas }, (_, r) => ({
          role: "disperser",
          name: r === 0 ? "disperser" : `disperser-${r}`,
          port: ports[count + 1 + r],
          extra: ["--light", lightUrl, "--key", disperserKey, ...shared, "--sample-before-commit"],
        })),
        ...Array.from({ length: encoderCount }, (_, e) => ({
          role: "encoder",
          name: `encoder-${e}`,
          port: ports[count + 1 + replicas + e],
          extra: ["--store", postgres?.url ?? ""],
        })),
      ],
      2,
      async ({ role, name, port, extra }) => {
        // An encoder needs only the database: the chain's flags are the other roles'.
        const flags = role === "encoder" ? ["--log-level", logLevel] : common;
        const child = await spawnServer({
          args: [role, "--host", "127.0.0.1", "--port", String(port), ...flags, ...extra],
          timeoutMs,
          logFile: logs(name),
        });
        services.push(child);
        return child;
      },
    )) as [ChildServer, ChildServer, ...ChildServer[]];
    const replicaChildren = [disperser, ...others.slice(0, replicas - 1)];
    const encoderChildren = others.slice(replicas - 1);
    step(
      `light node on ${light.url}, disperser on ${replicaChildren.map((c) => c.url).join(", ")}` +
        (encoderChildren.length > 0 ? `, ${encoderChildren.length} encoder(s)` : ""),
    );

    const info: DevnetInfo = {
      version: 1,
      pid: process.pid,
      dir,
      chainId,
      l1: {
        rpc: rpcUrl,
        pid: anvil.pid,
        registry: deployed.registry,
        inbox: deployed.inbox,
        account: { address: account.address, privateKey: account.privateKey },
      },
      inbox,
      replication,
      nodeSet,
      disperser: service(disperser, logs("disperser")),
      light: service(light, logs("light")),
      ...(postgres
        ? {
            postgres: { url: postgres.url, dir: postgres.dir },
            replicas: replicaChildren.map((c, r) => service(c, logs(r === 0 ? "disperser" : `disperser-${r}`))),
            encoders: encoderChildren.map((c, e) => service(c, logs(`encoder-${e}`))),
          }
        : {}),
      nodes: nodes.map(
        ({ record, child, dataDir, keyFile, log }): DevnetNode => ({
          index: record.index,
          ...service(child, log),
          dataDir,
          keyFile,
          publicKey: toHex(record.publicKey),
          nodeId: toHex(record.nodeId),
        }),
      ),
    };
    await writeDevnetFile(file, info);
    return {
      info,
      file,
      children: [...nodes.map((n) => n.child), light, ...replicaChildren, ...encoderChildren],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function service(child: ChildServer, log: string) {
  return { url: child.url, pid: child.pid, command: child.command, log };
}

/**
 * A devnet directory must be new, empty, or a stopped devnet's (then its old contents go: a new
 * chain makes old keys and stores meaningless). A live devnet's directory, or any other
 * non-empty directory, is refused.
 */
async function prepareDir(dir: string, file: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  if (entries.length === 0) return;
  if (!entries.includes(DEVNET_FILE))
    throw new CliError(
      "CELLAR_ERR_CLI_OUTPUT_EXISTS",
      `${dir} is not empty and holds no devnet; choose another --dir`,
      {
        path: dir,
      },
    );
  const old = await readDevnetFile(file);
  const fleet = [...(old.replicas ?? []), ...(old.encoders ?? [])].map((s) => s.pid);
  const live = [
    old.pid,
    old.l1?.pid,
    old.disperser.pid,
    old.light.pid,
    ...old.nodes.map((n) => n.pid),
    ...fleet,
  ].filter((pid): pid is number => pid !== undefined && pid !== process.pid && isAlive(pid));
  if (live.length > 0)
    throw new CliError(
      "CELLAR_ERR_CLI_OUTPUT_EXISTS",
      `a devnet still runs in ${dir} (pids ${live.join(", ")}); stop it or choose another --dir`,
      { path: dir },
    );
  for (const entry of entries) await rm(join(dir, entry), { recursive: true, force: true });
}
