import {
  buildNodeSet,
  type Certificate,
  DISPERSER_POP_TAG,
  type NodeRecord,
  POP_TAG,
  proofOfPossession,
  type SecretKey,
  signersOf,
} from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import type { Abi, Hex, Log } from "viem";
import { privateKeyToAccount } from "viem/accounts";
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
  call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[]; value?: bigint },
  action: string,
): Promise<Mined & { result: unknown }> {
  const { wallet } = await walletClient(options);
  const { request, result } = await rpc(
    // Against the pending block: the transaction lands in the next block, not the latest one.
    () =>
      publicClient(options.rpcUrl).simulateContract({ ...call, account: wallet.account, blockTag: "pending" } as never),
    options.rpcUrl,
    action,
  );
  const hash = await rpc(() => wallet.writeContract(request as never), options.rpcUrl, action);
  return { ...(await mine(options.rpcUrl, hash, action)), result };
}

/** Registry and inbox parameters (PROTOCOL.md §19): bond, unbonding delay and certificate window. */
export interface DeployOptions {
  /** An existing registry to bind a new inbox to (the registry options are then ignored). */
  readonly registry?: Address;
  /** The least bond of a node or disperser, in wei (default 1 ether). */
  readonly minimumStake?: bigint;
  /** Blocks between leaving and withdrawing (default 151,200: 21 days of 12 s blocks). */
  readonly unbondingBlocks?: number;
  /** Only operators the deployer allow-lists may register (default false). */
  readonly permissioned?: boolean;
  readonly quorumNumerator?: number;
  readonly quorumDenominator?: number;
  /** Oldest reference block a certificate may name, in blocks before the posting block (default 7,200: a day). */
  readonly referenceWindow?: number;
}

export const DEFAULT_MINIMUM_STAKE = 10n ** 18n;
export const DEFAULT_UNBONDING_BLOCKS = 151_200;
export const DEFAULT_REFERENCE_WINDOW = 7_200;

/**
 * Deploys a registry (or reuses `registry`) and an inbox bound to it. The inbox's quorum is
 * numerator/denominator of the snapshot's active stake (default 2/3).
 */
export async function deployContracts(options: L1Signer & DeployOptions): Promise<Deployment> {
  const { wallet, chain } = await walletClient(options);
  const deploy = async (action: string, send: () => Promise<Hex>): Promise<Address> => {
    const { contractAddress } = await mine(options.rpcUrl, await rpc(send, options.rpcUrl, action), action);
    if (!contractAddress) throw new L1Error("CELLAR_ERR_L1_REVERTED", `${action}: no contract was created`);
    return contractAddress;
  };
  const registry =
    options.registry === undefined
      ? await deploy("deploying the registry", () =>
          wallet.deployContract({
            abi: cellarRegistryAbi,
            bytecode: cellarRegistryBytecode,
            args: [
              options.minimumStake ?? DEFAULT_MINIMUM_STAKE,
              BigInt(options.unbondingBlocks ?? DEFAULT_UNBONDING_BLOCKS),
              options.permissioned ?? false,
            ],
          }),
        )
      : checkAddress(options.registry, "registry");
  const inbox = await deploy("deploying the inbox", () =>
    wallet.deployContract({
      abi: cellarInboxAbi,
      bytecode: cellarInboxBytecode,
      args: [
        registry,
        BigInt(options.quorumNumerator ?? 2),
        BigInt(options.quorumDenominator ?? 3),
        BigInt(options.referenceWindow ?? DEFAULT_REFERENCE_WINDOW),
      ],
    }),
  );
  return { registry, inbox, chainId: BigInt(chain.id) };
}

/** The registry's fixed parameters and the inbox's window, as deployed. */
export async function readParameters(
  options: L1Connection & { registry: Address; inbox?: Address },
): Promise<{ minimumStake: bigint; unbondingBlocks: bigint; permissioned: boolean; referenceWindow?: bigint }> {
  const registry = checkAddress(options.registry, "registry");
  const client = publicClient(options.rpcUrl);
  const read = (functionName: "minimumStake" | "unbondingBlocks" | "permissioned") =>
    rpc(() => client.readContract({ address: registry, abi: cellarRegistryAbi, functionName }), options.rpcUrl);
  const [minimumStake, unbondingBlocks, permissioned] = await Promise.all([
    read("minimumStake") as Promise<bigint>,
    read("unbondingBlocks") as Promise<bigint>,
    read("permissioned") as Promise<boolean>,
  ]);
  if (options.inbox === undefined) return { minimumStake, unbondingBlocks, permissioned };
  const inbox = checkAddress(options.inbox, "inbox");
  const referenceWindow = await rpc(
    () => client.readContract({ address: inbox, abi: cellarInboxAbi, functionName: "referenceWindow" }),
    options.rpcUrl,
  );
  return { minimumStake, unbondingBlocks, permissioned, referenceWindow };
}

