// Crash tests of the scale-out disperser with real processes: two `cellar disperser` replicas and
// two `cellar encoder`s on one real PostgreSQL, in front of real storage nodes. A replica
// SIGKILLed mid-batch leaves nothing half-certified: the same bytes posted to the other replica
// are taken over once the dead one's claim lapses, and certified whole. An encoder SIGKILLed
// mid-batch loses nothing: its leases lapse and the other encoder redoes the blobs.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sharedKzg } from "@cellar/kzg";
import { PAYLOAD_BYTES_PER_BLOB } from "@cellar/params";
import { startCluster } from "@cellar/test-utils/cluster";
import { type NodeProcess, startServerProcess } from "@cellar/test-utils/node-process";
import { boundEntry, nodeSetJson } from "@cellar/test-utils/node-set";
import { postgresMissing, startPostgres } from "@cellar/test-utils/postgres";
import pg from "pg";
import t from "tap";
import { request } from "undici";

const missing = postgresMissing();
if (missing) t.pass(`skipped: ${missing}`);
else {
  const kzg = sharedKzg();
  const server = await startPostgres();
  t.teardown(() => server.close());
  // The CLI's default attestation domain: chain 31337, the zero inbox.
  const cluster = await startCluster(4, kzg, { chainId: 31337n, inbox: new Uint8Array(20) });
  t.teardown(() => cluster.stop());
  const dir = mkdtempSync(join(tmpdir(), "cellar-scale-crash-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const nodesFile = join(dir, "nodes.json");
  writeFileSync(nodesFile, nodeSetJson(cluster.nodes.map((n) => boundEntry(n.identity.secretKey, n.url))));

  const children: NodeProcess[] = [];
  t.teardown(() => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill("SIGKILL");
  });
  const start = async (role: string, args: string[]) => {
    const p = await startServerProcess(role, args, 60_000);
    children.push(p);
    return p;
  };
  const replicaArgs = ["--nodes", nodesFile, "--store", server.url, "--claim-lease", "2", "--deadline", "20"];
  const [a, b] = await Promise.all([start("disperser", replicaArgs), start("disperser", replicaArgs)]);
  const encoderArgs = ["--store", server.url, "--lease", "2"];
  const encoders = await Promise.all([start("encoder", encoderArgs), start("encoder", encoderArgs)]);
  const db = new pg.Client(server.url);
  await db.connect();
  t.teardown(() => db.end());

  const post = async (url: string, bytes: Uint8Array) => {
    const res = await request(`${url}/v1/batches`, { method: "POST", body: bytes, headersTimeout: 120_000 });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };
  const until = async (what: string, check: () => Promise<boolean>, ms = 60_000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const jobs = async (state: string) =>
    (await db.query("SELECT count(*)::int AS n FROM cellar_encode_jobs WHERE state = $1", [state])).rows[0].n as number;

  t.test("a replica SIGKILLed mid-batch: the other finishes the same bytes, whole", async (t) => {
    const payload = new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB * 4));
    const first = post(a.url, payload).catch((err: Error) => err);
    await until("the fleet to start on the batch", async () => (await jobs("done")) + (await jobs("leased")) > 0);
    a.child.kill("SIGKILL");
    t.equal(await a.exited, "SIGKILL");
    t.type(await first, Error, "the client of the dead replica lost its answer");
    const again = await post(b.url, payload);
    t.equal(again.status, 200, JSON.stringify(again.body));
    t.equal(again.body.status, "certified", "taken over and certified by the other replica");
    const data = await request(`${b.url}/v1/batches/${again.body.id}/data`);
    t.same(Buffer.from(await data.body.arrayBuffer()), Buffer.from(payload), "every blob is there");
    const rows = await db.query("SELECT status FROM cellar_batches WHERE payload_hash = $1", [
      (await db.query("SELECT payload_hash FROM cellar_batches WHERE root = $1", [again.body.root])).rows[0]
        .payload_hash,
    ]);
    t.same(
      rows.rows.map((r) => r.status),
      ["certified"],
      "one batch, certified",
    );
    await until(
      "the dead replica's jobs to be swept",
      async () => (await jobs("queued")) + (await jobs("leased")) === 0,
    );
  });

  t.test("an encoder SIGKILLed mid-batch: its blobs are redone by the other", async (t) => {
    const payload = new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB * 4));
    const posting = post(b.url, payload);
    const victim = encoders[0] as NodeProcess;
    await until("the encoder to hold a lease", async () => {
      const { rows } = await db.query("SELECT count(*)::int AS n FROM cellar_encode_jobs WHERE leased_by = $1", [
        (victim.ready as unknown as { id: string }).id,
      ]);
      return rows[0].n > 0;
    });
    victim.child.kill("SIGKILL");
    t.equal(await victim.exited, "SIGKILL");
    const done = await posting;
    t.equal(done.status, 200, JSON.stringify(done.body));
    t.equal(done.body.status, "certified");
    const data = await request(`${b.url}/v1/batches/${done.body.id}/data`);
    t.same(Buffer.from(await data.body.arrayBuffer()), Buffer.from(payload));
  });
}
