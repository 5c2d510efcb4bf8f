import { toHex } from "@cellar/utils";
import { type Address, checkAddress, type L1Connection, publicClient, rpc } from "../chain.js";
import { cellarInboxAbi } from "../generated/contracts.js";
import { isRecorded } from "./is-recorded.js";

export type RecordedBatchParameters = L1Connection & { inbox: Address; root: Uint8Array };

/** A recorded batch as the inbox keeps it: what the root commits to, where and under which snapshot. */
export interface RecordedBatch {
  readonly blobCount: number;
  readonly size: number;
  readonly blockNumber: bigint;
  readonly reference: bigint;
  readonly signers: number;
}

/** The recorded batch, or null when `root` is not recorded. */
export type RecordedBatchReturnType = RecordedBatch | null;

/** A recorded batch as the inbox keeps it, or null when `root` is not recorded. */
export async function recordedBatch(options: RecordedBatchParameters): Promise<RecordedBatchReturnType> {
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
