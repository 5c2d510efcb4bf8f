import { type Address, checkAddress, type L1Connection, publicClient } from "../chain.js";
import { cellarInboxAbi } from "../generated/contracts.js";
import { type PostedBatch, toPosted } from "./posted-batches.js";

export type WatchBatchesParameters = L1Connection & {
  inbox: Address;
  /** How often the RPC is polled (default 1 s). */
  pollingIntervalMs?: number;
  /** Called with each polling failure; watching goes on. */
  onError?: (err: Error) => void;
};

/** Stops watching. */
export type WatchBatchesReturnType = () => void;

/**
 * Calls `onBatch` for every batch the inbox records from now on (polling the RPC every
 * `pollingIntervalMs`, default 1 s). Returns the function that stops watching.
 */
export function watchBatches(
  options: WatchBatchesParameters,
  onBatch: (batch: PostedBatch) => void,
): WatchBatchesReturnType {
  return publicClient(options.rpcUrl).watchContractEvent({
    address: checkAddress(options.inbox, "inbox"),
    abi: cellarInboxAbi,
    eventName: "BatchPosted",
    pollingInterval: options.pollingIntervalMs ?? 1000,
    strict: true,
    onLogs: (logs) => {
      for (const log of logs) onBatch(toPosted(log));
    },
    onError: (err) => options.onError?.(err),
  });
}
