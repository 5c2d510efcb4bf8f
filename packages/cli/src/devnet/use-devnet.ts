import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { type DevnetInfo, readDevnetFile } from "./devnet-file.js";

/** Where each option a client command may take is found in a devnet.json. */
const FROM_DEVNET: Record<string, (d: DevnetInfo) => string> = {
  disperser: (d) => d.disperser.url,
  light: (d) => d.light.url,
  nodes: (d) => d.nodeSet,
  chainId: (d) => String(d.chainId),
  inbox: (d) => d.inbox,
  replication: (d) => String(d.replication),
  rpc: (d) => d.l1.rpc,
  registry: (d) => d.l1.registry,
  privateKey: (d) => d.l1.account.privateKey,
};

/** Built-in fallbacks for options whose help names one but that carry no commander default. */
export const CLIENT_DEFAULTS: Record<string, string> = { disperser: "http://127.0.0.1:7000" };

/**
 * A client command's options completed from `--devnet FILE` (or CELLAR_DEVNET): every option the
 * command defines that was not given on the command line or in its own environment variable
 * takes the devnet's value; what is still missing takes CLIENT_DEFAULTS. Options named in
 * `required` that stay unset are a usage error (exit 2).
 */
export async function withDevnet<T extends { devnet?: string | undefined }, K extends keyof T & string = never>(
  options: T,
  command: CommandUnknownOpts,
  required: readonly K[] = [],
): Promise<T & { [P in K]-?: NonNullable<T[P]> }> {
  const out: Record<string, unknown> = { ...options };
  const defined = new Set(command.options.map((o) => o.attributeName()));
  const given = (name: string) => {
    const source = command.getOptionValueSource(name);
    return source === "cli" || source === "env";
  };
  if (options.devnet !== undefined) {
    const info = await readDevnetFile(options.devnet);
    for (const [name, pick] of Object.entries(FROM_DEVNET)) {
      if (!defined.has(name) || given(name)) continue;
      const value = pick(info);
      // A numeric option keeps its type: the devnet file stores strings for those parsed here.
      out[name] = typeof out[name] === "number" ? Number(value) : value;
    }
  }
  for (const [name, value] of Object.entries(CLIENT_DEFAULTS))
    if (defined.has(name) && out[name] === undefined) out[name] = value;
  for (const name of required)
    if (out[name] === undefined) {
      const flag = command.options.find((o) => o.attributeName() === name)?.long ?? name;
      command.error(`${command.name()} needs ${flag} or --devnet FILE (or CELLAR_DEVNET)`, { exitCode: 2 });
    }
  return out as T & { [P in K]-?: NonNullable<T[P]> };
}
