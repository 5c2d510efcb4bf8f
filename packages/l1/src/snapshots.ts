import type { NodeRecord, SnapshotSource } from "@cellar/protocol";
import { latestBlock } from "./actions/latest-block.js";
import { readNodeSet } from "./actions/read-node-set.js";
import type { Address } from "./chain.js";

/**
 * The registry's snapshots as a `SnapshotSource`: `nodesAt(reference)` is the node set active at
 * the end of that block (from the registry's checkpoints, so it never changes once the block is
 * mined; the last `cacheSize` are kept), `latest()` the chain head.
 */
export function registrySnapshots(options: { rpcUrl: string; registry: Address; cacheSize?: number }): SnapshotSource {
  const cache = new Map<bigint, Promise<readonly NodeRecord[]>>();
  const limit = options.cacheSize ?? 64;
  return {
    latest: () => latestBlock(options),
    nodesAt(reference: bigint) {
      let found = cache.get(reference);
      if (!found) {
        found = readNodeSet({ ...options, reference });
        found.catch(() => cache.delete(reference));
        cache.set(reference, found);
        if (cache.size > limit) cache.delete(cache.keys().next().value as bigint);
      }
      return found;
    },
  };
}
