import { sharedKzg } from "@cellar/kzg";
import { type Address, inboxFeed } from "@cellar/l1";
import { LIGHT_DEFAULTS, LightNode } from "@cellar/light";
import { Command, Option } from "@commander-js/extra-typings";
import { needNodeSet, positiveInt } from "../args.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { inboxOnL1, loadNodeSet, nodeFeedOf, snapshotsOf } from "../config.js";
import {
  chainIdOption,
  confidenceOption,
  hostOption,
  inboxOption,
  limitsOf,
  nodesOption,
  portOption,
  registryOption,
  replicationOption,
  rpcOption,
  withServerOptions,
} from "../options.js";
import type { Io } from "../output.js";
import { domainOf, runServer } from "../runtime.js";

export const lightDefinition = () =>
  withServerOptions(
    new Command("light")
      .description("run a light node: sample the batches registered with it, serve their availability")
      .addOption(nodesOption())
      .addOption(rpcOption())
      .addOption(registryOption())
      .addOption(hostOption())
      .addOption(portOption(LIGHT_DEFAULTS.port))
      .addOption(confidenceOption())
      .addOption(chainIdOption("certificates are"))
      .addOption(inboxOption("certificates are (with --rpc: every batch it records is sampled)"))
      .addOption(replicationOption())
      .addOption(
        new Option("--interval <seconds>", "pause between sampling rounds of a batch")
          .argParser(positiveInt)
          .default(LIGHT_DEFAULTS.intervalMs / 1000),
      )
      .addOption(
        new Option("--round-deadline <seconds>", "longest one sampling round may take")
          .argParser(positiveInt)
          .default(LIGHT_DEFAULTS.roundDeadlineMs / 1000),
      ),
  ).addHelpText(
    "after",
    `
Examples:
  $ cellar light --nodes nodes.json
  $ cellar disperser --nodes nodes.json --light http://127.0.0.1:7200   the disperser registers every certified batch
  $ cellar light --rpc http://127.0.0.1:8545 --registry 0x… --inbox 0x…   samples every batch settled on L1

API: PUT /v1/batches/:id {certificate}; GET /v1/batches/:id/availability; /healthz; /metrics.`,
  );

export type LightCommandOptions = OptionsOf<typeof lightDefinition>;

export const light: CommandModule = ({ io, run }) =>
  lightDefinition().action((options, command) => run(lightCommand(needNodeSet(options, command), io)));

/**
 * `cellar light`: a light node sampling the batches registered with it, until SIGINT/SIGTERM.
 * With --rpc and --inbox it also samples every batch the L1 inbox records (its trusted roots),
 * and with --registry it reads and follows the node set from the L1 registry.
 */
export async function lightCommand(options: LightCommandOptions, io: Io): Promise<void> {
  await runServer(io, { role: "light", ...options }, async (logger) => {
    const snapshots = snapshotsOf(options);
    const light = new LightNode(
      {
        nodes: await loadNodeSet(options),
        ...(snapshots ? { snapshots } : {}),
        domain: domainOf(options),
        replication: options.replication,
        target: options.confidence,
        intervalMs: options.interval * 1000,
        roundDeadlineMs: options.roundDeadline * 1000,
        limits: limitsOf(options),
        host: options.host,
        port: options.port,
        ...nodeFeedOf(options),
        // The batches the L1 inbox records are sampled too (about the last day's, then each new
        // one), their custody the snapshot's at the reference the inbox recorded.
        ...(inboxOnL1(options)
          ? { inboxFeed: inboxFeed({ rpcUrl: options.rpc as string, inbox: options.inbox as Address }) }
          : {}),
      },
      { kzg: sharedKzg({ precompute: false }), logger },
    );
    return {
      service: light,
      ready: (url) => {
        const explorer = `${url}/explorer/`;
        return { json: { explorer }, text: `cellar light listening on ${url} (explorer: ${explorer})\n` };
      },
    };
  });
}
