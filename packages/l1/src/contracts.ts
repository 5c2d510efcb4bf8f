import { buildNodeSet, type Certificate, type NodeRecord, proofOfPossession, type SecretKey } from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import type { Abi, Hex, Log } from "viem";
import {
  type Address,
  checkAddress,
  type L1Connection,
  type L1Signer,
  publicClient,
  rpc,
  walletClient,
} from "./chain.js";
import { L1Error } from "./errors.js";
import {
  cellarInboxAbi,
  cellarInboxBytecode,
  cellarRegistryAbi,
  cellarRegistryBytecode,
} from "./generated/contracts.js";
import { compressedPublicKey, uncompressedPublicKey, uncompressedSignature } from "./points.js";

export { cellarInboxAbi, cellarRegistryAbi } from "./generated/contracts.js";

export interface Deployment {
  readonly registry: Address;
  readonly inbox: Address;
  readonly chainId: bigint;
}

/** A transaction that was mined and succeeded. */
export interface Mined {
  readonly txHash: Hex;
  readonly blockNumber: bigint;
  readonly gasUsed: bigint;
}

/** Waits for `hash` to be mined; a reverted transaction throws. `contractAddress`: what a deployment created. */
async function mine(rpcUrl: string, hash: Hex, action: string): Promise<Mined & { contractAddress?: Address }> {
  const receipt = await rpc(() => publicClient(rpcUrl).waitForTransactionReceipt({ hash }), rpcUrl, action);
  if (receipt.status !== "success")
    throw new L1Error("CELLAR_ERR_L1_REVERTED", `${action} reverted in block ${receipt.blockNumber}`, { txHash: hash });
  const mined = { txHash: hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed };
  return receipt.contractAddress ? { ...mined, contractAddress: receipt.contractAddress } : mined;
}

/**
 * Simulates a contract write (so a refusal costs no gas and comes back with the contract error),
 * then sends it and waits for it to be mined. `result` is what the simulation returned.
 */
async function write(
  options: L1Signer,
  call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
  action: string,
): Promise<Mined & { result: unknown }> {
  const { wallet } = await walletClient(options);
  const { request, result } = await rpc(
    () => publicClient(options.rpcUrl).simulateContract({ ...call, account: wallet.account } as never),
    options.rpcUrl,
    action,
  );
  const hash = await rpc(() => wallet.writeContract(request as never), options.rpcUrl, action);
  return { ...(await mine(options.rpcUrl, hash, action)), result };
}

/**
 * Deploys a registry (or reuses `registry`) and an inbox bound to it. The inbox's quorum is
 * numerator/denominator of the active nodes (default 2/3).
 */
export async function deployContracts(
  options: L1Signer & { registry?: Address; quorumNumerator?: number; quorumDenominator?: number },
): Promise<Deployment> {
  const { wallet, chain } = await walletClient(options);
  const deploy = async (action: string, send: () => Promise<Hex>): Promise<Address> => {
    const { contractAddress } = await mine(options.rpcUrl, await rpc(send, options.rpcUrl, action), action);
    if (!contractAddress) throw new L1Error("CELLAR_ERR_L1_REVERTED", `${action}: no contract was created`);
    return contractAddress;
  };
  const registry =
    options.registry === undefined
      ? await deploy("deploying the registry", () =>
          wallet.deployContract({ abi: cellarRegistryAbi, bytecode: cellarRegistryBytecode, args: [] }),
        )
      : checkAddress(options.registry, "registry");
  const inbox = await deploy("deploying the inbox", () =>
    wallet.deployContract({
      abi: cellarInboxAbi,
      bytecode: cellarInboxBytecode,
      args: [registry, BigInt(options.quorumNumerator ?? 2), BigInt(options.quorumDenominator ?? 3)],
    }),
  );
  return { registry, inbox, chainId: BigInt(chain.id) };
}

/** What registration needs: the node's key and its proof of possession (or the secret key that makes both). */
export type NodeKey = { secretKey: SecretKey } | { publicKey: Uint8Array; proofOfPossession: Uint8Array };