/** The latest block number. */
export async function latestBlock(options: L1Connection): Promise<bigint> {
  return rpc(() => publicClient(options.rpcUrl).getBlockNumber({ cacheTime: 0 }), options.rpcUrl, "reading the head");
}

/** The 20-byte address of the account `privateKey` signs for. */
export function operatorOf(privateKey: Hex): Uint8Array {
  if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey))
    throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", "a private key is 32 bytes of 0x-hex");
  return fromHex(privateKeyToAccount(privateKey).address, 20, "operator");
}

/** What registration needs: the node's key and its proof of possession (or the secret key that makes both). */
export type NodeKey = { secretKey: SecretKey } | { publicKey: Uint8Array; proofOfPossession: Uint8Array };

async function keyArgs(options: L1Signer & { registry: Address } & NodeKey, tag: Uint8Array) {
  const registry = checkAddress(options.registry, "registry");
  if (!("secretKey" in options)) return [options.publicKey, options.proofOfPossession] as const;
  const chainId = BigInt(await rpc(() => publicClient(options.rpcUrl).getChainId(), options.rpcUrl));
  const binding = { operator: operatorOf(options.privateKey), chainId, registry: fromHex(registry, 20, "registry") };
  return [options.secretKey.toPublicKey().toBytes(), proofOfPossession(options.secretKey, binding, tag)] as const;
}

/**
 * Registers a storage node and bonds `stake` wei (default: the registry's minimum). The registry
 * checks on chain the proof of possession, bound to the paying account, the chain and itself.
 */
export async function registerNode(
  options: L1Signer & { registry: Address; url: string; stake?: bigint } & NodeKey,
): Promise<Mined & { index: number }> {
  const registry = checkAddress(options.registry, "registry");
  const [publicKey, pop] = await keyArgs(options, POP_TAG);
  const value = options.stake ?? (await readParameters({ rpcUrl: options.rpcUrl, registry })).minimumStake;
  const args = [toHex(uncompressedPublicKey(publicKey)), options.url, toHex(uncompressedSignature(pop))];
  const { result, ...mined } = await write(
    options,
    { address: registry, abi: cellarRegistryAbi, functionName: "register", args, value },
    "registering the node",
  );
  return { ...mined, index: Number(result) };
}

/** Pays a left node's bond back to its operator once the unbonding delay has passed. */
export async function withdrawNode(options: L1Signer & { registry: Address; index: number }): Promise<Mined> {
  const { result: _, ...mined } = await write(
    options,
    {
      address: checkAddress(options.registry, "registry"),
      abi: cellarRegistryAbi,
      functionName: "withdraw",
      args: [BigInt(options.index)],
    },
    `withdrawing node ${options.index}'s bond`,
  );
  return mined;
}

/** Adds or removes an operator on a permissioned registry's allow-list (its deployer only). */
export async function setAllowed(
  options: L1Signer & { registry: Address; operator: Address; allowed: boolean },
): Promise<Mined> {
  const { result: _, ...mined } = await write(
    options,
    {
      address: checkAddress(options.registry, "registry"),
      abi: cellarRegistryAbi,
      functionName: "setAllowed",
      args: [checkAddress(options.operator, "operator"), options.allowed],
    },
    "changing the allow-list",
  );
  return mined;
}

/** Takes a node out of the active set (its operator only) and starts its unbonding; its index stays reserved. */
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

type NodeView = {
  index: bigint;
  publicKey: Hex;
  nodeId: Hex;
  url: string;
  operator: Address;
  active: boolean;
  stake: bigint;
  registeredBlock: bigint;
  leftBlock: bigint;
  withdrawn: boolean;
};

