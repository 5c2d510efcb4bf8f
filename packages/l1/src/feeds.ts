import { type Feed, type NodeRecord, nodeSetToJson } from "@cellar/protocol";
import { type PostedBatch, postedBatches } from "./actions/posted-batches.js";
import { readDispersers } from "./actions/read-dispersers.js";
import { readNodeSet } from "./actions/read-node-set.js";
import { watchBatches } from "./actions/watch-batches.js";
import { type Address, type L1Connection, publicClient } from "./chain.js";

/**
 * Polls `read` every `pollMs` and delivers what it returns when it differs from the last value
 * delivered (by `key`); a poll still running is not started again. The first poll is at once.
 */
function polled<T>(read: () => Promise<T>, key: (value: T) => string, pollMs: number, initial?: T): Feed<T> {
  return {
    follow(apply, onError) {
      let last = initial === undefined ? undefined : key(initial);
      let busy = false;
      const poll = () => {
        if (busy) return;
        busy = true;
        read()
          .then((value) => {
            const k = key(value);
            if (k === last) return;
            last = k;
            apply(value);
          })
          .catch(onError)
          .finally(() => {
            busy = false;
          });
      };
      poll();
      const timer = setInterval(poll, pollMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

/**
 * The registry's active node set, polled every `pollMs` (5 s): nodes that register or leave reach
 * the role without a restart. `initial` (the set the role started with) is not delivered again.
 */
export function registryNodeFeed(
  options: L1Connection & { registry: Address; pollMs?: number; initial?: readonly NodeRecord[] },
): Feed<NodeRecord[]> {
  return polled(
    () => readNodeSet(options),
    (nodes) => JSON.stringify(nodeSetToJson(nodes)),
    options.pollMs ?? 5000,
    options.initial === undefined ? undefined : [...options.initial],
  );
}

/**
 * The public keys of the dispersers the registry lists as active, with `extra` keys (given by the
 * operator) always included, polled every `pollMs` (5 s). `lastError()` is the last poll's failure
 * (undefined once a poll succeeds): a role's readiness check.
 */
export function registryDisperserFeed(
  options: L1Connection & { registry: Address; pollMs?: number; extra?: readonly Uint8Array[] },
): Feed<Uint8Array[]> & { read(): Promise<Uint8Array[]>; lastError(): string | undefined } {
  let error: string | undefined;
  const read = async (): Promise<Uint8Array[]> => {
    try {
      const listed = await readDispersers(options);
      error = undefined;
      const keys = new Map([...(options.extra ?? []), ...listed.map((d) => d.publicKey)].map((k) => [hex(k), k]));
      return [...keys.values()];
    } catch (err) {
      error = (err as Error).message;
      throw err;
    }
  };
  const feed = polled(read, (keys) => keys.map(hex).sort().join(","), options.pollMs ?? 5000);
  return { follow: feed.follow, read, lastError: () => error };
}

/**
 * The batches the inbox records: those of the last `lookbackBlocks` (7,200, about a day) when
 * following starts, then each new one as its `BatchPosted` event is seen.
 */
export function inboxFeed(
  options: L1Connection & { inbox: Address; lookbackBlocks?: number; pollingIntervalMs?: number },
): Feed<PostedBatch> {
  return {
    follow(apply, onError) {
      let stopped = false;
      let unwatch = () => {};
      void (async () => {
        const head = await publicClient(options.rpcUrl).getBlockNumber();
        const lookback = BigInt(options.lookbackBlocks ?? 7200);
        for (const batch of await postedBatches({ ...options, fromBlock: head > lookback ? head - lookback : 0n }))
          if (!stopped) apply(batch);
        if (stopped) return;
        unwatch = watchBatches({ ...options, onError }, apply);
      })().catch(onError);
      return () => {
        stopped = true;
        unwatch();
      };
    },
  };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