/** Registers a storage node: the registry checks the proof of possession on chain. */
export async function registerNode(
  options: L1Signer & { registry: Address; url: string } & NodeKey,
): Promise<Mined & { index: number }> {
  const registry = checkAddress(options.registry, "registry");
  const [publicKey, pop] =
    "secretKey" in options
      ? [options.secretKey.toPublicKey().toBytes(), proofOfPossession(options.secretKey)]
      : [options.publicKey, options.proofOfPossession];
  const args = [toHex(uncompressedPublicKey(publicKey)), options.url, toHex(uncompressedSignature(pop))];
  const { result, ...mined } = await write(
    options,
    { address: registry, abi: cellarRegistryAbi, functionName: "register", args },
    "registering the node",
  );
  return { ...mined, index: Number(result) };
}

/** Takes a node out of the active set (its operator only); its index stays reserved. */
export async function deregisterNode(options: L1Signer & { registry: Address; index: number }): Promise<Mined> {
  const { result: _, ...mined } = await write(
    options,
    {
      address: checkAddress(options.registry, "registry"),
      abi: cellarRegistryAbi,
      functionName: "deregister",
      args: [BigInt(options.index)],
    },
    `deregistering node ${options.index}`,
  );
  return mined;
}

/** Every registry slot in order, left nodes included. */
export async function readRegistry(options: L1Connection & { registry: Address }): Promise<
  {
    index: number;
    publicKey: Uint8Array;
    nodeId: Uint8Array;
    url: string;
    operator: Address;
    active: boolean;
  }[]
> {
  const registry = checkAddress(options.registry, "registry");
  const nodes = await rpc(
    () =>
      publicClient(options.rpcUrl).readContract({ address: registry, abi: cellarRegistryAbi, functionName: "nodes" }),
    options.rpcUrl,
    "reading the registry",
  );
  return nodes.map((n) => ({
    index: Number(n.index),
    publicKey: compressedPublicKey(fromHex(n.publicKey, 96, "publicKey")),
    nodeId: fromHex(n.nodeId, 32, "nodeId"),
    url: n.url,
    operator: n.operator,
    active: n.active,
  }));
}

/** The active node set, each node with its registry index (its signer-bitmap bit). */
export async function readNodeSet(options: L1Connection & { registry: Address }): Promise<NodeRecord[]> {
  const slots = await readRegistry(options);
  const active = slots.filter((s) => s.active);
  if (active.length === 0)
    throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", "the registry has no active nodes", {
      registry: options.registry,
    });
  return buildNodeSet(active.map((s) => ({ publicKey: s.publicKey, url: s.url, index: s.index })));
}

/** What the inbox records: a batch root with its blob count and payload size, and the certificate. */
export interface Settlement {
  readonly root: Uint8Array;
  readonly blobCount: number;
  readonly size: number;
  readonly certificate: Certificate;
}

function postArgs(s: Settlement) {
  if (s.certificate.root.length !== 32 || toHex(s.certificate.root) !== toHex(s.root))
    throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", "the certificate is for another root");
  return [
    toHex(s.root),
    BigInt(s.blobCount),
    BigInt(s.size),
    toHex(s.certificate.signerBitmap),
    toHex(uncompressedSignature(s.certificate.signature)),
  ] as const;
}

/** Posts a certified batch to the inbox, which checks the certificate on chain. */
export async function settleBatch(options: L1Signer & { inbox: Address } & Settlement): Promise<Mined> {
  const { result: _, ...mined } = await write(
    options,
    {
      address: checkAddress(options.inbox, "inbox"),
      abi: cellarInboxAbi,
      functionName: "postBatch",
      args: postArgs(options),
    },
    "posting the batch",
  );
  return mined;
}

/** Whether the inbox has recorded `root`. */
export async function isRecorded(options: L1Connection & { inbox: Address; root: Uint8Array }): Promise<boolean> {
  const inbox = checkAddress(options.inbox, "inbox");
  return rpc(
    () =>
      publicClient(options.rpcUrl).readContract({
        address: inbox,
        abi: cellarInboxAbi,
        functionName: "isRecorded",
        args: [toHex(options.root)],
      }),
    options.rpcUrl,
    "reading the inbox",
  );
}

