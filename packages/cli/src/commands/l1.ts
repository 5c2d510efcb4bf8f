import { type Address, deployContracts, deregisterNode, readRegistry, registerNode, withdrawNode } from "@cellar/l1";
import { readKeyFile } from "@cellar/node";
import { toHex } from "@cellar/utils";
import { CliError } from "../errors.js";
import { type Io, printJson } from "../output.js";

type Hex = `0x${string}`;

interface L1Flags {
  rpc: string;
  privateKey?: string;
  registry?: string;
  json: boolean;
}

/** "2/3" or a fraction such as 0.75 → numerator and denominator of the inbox's quorum. */
export function parseQuorum(value: string): { numerator: number; denominator: number } {
  const ratio = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (ratio) {
    const numerator = Number(ratio[1]);
    const denominator = Number(ratio[2]);
    if (numerator >= 1 && numerator <= denominator) return { numerator, denominator };
  } else {
    const x = Number(value);
    if (x > 0 && x <= 1) {
      const denominator = 10_000;
      return { numerator: Math.max(1, Math.round(x * denominator)), denominator };
    }
  }
  throw new CliError("CELLAR_ERR_CLI_INPUT", `--quorum must be a fraction in (0, 1] such as 2/3 or 0.75, got ${value}`);
}

/** `cellar l1 deploy`: a registry (or an existing one) and an inbox bound to it. */
export function integer(value: string | undefined, flag: string): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new CliError("CELLAR_ERR_CLI_INPUT", `${flag} must be a non-negative integer, got ${value}`);
  return BigInt(value);
}

export async function l1DeployCommand(
  options: L1Flags & {
    quorum: string;
    minimumStake?: string;
    unbondingBlocks?: string;
    referenceWindow?: string;
    permissioned?: boolean;
  },
  io: Io,
): Promise<void> {
  const { numerator, denominator } = parseQuorum(options.quorum);
  const minimumStake = integer(options.minimumStake, "--minimum-stake");
  const unbonding = integer(options.unbondingBlocks, "--unbonding-blocks");
  const window = integer(options.referenceWindow, "--reference-window");
  const deployed = await deployContracts({
    rpcUrl: options.rpc,
    privateKey: options.privateKey as Hex,
    ...(options.registry === undefined ? {} : { registry: options.registry as Address }),
    quorumNumerator: numerator,
    quorumDenominator: denominator,
    ...(minimumStake === undefined ? {} : { minimumStake }),
    ...(unbonding === undefined ? {} : { unbondingBlocks: Number(unbonding) }),
    ...(window === undefined ? {} : { referenceWindow: Number(window) }),
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
export async function l1RegisterCommand(
  options: L1Flags & { key: string; url: string; stake?: string },
  io: Io,
): Promise<void> {
  const identity = await readKeyFile(options.key);
  const stake = integer(options.stake, "--stake");
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
export async function l1DeregisterCommand(index: number, options: L1Flags, io: Io): Promise<void> {
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
export async function l1WithdrawCommand(index: number, options: L1Flags, io: Io): Promise<void> {
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
export async function l1NodesCommand(options: L1Flags, io: Io): Promise<void> {
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
