import { fromHex } from "@cellar/utils";
import type { Hex, Log } from "viem";
import { uintToBitmap } from "../bitmap.js";
import { type Address, checkAddress, type L1Connection, publicClient, rpc } from "../chain.js";
import { cellarInboxAbi } from "../generated/contracts.js";

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

/** A BatchPosted log, decoded strictly (every argument present). */
export type BatchPostedLog = Log<bigint, number, boolean, undefined, true, typeof cellarInboxAbi, "BatchPosted">;

export function toPosted(log: BatchPostedLog): PostedBatch {
  const a = log.args;
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

export type PostedBatchesParameters = L1Connection & {
  inbox: Address;
  /** First block (inclusive; default 0). */
  fromBlock?: bigint;
  /** Last block (inclusive; default the latest). */
  toBlock?: bigint;
};

export type PostedBatchesReturnType = PostedBatch[];

/** Batches recorded by the inbox between two blocks (inclusive; default: all). */
export async function postedBatches(options: PostedBatchesParameters): Promise<PostedBatchesReturnType> {
  const logs = await rpc(
    () =>
      publicClient(options.rpcUrl).getContractEvents({
        address: checkAddress(options.inbox, "inbox"),
        abi: cellarInboxAbi,
        eventName: "BatchPosted",
        fromBlock: options.fromBlock ?? 0n,
        toBlock: options.toBlock ?? "latest",
        strict: true,
      }),
    options.rpcUrl,
    "reading inbox events",
  );
  return logs.map(toPosted);
}
