import { type Address, checkAddress, type L1Connection, publicClient, rpc } from "../chain.js";
import { cellarInboxAbi, cellarRegistryAbi } from "../generated/contracts.js";

export type ReadParametersParameters = L1Connection & { registry: Address; inbox?: Address };

/** The registry's fixed parameters, and the inbox's window when an inbox was named. */
export interface ReadParametersReturnType {
  readonly minimumStake: bigint;
  readonly unbondingBlocks: bigint;
  readonly permissioned: boolean;
  readonly referenceWindow?: bigint;
}

/** The registry's fixed parameters and the inbox's window, as deployed. */
export async function readParameters(options: ReadParametersParameters): Promise<ReadParametersReturnType> {
  const registry = checkAddress(options.registry, "registry");
  const client = publicClient(options.rpcUrl);
  const [minimumStake, unbondingBlocks, permissioned] = await Promise.all([
    rpc(
      () => client.readContract({ address: registry, abi: cellarRegistryAbi, functionName: "minimumStake" }),
      options.rpcUrl,
    ),
    rpc(
      () => client.readContract({ address: registry, abi: cellarRegistryAbi, functionName: "unbondingBlocks" }),
      options.rpcUrl,
    ),
    rpc(
      () => client.readContract({ address: registry, abi: cellarRegistryAbi, functionName: "permissioned" }),
      options.rpcUrl,
    ),
  ]);
  if (options.inbox === undefined) return { minimumStake, unbondingBlocks, permissioned };
  const inbox = checkAddress(options.inbox, "inbox");
  const referenceWindow = await rpc(
    () => client.readContract({ address: inbox, abi: cellarInboxAbi, functionName: "referenceWindow" }),
    options.rpcUrl,
  );
  return { minimumStake, unbondingBlocks, permissioned, referenceWindow };
}
