import type { Hex } from "viem";
import { type Address, checkAddress, type L1Signer, publicClient, rpc, type Wallet, walletClient } from "./chain.js";
import { L1Error } from "./errors.js";
import { cellarRegistryAbi } from "./generated/contracts.js";

/** A transaction that was mined and succeeded. */
export interface Mined {
  readonly txHash: Hex;
  readonly blockNumber: bigint;
  readonly gasUsed: bigint;
}

/** Waits for `hash` to be mined; a reverted transaction throws. `contractAddress`: what a deployment created. */
export async function mine(rpcUrl: string, hash: Hex, action: string): Promise<Mined & { contractAddress?: Address }> {
  const receipt = await rpc(() => publicClient(rpcUrl).waitForTransactionReceipt({ hash }), rpcUrl, action);
  if (receipt.status !== "success")
    throw new L1Error("CELLAR_ERR_L1_REVERTED", `${action} reverted in block ${receipt.blockNumber}`, { txHash: hash });
  const mined = { txHash: hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed };
  return receipt.contractAddress ? { ...mined, contractAddress: receipt.contractAddress } : mined;
}

/** What `transact` hands an action: the read client to simulate on and the wallet that sends. */
export interface Transactor {
  readonly client: ReturnType<typeof publicClient>;
  readonly wallet: Wallet;
}

/**
 * Runs one contract write: `send` simulates it against the pending block (so a refusal costs no
 * gas and comes back with the contract error; the transaction lands in the next block, not the
 * latest one), sends the simulated request and returns its hash and the simulation's result;
 * then the transaction is mined. Reverts and transport failures become L1 errors naming `action`.
 */
export async function transact<T>(
  signer: L1Signer,
  action: string,
  send: (transactor: Transactor) => Promise<{ hash: Hex; result: T }>,
): Promise<Mined & { result: T }> {
  const { wallet } = await walletClient(signer);
  const { hash, result } = await rpc(
    () => send({ client: publicClient(signer.rpcUrl), wallet }),
    signer.rpcUrl,
    action,
  );
  return { ...(await mine(signer.rpcUrl, hash, action)), result };
}

/** The registry's writes that take one node or disperser index and return nothing. */
export type IndexedRegistryWrite = "withdraw" | "deregister" | "withdrawDisperser" | "deregisterDisperser";

/** Sends one of the registry's index-only writes for `options.index`. */
export async function writeIndexed(
  options: L1Signer & { registry: Address; index: number },
  functionName: IndexedRegistryWrite,
  action: string,
): Promise<Mined> {
  const registry = checkAddress(options.registry, "registry");
  const args = [BigInt(options.index)] as const;
  const { result: _, ...mined } = await transact(options, action, async ({ client, wallet }) => {
    const { request, result } = await client.simulateContract({
      address: registry,
      abi: cellarRegistryAbi,
      functionName,
      args,
      account: wallet.account,
      blockTag: "pending",
    });
    return { hash: await wallet.writeContract(request), result };
  });
  return mined;
}