function toSlot(n: NodeView): RegistrySlot {
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
export async function readRegistry(options: L1Connection & { registry: Address }): Promise<RegistrySlot[]> {
  const registry = checkAddress(options.registry, "registry");
  const nodes = await rpc(
    () =>
      publicClient(options.rpcUrl).readContract({ address: registry, abi: cellarRegistryAbi, functionName: "nodes" }),
    options.rpcUrl,
    "reading the registry",
  );
  return nodes.map((n) => toSlot(n as NodeView));
}

/**
 * The node set of a registry snapshot, each node with its registry index (its signer-bitmap bit)
 * and stake: the nodes active at the end of block `reference` (the registry's checkpoint), or
 * the currently active ones when no reference is given.
 */
export async function readNodeSet(
  options: L1Connection & { registry: Address; reference?: bigint },
): Promise<NodeRecord[]> {
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
        ).map((n) => toSlot(n as NodeView));
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

/** A registered disperser (PROTOCOL.md §19): its BLS key (48 bytes compressed), URL and operator. */
export interface DisperserRecord {
  readonly index: number;
  readonly publicKey: Uint8Array;
  readonly url: string;
  readonly operator: Address;
  readonly active: boolean;
  readonly stake: bigint;
}

/**
 * Registers a disperser key and bonds `stake` wei (default: the registry's minimum); the proof of
 * possession signs `"CELLAR-DISPERSER-POP-v1" || operator || chainId || registry || key`.
 */
export async function registerDisperser(
  options: L1Signer & { registry: Address; url: string; stake?: bigint } & NodeKey,
): Promise<Mined & { index: number }> {
  const registry = checkAddress(options.registry, "registry");
  const [publicKey, pop] = await keyArgs(options, DISPERSER_POP_TAG);
  const value = options.stake ?? (await readParameters({ rpcUrl: options.rpcUrl, registry })).minimumStake;
  const args = [toHex(uncompressedPublicKey(publicKey)), options.url, toHex(uncompressedSignature(pop))];
  const { result, ...mined } = await write(
    options,
    { address: registry, abi: cellarRegistryAbi, functionName: "registerDisperser", args, value },
    "registering the disperser",
  );
  return { ...mined, index: Number(result) };
}

/** Takes a disperser out (its operator only) and starts its unbonding. */
export async function deregisterDisperser(options: L1Signer & { registry: Address; index: number }): Promise<Mined> {
  const { result: _, ...mined } = await write(
    options,
    {
      address: checkAddress(options.registry, "registry"),
      abi: cellarRegistryAbi,
      functionName: "deregisterDisperser",
      args: [BigInt(options.index)],
    },
    `deregistering disperser ${options.index}`,
  );
  return mined;
}

/** Pays a left disperser's bond back once the unbonding delay has passed. */
export async function withdrawDisperser(options: L1Signer & { registry: Address; index: number }): Promise<Mined> {
  const { result: _, ...mined } = await write(
    options,
    {
      address: checkAddress(options.registry, "registry"),
      abi: cellarRegistryAbi,
      functionName: "withdrawDisperser",
      args: [BigInt(options.index)],
    },
    `withdrawing disperser ${options.index}'s bond`,
  );
  return mined;
}

/** The registry's dispersers; only the active ones unless `all`. */
export async function readDispersers(
  options: L1Connection & { registry: Address; all?: boolean },
): Promise<DisperserRecord[]> {
  const registry = checkAddress(options.registry, "registry");
  const list = await rpc(
    () =>
      publicClient(options.rpcUrl).readContract({
        address: registry,
        abi: cellarRegistryAbi,
        functionName: "dispersers",
      }),
    options.rpcUrl,
    "reading the dispersers",
  );
  return list
    .map((d) => ({
      index: Number(d.index),
      publicKey: fromHex(d.publicKey, 48, "publicKey"),
      url: d.url,
      operator: d.operator,
      active: d.active,
      stake: d.stake,
    }))
    .filter((d) => options.all === true || d.active);
}

/**
 * What the inbox records: a batch root with what it commits to (blobs root, blob count, payload
 * size: the root is `keccak256(blobsRoot || uint256 blobCount || uint256 size)`, §4), and the certificate.
 */
export interface Settlement {
  readonly root: Uint8Array;
  readonly blobsRoot: Uint8Array;
  readonly blobCount: number;
  readonly size: number;
  readonly certificate: Certificate;
}

/** A bitmap (byte i >> 3, bit i & 7) as the inbox's uint256 (bit i), and back. */
export function bitmapToUint(bitmap: Uint8Array): bigint {
  if (bitmap.length > 32) throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", "a signer bitmap is at most 32 bytes");
  return bitmap.reduce((acc, byte, k) => acc | (BigInt(byte) << BigInt(8 * k)), 0n);
}

export function uintToBitmap(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let k = 0; k < 32; k++) out[k] = Number((value >> BigInt(8 * k)) & 0xffn);
  return out;
}

