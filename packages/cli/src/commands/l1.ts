import {
  type Address,
  DEFAULT_MINIMUM_STAKE,
  DEFAULT_REFERENCE_WINDOW,
  DEFAULT_UNBONDING_BLOCKS,
  deployContracts,
  deregisterNode,
  readRegistry,
  registerNode,
  withdrawNode,
} from "@cellar/l1";
import { readKeyFile } from "@cellar/node";
import { toHex } from "@cellar/utils";
import { Command, Option } from "@commander-js/extra-typings";
import { quorumRatio, registryIndex, uintDigits } from "../args.js";
import type { CommandContext, CommandModule, OptionsOf } from "../command.js";
import { withDevnet } from "../devnet/use-devnet.js";
import { devnetOption, privateKeyOption, registryOption, rpcOption } from "../options.js";
import { type Io, printJson } from "../output.js";

type Hex = `0x${string}`;

/** What every `l1` subcommand takes: the RPC (and for writes the paying key), a devnet, --json. */
const l1Command = (name: string, description: string) =>
  new Command(name)
    .description(description)
    .addOption(rpcOption())
    .addOption(devnetOption())
    .option("--json", "print the answer as JSON", false);

export const l1DeployDefinition = () =>
  l1Command("deploy", "deploy a node registry (unless --registry names one) and a batch inbox bound to it")
    .addOption(privateKeyOption())
    .addOption(new Option("--registry <address>", "bind the inbox to this existing registry"))
    .addOption(
      new Option("--quorum <fraction>", "share of the snapshot's stake a certificate needs")
        .argParser(quorumRatio)
        .default(quorumRatio("2/3"), "2/3"),
    )
    .addOption(
      new Option("--minimum-stake <wei>", "the least bond of a node or disperser, in wei")
        .argParser(uintDigits)
        .default(DEFAULT_MINIMUM_STAKE.toString()),
    )
    .addOption(
      new Option("--unbonding-blocks <n>", "blocks between leaving and withdrawing")
        .argParser(uintDigits)
        .default(String(DEFAULT_UNBONDING_BLOCKS)),
    )
    .addOption(
      new Option("--reference-window <n>", "how many blocks old a certificate's reference may be")
        .argParser(uintDigits)
        .default(String(DEFAULT_REFERENCE_WINDOW)),
    )
    .option("--permissioned", "only allow-listed operators may register (on top of the bond)", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar l1 deploy --rpc http://127.0.0.1:8545 --private-key 0x…
  $ cellar l1 deploy --rpc http://127.0.0.1:8545 --private-key 0x… --registry 0x… --quorum 3/4 --json`,
    );

export const l1RegisterDefinition = () =>
  l1Command("register", "register a storage node's BLS key (checked on chain with its proof of possession) and URL")
    .addOption(privateKeyOption())
    .requiredOption("--key <file>", "the node's key file (cellar keygen, or DIR/node.key of a node)")
    .requiredOption("--url <url>", "the URL the node serves on")
    .option("--stake <wei>", "the bond, in wei (default: the registry's minimum)", uintDigits)
    .addOption(registryOption())
    .addHelpText(
      "after",
      `
Examples:
  $ cellar keygen -o node1.key
  $ cellar l1 register --key node1.key --url http://10.0.0.5:7100 --rpc http://127.0.0.1:8545 --registry 0x… --private-key 0x…`,
    );

export const l1DeregisterDefinition = () =>
  l1Command(
    "deregister",
    "take a node out of the active set (the account that registered it only) and start its unbonding; its index stays reserved",
  )
    .addOption(privateKeyOption())
    .argument("<index>", "the node's registry index", registryIndex)
    .addOption(registryOption())
    .addHelpText("after", "\nExample:\n  $ cellar l1 deregister 3 --devnet devnet/devnet.json");

export const l1WithdrawDefinition = () =>
  l1Command("withdraw", "pay a left node's bond back to its operator once the unbonding delay has passed")
    .addOption(privateKeyOption())
    .argument("<index>", "the node's registry index", registryIndex)
    .addOption(registryOption())
    .addHelpText("after", "\nExample:\n  $ cellar l1 withdraw 3 --devnet devnet/devnet.json");

export const l1NodesDefinition = () =>
  l1Command("nodes", "list every registry slot in order: index, active, URL, key, node id, operator")
    .addOption(registryOption())
    .addHelpText(
      "after",
      "\nExamples:\n  $ cellar l1 nodes --devnet devnet/devnet.json\n  $ cellar l1 nodes --rpc http://127.0.0.1:8545 --registry 0x… --json",
    );

type Filled<T, K extends keyof T> = T & { [P in K]-?: NonNullable<T[P]> };
export type L1DeployOptions = Filled<OptionsOf<typeof l1DeployDefinition>, "rpc" | "privateKey">;
export type L1RegisterOptions = Filled<OptionsOf<typeof l1RegisterDefinition>, "rpc" | "registry" | "privateKey">;
export type L1IndexOptions = Filled<OptionsOf<typeof l1DeregisterDefinition>, "rpc" | "registry" | "privateKey">;
export type L1NodesOptions = Filled<OptionsOf<typeof l1NodesDefinition>, "rpc" | "registry">;

