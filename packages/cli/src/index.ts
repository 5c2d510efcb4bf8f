/**
 * The `cellar` command line. `main(argv, io)` runs it in-process (what the `cellar` binary does),
 * resolving to the exit code: 0 success, 1 failure, 2 usage.
 *
 * @example
 * ```ts
 * import { main } from "@cellar/cli";
 * const code = await main(["encode", "batch.bin", "-o", "out/"], process);
 * ```
 *
 * `startDevnet` runs a whole local network as child processes (what `cellar devnet` does) and
 * `runDemo` the whole flow once on a throwaway one (what `cellar demo` does):
 *
 * ```ts
 * import { startDevnet } from "@cellar/cli";
 * const devnet = await startDevnet({ dir: "devnet", nodes: 8 });
 * console.log(devnet.info.disperser.url); // also in devnet/devnet.json
 * await devnet.stop();
 * ```
 *
 * @packageDocumentation
 */

export { disperserKeys } from "./commands/node.js";
export { checkSettled, type SettleSampling, sampleBeforeSettling } from "./commands/settle.js";
export {
  CELLAR_BIN,
  type ChildServer,
  freePorts,
  isAlive,
  type SpawnServerOptions,
  spawnServer,
} from "./devnet/children.js";
export {
  DEFAULT_DEMO_BYTES,
  type DemoOptions,
  type DemoReport,
  type DemoStep,
  demoCheck,
  runDemo,
} from "./devnet/demo.js";
export { DEFAULT_DEVNET_NODES, type Devnet, type DevnetOptions, startDevnet } from "./devnet/devnet.js";
export {
  DEVNET_FILE,
  type DevnetInfo,
  type DevnetNode,
  type DevnetService,
  readDevnetFile,
  writeDevnetFile,
} from "./devnet/devnet-file.js";
export { type Anvil, cellarL1, type L1 } from "./devnet/l1.js";
export { type Postgres, postgresBin, postgresMissing, startPostgres } from "./devnet/postgres.js";
export { withDevnet } from "./devnet/use-devnet.js";
export { CLI_ERROR_CODES, CliError, type CliErrorCode, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./errors.js";
export type { Io } from "./output.js";
export { main, VERSION } from "./program.js";
export { type Vouch, vouchByLightNode, vouchBySampling } from "./vouch.js";
