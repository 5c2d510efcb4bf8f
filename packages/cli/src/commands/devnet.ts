import { relative } from "node:path";
import { startDevnet } from "../devnet/devnet.js";
import type { DevnetInfo } from "../devnet/devnet-file.js";
import { type Io, printJson } from "../output.js";
import { firstSignal } from "../server.js";

export interface DevnetCommandOptions {
  readonly nodes: number;
  readonly dir: string;
  readonly store: "lmdb" | "postgres";
  readonly replicas: number;
  readonly encoders: number;
  readonly logLevel: string;
  readonly json: boolean;
}

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
  if (info.postgres) rows.push(["postgres", info.postgres.url, ""]);
  const replicas = info.replicas ?? [info.disperser];
  for (const [r, d] of replicas.entries())
    rows.push([replicas.length > 1 ? `disperser ${r}` : "disperser", d.url, String(d.pid)]);
  for (const [e, enc] of (info.encoders ?? []).entries()) rows.push([`encoder ${e}`, enc.url, String(enc.pid)]);
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