/** `cellar l1 …`: the L1 contracts' subcommands. */
export const l1: CommandModule = ({ io, run }: CommandContext) => {
  const parent = new Command("l1").description(
    "the L1 contracts: deploy them, register or take out a storage node, list the registry",
  );
  parent.addCommand(
    l1DeployDefinition().action((options, command) =>
      run(withDevnet(options, command, ["rpc", "privateKey"]).then((o) => l1DeployCommand(o, io))),
    ),
  );
  parent.addCommand(
    l1RegisterDefinition().action((options, command) =>
      run(withDevnet(options, command, ["rpc", "registry", "privateKey"]).then((o) => l1RegisterCommand(o, io))),
    ),
  );
  parent.addCommand(
    l1DeregisterDefinition().action((index, options, command) =>
      run(
        withDevnet(options, command, ["rpc", "registry", "privateKey"]).then((o) => l1DeregisterCommand(index, o, io)),
      ),
    ),
  );
  parent.addCommand(
    l1WithdrawDefinition().action((index, options, command) =>
      run(withDevnet(options, command, ["rpc", "registry", "privateKey"]).then((o) => l1WithdrawCommand(index, o, io))),
    ),
  );
  parent.addCommand(
    l1NodesDefinition().action((options, command) =>
      run(withDevnet(options, command, ["rpc", "registry"]).then((o) => l1NodesCommand(o, io))),
    ),
  );
  return parent;
};

export async function l1DeployCommand(options: L1DeployOptions, io: Io): Promise<void> {
  const { numerator, denominator } = options.quorum;
  const deployed = await deployContracts({
    rpcUrl: options.rpc,
    privateKey: options.privateKey as Hex,
    ...(options.registry === undefined ? {} : { registry: options.registry as Address }),
    quorumNumerator: numerator,
    quorumDenominator: denominator,
    minimumStake: BigInt(options.minimumStake),
    unbondingBlocks: Number(options.unbondingBlocks),
    referenceWindow: Number(options.referenceWindow),
    permissioned: options.permissioned === true,
  });
  const summary = { chainId: Number(deployed.chainId), registry: deployed.registry, inbox: deployed.inbox };
  if (options.json) printJson(io, summary);
  else
    io.stdout.write(
      `registry     ${summary.registry}\ninbox        ${summary.inbox} (quorum ${numerator}/${denominator})\nchain id     ${summary.chainId}\n`,
    );
}

/** `cellar l1 register`: registers a node's key (with its proof of possession) and URL. */
export async function l1RegisterCommand(options: L1RegisterOptions, io: Io): Promise<void> {
  const identity = await readKeyFile(options.key);
  const stake = options.stake === undefined ? undefined : BigInt(options.stake);
  // The proof of possession is made here, bound to the paying account, the chain and the registry.
  const mined = await registerNode({
    rpcUrl: options.rpc,
    privateKey: options.privateKey as Hex,
    registry: options.registry as Address,
    url: options.url,
    secretKey: identity.secretKey,
    ...(stake === undefined ? {} : { stake }),
  });
  const summary = {
    index: mined.index,
    nodeId: toHex(identity.nodeId),
    publicKey: toHex(identity.publicKey),
    url: options.url,
    txHash: mined.txHash,
    blockNumber: Number(mined.blockNumber),
  };
  if (options.json) printJson(io, summary);
  else io.stdout.write(`registered as node ${summary.index} (node id ${summary.nodeId}) in ${summary.txHash}\n`);
}

/** `cellar l1 deregister INDEX`: takes a node out of the active set (its operator only). */
export async function l1DeregisterCommand(index: number, options: L1IndexOptions, io: Io): Promise<void> {
  const mined = await deregisterNode({
    rpcUrl: options.rpc,
    privateKey: options.privateKey as Hex,
    registry: options.registry as Address,
    index,
  });
  if (options.json) printJson(io, { index, txHash: mined.txHash, blockNumber: Number(mined.blockNumber) });
  else io.stdout.write(`node ${index} left the registry in ${mined.txHash}\n`);
}

/** `cellar l1 withdraw INDEX`: pays a left node's bond back once its unbonding delay has passed. */
export async function l1WithdrawCommand(index: number, options: L1IndexOptions, io: Io): Promise<void> {
  const mined = await withdrawNode({
    rpcUrl: options.rpc,
    privateKey: options.privateKey as Hex,
    registry: options.registry as Address,
    index,
  });
  if (options.json) printJson(io, { index, txHash: mined.txHash, blockNumber: Number(mined.blockNumber) });
  else io.stdout.write(`node ${index}'s bond was paid back in ${mined.txHash}\n`);
}

/** `cellar l1 nodes`: every registry slot in order, active or not. */
export async function l1NodesCommand(options: L1NodesOptions, io: Io): Promise<void> {
  const slots = await readRegistry({ rpcUrl: options.rpc, registry: options.registry as Address });
  const rows = slots.map((s) => ({
    index: s.index,
    active: s.active,
    url: s.url,
    publicKey: toHex(s.publicKey),
    nodeId: toHex(s.nodeId),
    operator: s.operator,
    stake: s.stake.toString(),
  }));
  if (options.json) {
    printJson(io, { nodes: rows });
    return;
  }
  io.stdout.write(
    `${["index  active  url", ...rows.map((r) => `${String(r.index).padStart(5)}  ${r.active ? "yes   " : "left  "}  ${r.url}`)].join("\n")}\n`,
  );
}
