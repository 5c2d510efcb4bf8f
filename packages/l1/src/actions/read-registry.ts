import { fromHex } from "@cellar/utils";
import type { ContractFunctionReturnType } from "viem";
import { type Address, checkAddress, type L1Connection, publicClient, rpc } from "../chain.js";
import { cellarRegistryAbi } from "../generated/contracts.js";
import { compressedPublicKey } from "../points.js";

export type ReadRegistryParameters = L1Connection & { registry: Address };

/** A registry slot as `readRegistry` returns it. */
export interface RegistrySlot {
  readonly index: number;
  readonly publicKey: Uint8Array;
  readonly nodeId: Uint8Array;
  readonly url: string;
  readonly operator: Address;
  readonly active: boolean;
  readonly stake: bigint;
  readonly registeredBlock: bigint;
  /** 0 while active. */
  readonly leftBlock: bigint;
  readonly withdrawn: boolean;
}

export type ReadRegistryReturnType = RegistrySlot[];

/** One node as the registry's `nodes()` and `nodesAt()` return it. */
export type NodeView = ContractFunctionReturnType<typeof cellarRegistryAbi, "view", "nodes">[number];

export function toSlot(n: NodeView): RegistrySlot {
  return {
    index: Number(n.index),
    publicKey: compressedPublicKey(fromHex(n.publicKey, 96, "publicKey")),
    nodeId: fromHex(n.nodeId, 32, "nodeId"),
    url: n.url,
    operator: n.operator,
    active: n.active,
    stake: n.stake,
    registeredBlock: n.registeredBlock,
    leftBlock: n.leftBlock,
    withdrawn: n.withdrawn,
  };
}

/** Every registry slot in order, left nodes included. */
export async function readRegistry(options: ReadRegistryParameters): Promise<ReadRegistryReturnType> {
  const registry = checkAddress(options.registry, "registry");
  const nodes = await rpc(
    () =>
      publicClient(options.rpcUrl).readContract({ address: registry, abi: cellarRegistryAbi, functionName: "nodes" }),
    options.rpcUrl,
    "reading the registry",
  );
  return nodes.map(toSlot);
}
