import { buildNodeSet, type NodeRecord } from "@cellar/protocol";
import { fromHex } from "@cellar/utils";
import { type Address, checkAddress, type L1Connection, publicClient, rpc } from "../chain.js";
import { L1Error } from "../errors.js";
import { cellarRegistryAbi } from "../generated/contracts.js";
import { readRegistry, toSlot } from "./read-registry.js";

export type ReadNodeSetParameters = L1Connection & {
  registry: Address;
  /** The snapshot's block; default the currently active nodes. */
  reference?: bigint;
};

export type ReadNodeSetReturnType = NodeRecord[];

/**
 * The node set of a registry snapshot, each node with its registry index (its signer-bitmap bit)
 * and stake: the nodes active at the end of block `reference` (the registry's checkpoint), or
 * the currently active ones when no reference is given.
 */
export async function readNodeSet(options: ReadNodeSetParameters): Promise<ReadNodeSetReturnType> {
  const registry = checkAddress(options.registry, "registry");
  const { reference } = options;
  const slots =
    reference === undefined
      ? (await readRegistry(options)).filter((s) => s.active)
      : (
          await rpc(
            () =>
              publicClient(options.rpcUrl).readContract({
                address: registry,
                abi: cellarRegistryAbi,
                functionName: "nodesAt",
                args: [reference],
              }),
            options.rpcUrl,
            `reading the registry at block ${reference}`,
          )
        ).map(toSlot);
  if (slots.length === 0)
    throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", "the registry has no active nodes", {
      registry: options.registry,
    });
  return buildNodeSet(
    slots.map((s) => ({
      publicKey: s.publicKey,
      url: s.url,
      index: s.index,
      stake: s.stake,
      operator: fromHex(s.operator, 20, "operator"),
    })),
  );
}
