import { availableParallelism } from "node:os";
import { DEFAULT_TARGET } from "@cellar/light";
import { DEFAULT_REPLICATION } from "@cellar/protocol";
import { type Command, Option, type OptionValues } from "@commander-js/extra-typings";
import { chainIdArg, nonNegativeInt, openFraction, port, positiveInt } from "./args.js";

/** Options several server and client commands share, defined once. */

export const hostOption = () =>
  new Option("--host <host>", "address to listen on").env("CELLAR_HOST").default("127.0.0.1");

export const portOption = (fallback: number) =>
  new Option("--port <port>", "port to listen on (0: any free port)")
    .env("CELLAR_PORT")
    .argParser(port)
    .default(fallback);

export const replicationOption = () =>
  new Option("--replication <r>", "custodians per column").argParser(positiveInt).default(DEFAULT_REPLICATION);

/** The target confidence of a sampling light client (the light client's default). */
export const confidenceOption = (what = "target confidence") =>
  new Option("--confidence <x>", what).argParser(openFraction).default(DEFAULT_TARGET, "1 - 1e-6");

/** Blobs encoded or decoded at once. */
export const concurrencyOption = () =>
  new Option("--concurrency <n>", `blobs processed at once (default: ${availableParallelism()}, the core count)`)
    .argParser(positiveInt)
    .env("CELLAR_CONCURRENCY");

/** The L1 chain attestations and certificates are bound to. */
export const chainIdOption = (what: string) =>
  new Option("--chain-id <id>", `chain id ${what} bound to`)
    .env("CELLAR_CHAIN_ID")
    .argParser(chainIdArg)
    .default("31337");

export const inboxOption = (what: string) =>
  new Option("--inbox <address>", `inbox address ${what} bound to`).env("CELLAR_INBOX").default(`0x${"00".repeat(20)}`);

export const logLevelOption = () =>
  new Option("--log-level <level>", "log level").choices(["fatal", "error", "warn", "info", "debug"]).default("info");

export const nodesOption = (note = "") =>
  new Option("--nodes <file>", `node set JSON {nodes: [{publicKey, url}]}${note}`).env("CELLAR_NODES");

/** A devnet.json (written by `cellar devnet`) that client commands take their services from. */
export const devnetOption = () =>
  new Option("--devnet <file>", "devnet.json of a running `cellar devnet`: services and addresses come from it").env(
    "CELLAR_DEVNET",
  );

/** The disperser a client talks to; without it, the devnet's or http://127.0.0.1:7000. */
export const disperserOption = () =>
  new Option("--disperser <url>", "disperser URL (default: the devnet's, else http://127.0.0.1:7000)").env(
    "CELLAR_DISPERSER",
  );

/** The L1 JSON-RPC endpoint (node set, trusted roots, settlement). */
export const rpcOption = () => new Option("--rpc <url>", "L1 JSON-RPC URL").env("CELLAR_RPC");

/** The L1 node registry the node set is read from (instead of --nodes). */
export const registryOption = () =>
  new Option("--registry <address>", "read the node set from this L1 registry contract (with --rpc)").env(
    "CELLAR_REGISTRY",
  );

/** The key of the L1 account that pays for transactions. */
export const privateKeyOption = () =>
  new Option("--private-key <hex>", "L1 account key that signs and pays (0x + 64 hex digits)").env(
    "CELLAR_PRIVATE_KEY",
  );

/** The HTTP limits every server shares (docs/OPERATING.md → Limits), as flags. */
export interface LimitFlags {
  readonly rateLimit?: number;
  readonly maxConnections?: number;
  readonly requestTimeout?: number;
  readonly headersTimeout?: number;
}

export const rateLimitOption = () =>
  new Option("--rate-limit <n>", "requests per minute one client address may make (0: no limit)")
    .env("CELLAR_RATE_LIMIT")
    .argParser(nonNegativeInt);

export const maxConnectionsOption = () =>
  new Option("--max-connections <n>", "open connections at once (default 1024)")
    .env("CELLAR_MAX_CONNECTIONS")
    .argParser(positiveInt);

export const requestTimeoutOption = () =>
  new Option("--request-timeout <seconds>", "time a client has to send a whole request, body included (default 120)")
    .env("CELLAR_REQUEST_TIMEOUT")
    .argParser(positiveInt);

export const headersTimeoutOption = () =>
  new Option("--headers-timeout <seconds>", "time a client has to send its request headers (default 10)")
    .env("CELLAR_HEADERS_TIMEOUT")
    .argParser(positiveInt);

/** The `limits` a service takes, from the flags given (the rest keep the service's defaults). */
export function limitsOf(flags: LimitFlags): {
  rateLimit?: { max: number; windowMs: number };
  maxConnections?: number;
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
} {
  return {
    ...(flags.rateLimit === undefined ? {} : { rateLimit: { max: flags.rateLimit, windowMs: 60_000 } }),
    ...(flags.maxConnections === undefined ? {} : { maxConnections: flags.maxConnections }),
    ...(flags.requestTimeout === undefined ? {} : { requestTimeoutMs: flags.requestTimeout * 1000 }),
    ...(flags.headersTimeout === undefined ? {} : { headersTimeoutMs: flags.headersTimeout * 1000 }),
  };
}

/** What `withServerOptions` adds to a server's options. */
export type ServerFlags = {
  rateLimit?: number;
  maxConnections?: number;
  requestTimeout?: number;
  headersTimeout?: number;
  logLevel: string;
  json: boolean;
};

/**
 * The flags every server shares, after its own: the HTTP limits (docs/OPERATING.md → Limits), the
 * log level and `--json` for the ready line.
 */
export function withServerOptions<Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(
  command: Command<Args, Opts, Globals>,
): Command<Args, Opts & ServerFlags, Globals> {
  return command
    .addOption(rateLimitOption())
    .addOption(maxConnectionsOption())
    .addOption(requestTimeoutOption())
    .addOption(headersTimeoutOption())
    .addOption(logLevelOption())
    .option("--json", "print the ready line as JSON", false) as unknown as Command<Args, Opts & ServerFlags, Globals>;
  // (extra-typings nests one type per flag; the flat intersection is the same options, and keeps
  // declaration files small.)
}
