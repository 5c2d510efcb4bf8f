import { type Address, checkAddress, type L1Signer } from "../chain.js";
import { cellarRegistryAbi } from "../generated/contracts.js";
import { type Mined, transact } from "../transaction.js";

export type SetAllowedParameters = L1Signer & { registry: Address; operator: Address; allowed: boolean };
export type SetAllowedReturnType = Mined;

/** Adds or removes an operator on a permissioned registry's allow-list (its deployer only). */
export async function setAllowed(options: SetAllowedParameters): Promise<SetAllowedReturnType> {
  const registry = checkAddress(options.registry, "registry");
  const operator = checkAddress(options.operator, "operator");
  const { result: _, ...mined } = await transact(options, "changing the allow-list", async ({ client, wallet }) => {
    const { request, result } = await client.simulateContract({
      address: registry,
      abi: cellarRegistryAbi,
      functionName: "setAllowed",
      args: [operator, options.allowed],
      account: wallet.account,
      blockTag: "pending",
    });
    return { hash: await wallet.writeContract(request), result };
  });
  return mined;
}