const inboxRegistry = (rpcUrl: string, inbox: Address) =>
  rpc(
    () => publicClient(rpcUrl).readContract({ address: inbox, abi: cellarInboxAbi, functionName: "registry" }),
    rpcUrl,
    "reading the inbox",
  );

/**
 * Posts a certified batch to the inbox, which checks on chain that the root commits to the blob
 * count and size, the certificate's age, the snapshot's stake quorum and the aggregate signature.
 * Reads the snapshot's checkpoint and its non-signers' keys (which the inbox checks against the
 * key hashes it stores) from the registry.
 */
export async function settleBatch(options: L1Signer & { inbox: Address } & Settlement): Promise<Mined> {
  const inbox = checkAddress(options.inbox, "inbox");
  const { certificate } = options;
  if (certificate.root.length !== 32 || toHex(certificate.root) !== toHex(options.root))
    throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", "the certificate is for another root");
  const registry = await inboxRegistry(options.rpcUrl, inbox);
  const signers = bitmapToUint(certificate.signerBitmap);
  const [hint] = await rpc(
    () =>
      publicClient(options.rpcUrl).readContract({
        address: registry,
        abi: cellarRegistryAbi,
        functionName: "checkpointAt",
        args: [certificate.reference],
      }),
    options.rpcUrl,
    "reading the registry checkpoint",
  );
  // An empty snapshot has no non-signers (and the inbox refuses the certificate for want of stake).
  const snapshot = await readNodeSet({ rpcUrl: options.rpcUrl, registry, reference: certificate.reference }).catch(
    (err: unknown) => {
      if (err instanceof L1Error && err.code === "CELLAR_ERR_L1_INVALID_INPUT") return [] as NodeRecord[];
      throw err;
    },
  );
  const signing = new Set(signersOf(certificate.signerBitmap));
  const nonSigners = snapshot.filter((n) => !signing.has(n.index));
  const nonSignerKeys = Buffer.concat(nonSigners.map((n) => uncompressedPublicKey(n.publicKey)));
  const { result: _, ...mined } = await write(
    options,
    {
      address: inbox,
      abi: cellarInboxAbi,
      functionName: "postBatch",
      args: [
        toHex(options.root),
        toHex(options.blobsRoot),
        BigInt(options.blobCount),
        BigInt(options.size),
        {
          referenceBlock: certificate.reference,
          checkpointHint: hint,
          signerBitmap: signers,
          signature: toHex(uncompressedSignature(certificate.signature)),
          nonSignerKeys: toHex(nonSignerKeys),
        },
      ],
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
): Promise<{ blobCount: number; size: number; blockNumber: bigint; reference: bigint; signers: number } | null> {
  if (!(await isRecorded(options))) return null;
  const [blobCount, size, blockNumber, reference, signers] = await rpc(
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
  return { blobCount: Number(blobCount), size: Number(size), blockNumber, reference, signers: Number(signers) };
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
  readonly reference: bigint;
  readonly signerBitmap: Uint8Array;
  readonly poster: Address;
  readonly blockNumber: bigint;
  readonly txHash: Hex;
}

function toPosted(log: Log & { args: Record<string, unknown> }): PostedBatch {
  const a = log.args as {
    root: Hex;
    blobCount: bigint;
    size: bigint;
    referenceBlock: bigint;
    signerBitmap: bigint;
    poster: Address;
  };
  return {
    root: fromHex(a.root, 32, "root"),
    blobCount: Number(a.blobCount),
    size: Number(a.size),
    reference: a.referenceBlock,
    signerBitmap: uintToBitmap(a.signerBitmap),
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