/** A recorded batch as the inbox keeps it, or null when `root` is not recorded. */
export async function recordedBatch(
  options: L1Connection & { inbox: Address; root: Uint8Array },
): Promise<{ blobCount: number; size: number; blockNumber: bigint; signers: number } | null> {
  if (!(await isRecorded(options))) return null;
  const [blobCount, size, blockNumber, signers] = await rpc(
    () =>
      publicClient(options.rpcUrl).readContract({
        address: checkAddress(options.inbox, "inbox"),
        abi: cellarInboxAbi,
        functionName: "batchOf",
        args: [toHex(options.root)],
      }),
    options.rpcUrl,
    "reading the inbox",
  );
  return { blobCount: Number(blobCount), size: Number(size), blockNumber, signers: Number(signers) };
}

/** A KZG opening of one blob of a recorded batch, as `verifyOpening` takes it. */
export interface Opening {
  readonly root: Uint8Array;
  readonly blobIndex: number;
  readonly merkleProof: readonly Uint8Array[];
  readonly commitment: Uint8Array;
  readonly z: Uint8Array;
  readonly y: Uint8Array;
  readonly proof: Uint8Array;
}

/** Checks an opening on chain (an eth_call of `verifyOpening`); throws CELLAR_ERR_L1_REVERTED with the reason. */
export async function verifyOpeningOnChain(options: L1Connection & { inbox: Address } & Opening): Promise<true> {
  await rpc(
    () =>
      publicClient(options.rpcUrl).readContract({
        address: checkAddress(options.inbox, "inbox"),
        abi: cellarInboxAbi,
        functionName: "verifyOpening",
        args: [
          toHex(options.root),
          BigInt(options.blobIndex),
          options.merkleProof.map((p) => toHex(p)),
          toHex(options.commitment),
          toHex(options.z),
          toHex(options.y),
          toHex(options.proof),
        ],
      }),
    options.rpcUrl,
    "verifying the opening",
  );
  return true;
}

/** A batch the inbox recorded, from its BatchPosted event. */
export interface PostedBatch {
  readonly root: Uint8Array;
  readonly blobCount: number;
  readonly size: number;
  readonly signerBitmap: Uint8Array;
  readonly poster: Address;
  readonly blockNumber: bigint;
  readonly txHash: Hex;
}

function toPosted(log: Log & { args: Record<string, unknown> }): PostedBatch {
  const a = log.args as { root: Hex; blobCount: bigint; size: bigint; signerBitmap: Hex; poster: Address };
  return {
    root: fromHex(a.root, 32, "root"),
    blobCount: Number(a.blobCount),
    size: Number(a.size),
    signerBitmap: fromHex(a.signerBitmap, undefined, "signerBitmap"),
    poster: a.poster,
    blockNumber: log.blockNumber ?? 0n,
    txHash: log.transactionHash ?? "0x",
  };
}

/** Batches recorded by the inbox between two blocks (inclusive; default: all). */
export async function postedBatches(
  options: L1Connection & { inbox: Address; fromBlock?: bigint; toBlock?: bigint },
): Promise<PostedBatch[]> {
  const logs = await rpc(
    () =>
      publicClient(options.rpcUrl).getContractEvents({
        address: checkAddress(options.inbox, "inbox"),
        abi: cellarInboxAbi,
        eventName: "BatchPosted",
        fromBlock: options.fromBlock ?? 0n,
        toBlock: options.toBlock ?? "latest",
      }),
    options.rpcUrl,
    "reading inbox events",
  );
  return logs.map((l) => toPosted(l as unknown as Log & { args: Record<string, unknown> }));
}

/**
 * Calls `onBatch` for every batch the inbox records from now on (polling the RPC every
 * `pollingIntervalMs`, default 1 s). Returns the function that stops watching.
 */
export function watchBatches(
  options: L1Connection & { inbox: Address; pollingIntervalMs?: number; onError?: (err: Error) => void },
  onBatch: (batch: PostedBatch) => void,
): () => void {
  return publicClient(options.rpcUrl).watchContractEvent({
    address: checkAddress(options.inbox, "inbox"),
    abi: cellarInboxAbi,
    eventName: "BatchPosted",
    pollingInterval: options.pollingIntervalMs ?? 1000,
    onLogs: (logs) => {
      for (const log of logs) onBatch(toPosted(log as unknown as Log & { args: Record<string, unknown> }));
    },
    onError: (err) => options.onError?.(err),
  });
}
