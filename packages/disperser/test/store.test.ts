// The disperser's store interface, run against every implementation: the embedded LMDB store
// (one machine), the in-memory one (throwaway runs) and PostgreSQL (replicas), the last on a real
// server started for this file.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BatchRecord,
  type DisperserStore,
  LmdbDisperserStore,
  MemoryDisperserStore,
  PayloadCache,
  PostgresDisperserStore,
} from "@cellar/disperser";
import { postgresMissing, startPostgres } from "@cellar/test-utils/postgres";
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

type Made = { store: DisperserStore; reopen?: () => Promise<DisperserStore>; done: () => void | Promise<void> };
const stores: [string, () => Promise<Made>][] = [
  ["memory", async () => ({ store: new MemoryDisperserStore(), done: () => {} })],
  [
    "lmdb",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "cellar-dstore-"));
      const path = join(dir, "batches.lmdb");
      return {
        store: new LmdbDisperserStore(path),
        reopen: async () => new LmdbDisperserStore(path),
        done: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    "postgres",
    async () => {
      const server = await startPostgres();
      const store = await PostgresDisperserStore.open({ url: server.url });
      return {
        store,
        reopen: () => PostgresDisperserStore.open({ url: server.url }),
        done: () => server.close(),
      };
    },
  ],
];

for (const [name, make] of stores) {
  const skip = name === "postgres" ? postgresMissing() : undefined;
  t.test(`${name}: put, get, by payload, recent, claims, in-flight, prune`, { skip: skip ?? false }, async (t) => {
    const { store, reopen, done } = await make();
    t.teardown(done);
    const now = 1_000_000;
    await store.put(record(1, "certified", now - 3000));
    await store.put(record(2, "dispersing", now - 2000));
    await store.put(record(3, "failed", now - 1000));
    t.equal(await store.count(), 3);
    t.equal((await store.get(record(1, "certified", 0).root))?.status, "certified");
    t.equal(await store.get("0xnone"), undefined);
    t.equal((await store.byPayload(record(1, "certified", 0).payloadHash))?.id, "batch-1");
    t.equal(
      await store.byPayload(record(3, "failed", 0).payloadHash),
      undefined,
      "a failed batch is not found by payload",
    );
    t.same(
      (await store.recent(2)).map((r) => r.id),
      ["batch-3", "batch-2"],
      "newest first",
    );
    // An update keeps the batch's age.
    await store.put({ ...record(1, "certified", now), updatedAt: now });
    t.same(
      (await store.recent(10)).map((r) => r.id),
      ["batch-3", "batch-2", "batch-1"],
    );
    // A batch in flight under a live claim is someone's work: the sweep leaves it alone.
    await store.put(record(4, "encoding", now - 500));
    t.ok(await store.claim(record(4, "encoding", 0).payloadHash, "a", 60_000), "a claims");
    t.notOk(await store.claim(record(4, "encoding", 0).payloadHash, "b", 60_000), "b must wait");
    t.ok(await store.claim(record(4, "encoding", 0).payloadHash, "a", 60_000), "a renews");
    // A certificate stays: a second one for the same root, or a late failure, does not replace it.
    const other = {
      ...record(1, "certified", now),
      certificate: { root: "0x", reference: "0", signers: [9], signerBitmap: "0x", signature: "0x" },
    };
    await store.put(other as BatchRecord);
    t.notOk((await store.get(record(1, "certified", 0).root))?.certificate, "the first record stays");
    await store.put(record(1, "failed", now));
    t.equal((await store.get(record(1, "certified", 0).root))?.status, "certified");
    await store.put(record(1, "available", now));
    t.equal((await store.get(record(1, "certified", 0).root))?.status, "available", "the available verdict follows");
    await store.put(record(1, "certified", now));
    t.equal((await store.get(record(1, "certified", 0).root))?.status, "available", "and stays");
    const stuck = await store.failInFlight({ code: "CELLAR_ERR_DISPERSER_INTERRUPTED", message: "stopped" }, now);
    t.same(
      stuck.map((r) => r.id),
      ["batch-2"],
    );
    t.match(await store.get(record(2, "failed", 0).root), {
      status: "failed",
      error: { code: "CELLAR_ERR_DISPERSER_INTERRUPTED" },
    });
    t.equal(await store.byPayload(record(2, "failed", 0).payloadHash), undefined, "and may be posted again");
    t.equal((await store.get(record(4, "encoding", 0).root))?.status, "encoding", "the claimed batch is untouched");
    await store.release(record(4, "encoding", 0).payloadHash, "b");
    t.notOk(await store.claim(record(4, "encoding", 0).payloadHash, "b", 60_000), "only the owner releases");
    await store.release(record(4, "encoding", 0).payloadHash, "a");
    t.ok(await store.claim(record(4, "encoding", 0).payloadHash, "b", 100), "released: b takes it");
    await new Promise((r) => setTimeout(r, 150));
    t.ok(await store.claim(record(4, "encoding", 0).payloadHash, "c", 60_000), "a lapsed lease is taken over");
    await store.release(record(4, "encoding", 0).payloadHash, "c");
    t.same(
      (await store.failInFlight({ code: "CELLAR_ERR_DISPERSER_INTERRUPTED", message: "stopped" }, now)).map(
        (r) => r.id,
      ),
      ["batch-4"],
      "unclaimed, it is failed",
    );
    t.equal(await store.prune(now - 1500), 2, "the two oldest go");
    t.equal(await store.count(), 2);
    t.equal(await store.prune(now - 1500), 0);
    if (reopen) {
      await store.close();
      const again = await reopen();
      t.equal(
        (await again.get(record(3, "failed", 0).root))?.id,
        "batch-3",
        "what was written is there after a reopen",
      );
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
