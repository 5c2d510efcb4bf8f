// The disperser's store interface, run against both implementations: the embedded LMDB store
// (one machine) and the in-memory one (throwaway runs). A shared database backend must pass the
// same suite.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BatchRecord,
  type DisperserStore,
  LmdbDisperserStore,
  MemoryDisperserStore,
  PayloadCache,
} from "@cellar/disperser";
import t from "tap";

const record = (n: number, status: BatchRecord["status"], createdAt: number): BatchRecord => ({
  root: `0x${n.toString(16).padStart(64, "0")}`,
  id: `batch-${n}`,
  payloadHash: `0x${(n + 1000).toString(16).padStart(64, "0")}`,
  size: n,
  status,
  manifest: { version: 1, id: `batch-${n}`, root: `0x${n.toString(16).padStart(64, "0")}`, size: n, blobs: [] },
  createdAt,
  updatedAt: createdAt,
});

const stores: [string, () => { store: DisperserStore; reopen?: () => DisperserStore; done: () => void }][] = [
  ["memory", () => ({ store: new MemoryDisperserStore(), done: () => {} })],
  [
    "lmdb",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "cellar-dstore-"));
      const path = join(dir, "batches.lmdb");
      return {
        store: new LmdbDisperserStore(path),
        reopen: () => new LmdbDisperserStore(path),
        done: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
];

for (const [name, make] of stores) {
  t.test(`${name}: put, get, by payload, recent, in-flight, prune`, async (t) => {
    const { store, reopen, done } = make();
    t.teardown(done);
    const now = 1_000_000;
    await store.put(record(1, "certified", now - 3000));
    await store.put(record(2, "dispersing", now - 2000));
    await store.put(record(3, "failed", now - 1000));
    t.equal(store.count(), 3);
    t.equal(store.get(record(1, "certified", 0).root)?.status, "certified");
    t.equal(store.get("0xnone"), undefined);
    t.equal(store.byPayload(record(1, "certified", 0).payloadHash)?.id, "batch-1");
    t.equal(store.byPayload(record(3, "failed", 0).payloadHash), undefined, "a failed batch is not found by payload");
    t.same(
      store.recent(2).map((r) => r.id),
      ["batch-3", "batch-2"],
      "newest first",
    );
    // An update keeps the batch's age.
    await store.put({ ...record(1, "certified", now), updatedAt: now });
    t.same(
      store.recent(10).map((r) => r.id),
      ["batch-3", "batch-2", "batch-1"],
    );
    const stuck = await store.failInFlight({ code: "CELLAR_ERR_DISPERSER_INTERRUPTED", message: "stopped" }, now);
    t.same(
      stuck.map((r) => r.id),
      ["batch-2"],
    );
    t.match(store.get(record(2, "failed", 0).root), {
      status: "failed",
      error: { code: "CELLAR_ERR_DISPERSER_INTERRUPTED" },
    });
    t.equal(store.byPayload(record(2, "failed", 0).payloadHash), undefined, "and may be posted again");
    t.equal(await store.prune(now - 1500), 2, "the two oldest go");
    t.equal(store.count(), 1);
    t.equal(await store.prune(now - 1500), 0);
    if (reopen) {
      await store.close();
      const again = reopen();
      t.equal(again.get(record(3, "failed", 0).root)?.id, "batch-3", "what was written is there after a reopen");
      await again.close();
    } else await store.close();
  });
}

t.test("the payload cache keeps recent payloads within its byte budget", async (t) => {
  const cache = new PayloadCache(10);
  cache.set("a", new Uint8Array(4));
  cache.set("b", new Uint8Array(4));
  t.ok(cache.get("a"), "a is used, so b is now the oldest");
  cache.set("c", new Uint8Array(4));
  t.equal(cache.get("b"), undefined, "b made room");
  t.ok(cache.get("a"));
  t.ok(cache.get("c"));
  t.equal(cache.bytes, 8);
  cache.set("a", new Uint8Array(6));
  t.equal(cache.bytes, 10, "a replaced in place");
  cache.set("huge", new Uint8Array(11));
  t.equal(cache.get("huge"), undefined, "a payload over the whole budget is not cached");
  t.equal(cache.bytes, 10);
});
