import { relative } from "node:path";
import { Command, Option } from "@commander-js/extra-typings";
import { nonNegativeInt, positiveInt } from "../args.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { DEFAULT_DEVNET_NODES, startDevnet } from "../devnet/devnet.js";
import type { DevnetInfo } from "../devnet/devnet-file.js";
import { EXIT_USAGE } from "../errors.js";
import { logLevelOption } from "../options.js";
import { type Io, printJson } from "../output.js";
import { firstSignal } from "../runtime.js";

export const devnetDefinition = () =>
  new Command("devnet")
    .description(
      "run a local network until Ctrl-C: anvil with the contracts, N registered storage nodes, a disperser and a light node",
    )
    .addOption(
      new Option("--nodes <n>", "storage nodes to run")
        .argParser(positiveInt)
        .default(DEFAULT_DEVNET_NODES)
        .env("CELLAR_DEVNET_NODES"),
    )
    .addOption(
      new Option("--dir <dir>", "where keys, stores, logs and devnet.json go (new, empty or a stopped devnet's)")
        .default("devnet")
        .env("CELLAR_DEVNET_DIR"),
    )
    .addOption(
      new Option("--store <kind>", "the disperser's store: its own LMDB, or a PostgreSQL the devnet starts")
        .choices(["lmdb", "postgres"] as const)
        .default("lmdb" as const),
    )
    .addOption(
      new Option("--replicas <n>", "disperser replicas on the shared database (needs --store postgres)")
        .argParser(positiveInt)
        .default(1),
    )
    .addOption(
      new Option("--encoders <n>", "cellar encoder processes for the replicas' blobs (needs --store postgres)")
        .argParser(nonNegativeInt)
        .default(0),
    )
    .addOption(logLevelOption())
    .option("--json", "print the devnet (devnet.json plus its path) as one JSON line once ready", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar devnet                               8 nodes; writes devnet/devnet.json
  $ cellar devnet --nodes 4 --dir /tmp/dn       a smaller one elsewhere
  $ cellar devnet --replicas 2 --encoders 2 --store postgres   two replicas, an encoder fleet
  $ cellar post batch.bin --devnet devnet/devnet.json   use it from another terminal
Every process is a child on a free 127.0.0.1 port; SIGINT or SIGTERM stops them all. A node's
"command" in devnet.json restarts it on its port with its data.`,
    );

export type DevnetCommandOptions = OptionsOf<typeof devnetDefinition>;

export const devnet: CommandModule = ({ io, run }) =>
  devnetDefinition().action((options, command) => {
    if (options.store !== "postgres" && (options.replicas > 1 || options.encoders > 0))
      command.error("error: --replicas and --encoders share a database: add --store postgres", {
        exitCode: EXIT_USAGE,
      });
    run(devnetCommand(options, io));
  });

/**
 * `cellar devnet`: a whole local network as child processes, described in DIR/devnet.json, until
 * SIGINT or SIGTERM; then every child is stopped before the command returns.
 */
export async function devnetCommand(options: DevnetCommandOptions, io: Io): Promise<void> {
  const signal = firstSignal();
  try {
    const devnet = await startDevnet({
      nodes: options.nodes,
      dir: options.dir,
      store: options.store,
      replicas: options.replicas,
      encoders: options.encoders,
      logLevel: options.logLevel,
      onStep: (message) => {
        if (!options.json) io.stderr.write(`${message}\n`);
      },
    });
    if (options.json) printJson(io, { event: "ready", file: devnet.file, ...devnet.info });
    else io.stdout.write(devnetTable(devnet.info, devnet.file));
    const received = await signal.received;
    await devnet.stop();
    if (options.json) printJson(io, { event: "stopped", signal: received });
    else io.stdout.write(`devnet stopped (${received}); its files stay in ${devnet.info.dir}\n`);
  } finally {
    signal.cancel();
  }
}

/** The short table `cellar devnet` prints once everything listens. */
export function devnetTable(info: DevnetInfo, file: string): string {
  const rows: [string, string, string][] = [];
  rows.push(["anvil", info.l1.rpc, String(info.l1.pid)]);
  rows.push(["registry", info.l1.registry, ""]);
  rows.push(["inbox", info.l1.inbox, ""]);
  rows.push(["disperser", info.disperser.url, String(info.disperser.pid)]);
  rows.push(["light", info.light.url, String(info.light.pid)]);
  rows.push(["explorer", `${info.light.url}/explorer/`, ""]);
  for (const n of info.nodes) rows.push([`node ${n.index}`, n.url, String(n.pid)]);
  const width = Math.max(...rows.map((r) => r[1].length));
  const shown = relative(process.cwd(), file) || file;
  return [
    `cellar devnet: ${info.nodes.length} storage nodes, chain ${info.chainId}`,
    "",
    ...rows.map(([role, where, pid]) => `  ${role.padEnd(10)} ${where.padEnd(width)}  ${pid}`.trimEnd()),
    "",
    `devnet file: ${shown}`,
    `try:         cellar post FILE --devnet ${shown}`,
    "Ctrl-C stops every process.",
    "",
  ].join("\n");
}
