// Two disperser replicas and two encoders on one real PostgreSQL server, in front of real storage
// nodes: a batch posted to one replica is read through the other, the same bytes given to both at
// once make one batch, blobs are encoded by the fleet and verified before dispersal, a lapsed
// lease is redone elsewhere, a bad result is refused, a dead replica's batch is failed and may be
// posted again, the database restarting answers 503 until it is back, and with no encoder left
// the replica encodes itself.
import { randomBytes } from "node:crypto";
import { batchIdFromRoot } from "@cellar/codec";
import {
  buildDisperserApp,
  createDisperserMetrics,
  Disperser,
  ENCODE_RESULT_BYTES,
  Encoder,
  EncoderFleet,
  PostgresDisperserStore,
} from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import { generateSecretKey, signEncodeRequest } from "@cellar/protocol";
import { runCli } from "@cellar/test-utils/cli";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";
import { postgresMissing, startPostgres } from "@cellar/test-utils/postgres";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import t from "tap";
import { request } from "undici";

const missing = postgresMissing();
if (missing) t.pass(`skipped: ${missing}`);
else {
  const kzg = sharedKzg({ precompute: true });
  const server = await startPostgres();
  t.teardown(() => server.close());
  const cluster = await startCluster(4, kzg);
  t.teardown(() => cluster.stop());

  interface Replica {
    disperser: Disperser;
    fleet: EncoderFleet;
    app: FastifyInstance;
    url: string;
  }
  const startReplica = async (): Promise<Replica> => {
    const store = await PostgresDisperserStore.open({ url: server.url });
    const metrics = createDisperserMetrics();
    const fleet = new EncoderFleet(
      { pool: store.pool, leaseMs: 1_000, checkMs: 100 },
      { kzg, registry: metrics.registry },
    );
    const disperser = new Disperser(
      { nodes: cluster.set, domain: TEST_DOMAIN, key: TEST_DISPERSER_KEY, store, claimLeaseMs: 1_000, lingerMs: 0 },
      { kzg, erasure: sharedErasure(), encoder: fleet, metrics },
    );
    const app = buildDisperserApp(disperser);
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    fleet.publicUrl = url;
    await disperser.start();
    return { disperser, fleet, app, url };
  };
  const a = await startReplica();
  const b = await startReplica();
  t.teardown(async () => {
    for (const r of [a, b]) {
      await r.app.close();
      await r.disperser.close();
    }
  });
  const encoders = [0, 1].map(
    () => new Encoder({ store: server.url, leaseMs: 1_000, pollMs: 20, heartbeatMs: 200 }, { kzg }),
  );
  await Promise.all(encoders.map((e) => e.start()));
  t.teardown(() => Promise.allSettled(encoders.map((e) => e.stop())));
  const db = new pg.Client(server.url);
  db.on("error", () => {}); // the restart test takes the server away under it
  await db.connect();
  t.teardown(() => db.end().catch(() => {}));

  const metric = async (registry: { metrics(): Promise<string> }, line: string) => {
    const text = await registry.metrics();
    const found = text.split("\n").find((l) => l.startsWith(line));
    return found ? Number(found.split(" ").pop()) : 0;
  };
  const post = async (url: string, bytes: Uint8Array) => {
    const res = await request(`${url}/v1/batches`, { method: "POST", body: bytes });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };

  t.test("a batch posted to one replica is encoded by the fleet and read through the other", async (t) => {
    const payload = new Uint8Array(randomBytes(126_976 * 4));
    const posted = await post(a.url, payload);
    t.equal(posted.status, 200, JSON.stringify(posted.body));
    t.equal(posted.body.status, "certified");
    const id = String(posted.body.id);
    const status = await request(`${b.url}/v1/batches/${id}`);
    t.equal(status.statusCode, 200);
    t.match(await status.body.json(), { id, status: "certified", certificate: { root: posted.body.root } });
    const data = await request(`${b.url}/v1/batches/${id}/data`);
    t.equal(data.statusCode, 200);
    t.same(Buffer.from(await data.body.arrayBuffer()), Buffer.from(payload), "the other replica rebuilt the bytes");
    const listed = (await (await request(`${b.url}/v1/batches`)).body.json()) as { batches: { id: string }[] };
    t.ok(
      listed.batches.some((x) => x.id === id),
      "listed by the other replica",
    );
    const done = await Promise.all(encoders.map((e) => metric(e.registry, 'cellar_encoder_jobs_total{result="done"}')));
    t.equal(
      done.reduce((x, y) => x + y, 0),
      5,
      "every blob (4 of payload, 1 for the frame's overflow) went to the fleet",
    );
    t.ok(
      done.every((n) => n > 0),
      `both encoders took part (${done.join(", ")})`,
    );
    const left = await db.query("SELECT count(*)::int AS n FROM cellar_encode_jobs");
    t.equal(left.rows[0].n, 0, "the batch's jobs are cleared");
  });

  t.test("the same bytes given to both replicas at once make one batch", async (t) => {
    const payload = new Uint8Array(randomBytes(200_000));
    const [x, y] = await Promise.all([post(a.url, payload), post(b.url, payload)]);
    t.equal(x.status, 200);
    t.equal(y.status, 200);
    t.equal(x.body.id, y.body.id);
    t.same(x.body.certificate, y.body.certificate, "one certificate, not two");
    const rows = await db.query("SELECT count(*)::int AS n FROM cellar_batches WHERE root = $1", [x.body.root]);
    t.equal(rows.rows[0].n, 1);
  });

  t.test("encode routes: signed by the lease holder, results verified before use", async (t) => {
    const key = generateSecretKey(new Uint8Array(32).fill(7));
    const id = randomBytes(16).toString("hex");
    const unsigned = await request(`${a.url}/v1/encode/jobs/${id}/blob`);
    t.equal(unsigned.statusCode, 401);
    t.match(await unsigned.body.json(), { error: { code: "CELLAR_ERR_DISPERSER_UNAUTHORIZED" } });
    const signed = await request(`${a.url}/v1/encode/jobs/${id}/blob`, {
      headers: signEncodeRequest(key, "GET", id, new Uint8Array()),
    });
    t.equal(signed.statusCode, 404, "no such job");
    t.match(await signed.body.json(), { error: { code: "CELLAR_ERR_DISPERSER_NOT_FOUND" } });
    const badId = await request(`${a.url}/v1/encode/jobs/NOT-HEX/blob`);
    t.equal(badId.statusCode, 400);
    const tooBig = await request(`${a.url}/v1/encode/jobs/${id}/result`, {
      method: "PUT",
      body: new Uint8Array(ENCODE_RESULT_BYTES + 1),
    });
    t.equal(tooBig.statusCode, 413, "results are capped at their exact size");

    // A job taken by a stranger: its blob and result are refused; once the lease lapses, the fleet redoes it.
    await encoders[0]?.stop();
    await encoders[1]?.stop();
    const stranger = "ab".repeat(48);
    await db.query(
      "INSERT INTO cellar_encoders (id, slots, seen_at) VALUES ($1, 1, (extract(epoch from clock_timestamp()) * 1000)::bigint + 60000)",
      [stranger],
    );
    const payload = new Uint8Array(randomBytes(1000));
    const posting = post(a.url, payload);
    let job: { id: string } | undefined;
    for (let i = 0; i < 100 && !job; i++) {
      const rows = await db.query(
        `UPDATE cellar_encode_jobs SET state = 'leased', leased_by = $1,
           lease_until = (extract(epoch from clock_timestamp()) * 1000)::bigint + 800
         WHERE state = 'queued' RETURNING id`,
        [stranger],
      );
      job = rows.rows[0];
      if (!job) await new Promise((r) => setTimeout(r, 20));
    }
    t.ok(job, "a job was queued for the fleet");
    const jobId = String(job?.id);
    const wrongKey = await request(`${a.url}/v1/encode/jobs/${jobId}/blob`, {
      headers: signEncodeRequest(key, "GET", jobId, new Uint8Array()),
    });
    t.equal(wrongKey.statusCode, 409, "a key that does not hold the lease is refused");
    t.match(await wrongKey.body.json(), { error: { code: "CELLAR_ERR_DISPERSER_LEASE_LOST" } });
    const lies = new Uint8Array(ENCODE_RESULT_BYTES);
    const bad = await request(`${a.url}/v1/encode/jobs/${jobId}/result`, {
      method: "PUT",
      body: lies,
      headers: signEncodeRequest(key, "PUT", jobId, new Uint8Array(8)),
    });
    t.equal(bad.statusCode, 401, "a signature over another body does not verify");
    const rejected = 'cellar_disperser_encode_results_total{result="rejected"}';
    const rejectedBefore = await metric(a.disperser.metrics.registry, rejected);
    const notHolder = await request(`${a.url}/v1/encode/jobs/${jobId}/result`, {
      method: "PUT",
      body: lies,
      headers: signEncodeRequest(key, "PUT", jobId, lies),
    });
    t.equal(notHolder.statusCode, 409, "a well-signed result from a key without the lease is refused");
    t.match(await notHolder.body.json(), { error: { code: "CELLAR_ERR_DISPERSER_LEASE_LOST" } });
    t.equal(
      await metric(a.disperser.metrics.registry, rejected),
      rejectedBefore,
      "before its proofs were verified (no result was judged)",
    );
    await db.query("DELETE FROM cellar_encoders WHERE id = $1", [stranger]);
    // The stranger's lease lapses and no encoder is alive: the replica encodes the blob itself.
    const done = await posting;
    t.equal(done.status, 200, JSON.stringify(done.body));
    t.equal(done.body.status, "certified");
    t.ok((await metric(a.disperser.metrics.registry, 'cellar_disperser_encode_results_total{result="local"}')) >= 1);
  });

  t.test("a result that does not verify is refused and the job goes back to the queue", async (t) => {
    const key = generateSecretKey(new Uint8Array(32).fill(9));
    const liar = Buffer.from(key.toPublicKey().toBytes()).toString("hex");
    const hex = `0x${liar}`;
    await db.query(
      "INSERT INTO cellar_encoders (id, slots, seen_at) VALUES ($1, 1, (extract(epoch from clock_timestamp()) * 1000)::bigint + 60000)",
      [hex],
    );
    const payload = new Uint8Array(randomBytes(5000));
    const posting = post(b.url, payload);
    let job: { id: string } | undefined;
    for (let i = 0; i < 100 && !job; i++) {
      const rows = await db.query(
        `UPDATE cellar_encode_jobs SET state = 'leased', leased_by = $1,
           lease_until = (extract(epoch from clock_timestamp()) * 1000)::bigint + 60000
         WHERE state = 'queued' RETURNING id`,
        [hex],
      );
      job = rows.rows[0];
      if (!job) await new Promise((r) => setTimeout(r, 20));
    }
    const jobId = String(job?.id);
    const blob = await request(`${b.url}/v1/encode/jobs/${jobId}/blob`, {
      headers: signEncodeRequest(key, "GET", jobId, new Uint8Array()),
    });
    t.equal(blob.statusCode, 200, "the lease holder gets the blob");
    t.equal((await blob.body.arrayBuffer()).byteLength, 131_072);
    const lies = new Uint8Array(randomBytes(ENCODE_RESULT_BYTES));
    const bad = await request(`${b.url}/v1/encode/jobs/${jobId}/result`, {
      method: "PUT",
      body: lies,
      headers: signEncodeRequest(key, "PUT", jobId, lies),
    });
    t.equal(bad.statusCode, 422);
    t.match(await bad.body.json(), { error: { code: "CELLAR_ERR_DISPERSER_BAD_ENCODING" } });
    const state = await db.query("SELECT state FROM cellar_encode_jobs WHERE id = $1", [jobId]);
    t.equal(state.rows[0]?.state, "queued", "back in the queue");
    await db.query("DELETE FROM cellar_encoders WHERE id = $1", [hex]);
    const done = await posting;
    t.equal(done.body.status, "certified", "encoded honestly in the end");
  });

  t.test("a replica that died mid-batch: its batch is failed, then posted again", async (t) => {
    const payload = new Uint8Array(randomBytes(3000));
    const hash = `0x${(await import("node:crypto")).createHash("sha256").update(payload).digest("hex")}`;
    // What a SIGKILLed replica leaves behind: its claim (no longer renewed) and a batch dispersing.
    const root = `0x${"ee".repeat(32)}`;
    await db.query(
      "INSERT INTO cellar_claims (payload_hash, owner, lease_until) VALUES ($1, 'replica-dead', (extract(epoch from clock_timestamp()) * 1000)::bigint + 300)",
      [hash],
    );
    const record = {
      root,
      id: batchIdFromRoot(Buffer.from("ee".repeat(32), "hex")),
      payloadHash: hash,
      size: payload.length,
      status: "dispersing",
      manifest: { version: 1, id: "x", root, size: payload.length, blobs: [] },
      createdAt: Date.now(),
      updatedAt: Date.now(),
    };
    await db.query(
      "INSERT INTO cellar_batches (root, payload_hash, status, record, created_at, updated_at) VALUES ($1, $2, 'dispersing', $3, $4, $4)",
      [root, hash, record, record.createdAt],
    );
    // A post of the same bytes waits on the live claim, then takes over once it lapses.
    const posted = await post(b.url, payload);
    t.equal(posted.status, 200);
    t.equal(posted.body.status, "certified", "finished by the other replica");
    for (let i = 0; i < 50; i++) {
      const row = await db.query("SELECT status FROM cellar_batches WHERE root = $1", [root]);
      if (row.rows[0]?.status === "failed") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const left = await request(`${a.url}/v1/batches/${root}`);
    t.match(await left.body.json(), { status: "failed", error: { code: "CELLAR_ERR_DISPERSER_INTERRUPTED" } });
  });

  t.test("an encoder gives back a job it cannot fetch, and one its replica refuses", async (t) => {
    const encoder = new Encoder({ store: server.url, leaseMs: 60_000, pollMs: 10 }, { kzg });
    t.teardown(() => encoder.stop());
    const now = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
    const claim = async (hash: string) =>
      db.query(`INSERT INTO cellar_claims (payload_hash, owner, lease_until) VALUES ($1, 'r', ${now} + 60000)`, [hash]);
    const job = async (id: string, hash: string, url: string) =>
      db.query(
        `INSERT INTO cellar_encode_jobs (id, payload_hash, owner, blob, replica_url, state, created_at)
         VALUES ($1, $2, 'r', 0, $3, 'queued', ${now})`,
        [id, hash, url],
      );
    // A replica that is gone (nothing listens) and one that does not know the job (404).
    const gone = randomBytes(16).toString("hex");
    const unknown = randomBytes(16).toString("hex");
    await claim("0xgone");
    await claim("0xunknown");
    await job(gone, "0xgone", "http://127.0.0.1:9");
    await job(unknown, "0xunknown", a.url);
    await encoder.start();
    await encoder.start(); // idempotent
    t.equal(await encoder.ready(), true);
    for (let i = 0; i < 200; i++) {
      const { rows } = await db.query("SELECT min(attempts)::int AS n FROM cellar_encode_jobs WHERE id = ANY($1)", [
        [gone, unknown],
      ]);
      if (rows[0].n >= 2) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const { rows } = await db.query("SELECT id, state, attempts FROM cellar_encode_jobs WHERE id = ANY($1)", [
      [gone, unknown],
    ]);
    t.equal(rows.length, 2);
    for (const row of rows) t.ok(row.attempts >= 2, `job ${row.id} leased again after being given back`);
    t.ok((await metric(encoder.registry, 'cellar_encoder_jobs_total{result="failed"}')) >= 1, "unreachable: failed");
    t.ok((await metric(encoder.registry, 'cellar_encoder_jobs_total{result="refused"}')) >= 1, "404: refused");
    await encoder.stop();
    await db.query("DELETE FROM cellar_encode_jobs WHERE id = ANY($1)", [[gone, unknown]]);
    await db.query("DELETE FROM cellar_claims WHERE owner = 'r'");
    t.equal(
      (await db.query("SELECT count(*)::int AS n FROM cellar_encoders WHERE id = $1", [encoder.id])).rows[0].n,
      0,
    );
    t.throws(() => new Encoder({ store: server.url, slots: 0 }, { kzg }), { code: "CELLAR_ERR_DISPERSER_CONFIG" });
    t.throws(() => new Encoder({ store: server.url, leaseMs: 1 }, { kzg }), { code: "CELLAR_ERR_DISPERSER_CONFIG" });
    t.throws(() => (a.fleet.publicUrl = "ftp://x/y"), { code: "CELLAR_ERR_DISPERSER_CONFIG" });
  });

  t.test("cellar encoder and the replicas' store flags", async (t) => {
    const down = await runCli(["encoder", "--store", "postgres://postgres@127.0.0.1:9/x", "--json"]);
    t.equal(down.code, 1);
    t.match(JSON.parse(down.stdout), { error: { code: "CELLAR_ERR_DISPERSER_STORE_UNAVAILABLE" } });
    const bad = await runCli(["encoder", "--store", "mysql://x"]);
    t.equal(bad.code, 2, "a store that is not PostgreSQL is a usage error");
    const devnet = await runCli(["devnet", "--replicas", "2"]);
    t.equal(devnet.code, 2, "replicas without a shared store");
    t.match(devnet.stderr, /--store postgres/);
    const help = await runCli(["encoder", "--help"]);
    t.match(help.stdout, /--slots/);
  });

  t.test("the database restarting: 503 meanwhile, then served again", async (t) => {
    const payload = new Uint8Array(randomBytes(1000));
    const posted = await post(a.url, payload);
    const id = String(posted.body.id);
    await server.stop();
    const ready = await request(`${a.url}/readyz`);
    t.equal(ready.statusCode, 503);
    t.match(await ready.body.json(), { error: { code: "CELLAR_ERR_SERVICE_NOT_READY" } });
    const status = await request(`${b.url}/v1/batches/${id}`);
    t.equal(status.statusCode, 503);
    t.match(await status.body.json(), { error: { code: "CELLAR_ERR_DISPERSER_STORE_UNAVAILABLE" } });
    t.ok(status.headers["retry-after"], "with Retry-After");
    await server.start();
    await db.end().catch(() => {});
    for (const r of [a, b]) {
      const again = await request(`${r.url}/readyz`);
      t.equal(again.statusCode, 200, "ready again");
      await again.body.dump();
    }
    const after = await request(`${b.url}/v1/batches/${id}`);
    t.equal(after.statusCode, 200);
    t.match(await after.body.json(), { status: "certified" });
  });
}
