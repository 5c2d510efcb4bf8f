import { type L1Connection, publicClient, rpc } from "../chain.js";

export type LatestBlockParameters = L1Connection;
export type LatestBlockReturnType = bigint;

/** The latest block number. */
export async function latestBlock(options: LatestBlockParameters): Promise<LatestBlockReturnType> {
  return rpc(() => publicClient(options.rpcUrl).getBlockNumber({ cacheTime: 0 }), options.rpcUrl, "reading the head");
}
