import { type Address, checkAddress, type L1Signer } from "../chain.js";
import { cellarRegistryAbi } from "../generated/contracts.js";
import { type Mined, transact } from "../transaction.js";

export type SetNodeUrlParameters = L1Signer & { registry: Address; index: number; url: string };
export type SetNodeUrlReturnType = Mined;

/** Changes the URL the registry lists for node `index` (its operator only). */
export async function setNodeUrl(options: SetNodeUrlParameters): Promise<SetNodeUrlReturnType> {
  const registry = checkAddress(options.registry, "registry");
  const args = [BigInt(options.index), options.url] as const;
  const { result: _, ...mined } = await transact(
    options,
    `changing node ${options.index}'s URL`,
    async ({ client, wallet }) => {
      const { request, result } = await client.simulateContract({
        address: registry,
        abi: cellarRegistryAbi,
        functionName: "setUrl",
        args,
        account: wallet.account,
        blockTag: "pending",
      });
      return { hash: await wallet.writeContract(request), result };
    },
  );
  return mined;
}
