import { proofOfPossession, type SecretKey } from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { readParameters } from "./actions/read-parameters.js";
import { type Address, checkAddress, type L1Signer, publicClient, rpc } from "./chain.js";
import { L1Error } from "./errors.js";
import { cellarRegistryAbi } from "./generated/contracts.js";
import { uncompressedPublicKey, uncompressedSignature } from "./points.js";
import { type Mined, transact } from "./transaction.js";

/** The 20-byte address of the account `privateKey` signs for. */
export function operatorOf(privateKey: Hex): Uint8Array {
  if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey))
    throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", "a private key is 32 bytes of 0x-hex");
  return fromHex(privateKeyToAccount(privateKey).address, 20, "operator");
}

/** What registration needs: the node's key and its proof of possession (or the secret key that makes both). */
export type NodeKey = { secretKey: SecretKey } | { publicKey: Uint8Array; proofOfPossession: Uint8Array };

/**
 * The registry's `register`/`registerDisperser` arguments for a key: the uncompressed key, the
 * URL and the uncompressed proof of possession (made under `tag` and bound to the paying
 * account, the chain and the registry when a secret key is given).
 */
async function registrationArgs(
  options: L1Signer & { registry: Address; url: string } & NodeKey,
  tag: Uint8Array,
): Promise<readonly [Hex, string, Hex]> {
  const registry = checkAddress(options.registry, "registry");
  let publicKey: Uint8Array;
  let pop: Uint8Array;
  if ("secretKey" in options) {
    const chainId = BigInt(await rpc(() => publicClient(options.rpcUrl).getChainId(), options.rpcUrl));
    const binding = { operator: operatorOf(options.privateKey), chainId, registry: fromHex(registry, 20, "registry") };
    publicKey = options.secretKey.toPublicKey().toBytes();
    pop = proofOfPossession(options.secretKey, binding, tag);
  } else {
    publicKey = options.publicKey;
    pop = options.proofOfPossession;
  }
  return [toHex(uncompressedPublicKey(publicKey)), options.url, toHex(uncompressedSignature(pop))];
}

/** What `registerNode` and `registerDisperser` take: the registry, the URL, the bond and the key. */
export type RegistrationParameters = L1Signer & {
  registry: Address;
  /** The URL the node or disperser serves on, as the registry lists it. */
  url: string;
  /** Bond in wei (default: the registry's minimum). */
  stake?: bigint;
} & NodeKey;

/**
 * Registers a key with the registry's `functionName` (its proof of possession made under `tag`)
 * and bonds `stake` wei (default: the registry's minimum); resolves with the index it was given.
 */
export async function registerKey(
  options: RegistrationParameters,
  call: { functionName: "register" | "registerDisperser"; tag: Uint8Array; action: string },
): Promise<Mined & { index: number }> {
  const registry = checkAddress(options.registry, "registry");
  const args = await registrationArgs(options, call.tag);
  const value = options.stake ?? (await readParameters({ rpcUrl: options.rpcUrl, registry })).minimumStake;
  const { result, ...mined } = await transact(options, call.action, async ({ client, wallet }) => {
    const { request, result } = await client.simulateContract({
      address: registry,
      abi: cellarRegistryAbi,
      functionName: call.functionName,
      args,
      value,
      account: wallet.account,
      blockTag: "pending",
    });
    return { hash: await wallet.writeContract(request), result };
  });
  return { ...mined, index: Number(result) };
}
