// The encoder fleet's routes (PROTOCOL.md §22) under fast-check: `GET /v1/encode/jobs/:id/blob`
// and `PUT /v1/encode/jobs/:id/result` on a disperser replica backed by a real PostgreSQL, while
// a post's jobs are open and leased to one encoder key. Requests come with malformed job ids,
// methods, bodies (random, truncated, oversized, the true result with a byte changed) and
// authorisations (none, garbage, expired, another key, the lease holder's signature over another
// method, job or body). Crashes 0, 5xx 0, every refusal a JSON error, no result taken but the
// true one; then the true results complete the post, which certifies and reads back exactly.
import { randomBytes } from "node:crypto";
import { encodeBlob } from "@cellar/codec";
import {
  buildDisperserApp,
  createDisperserMetrics,
  Disperser,
  ENCODE_RESULT_BYTES,
  EncoderFleet,
  PostgresDisperserStore,
  serializeEncoded,
} from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import { generateSecretKey, signEncodeRequest } from "@cellar/protocol";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";
import { postgresMissing, startPostgres } from "@cellar/test-utils/postgres";
import { figure, rounds } from "@cellar/test-utils/reliability";
import { toHex } from "@cellar/utils";
import fc from "fast-check";
import pg from "pg";
import t from "tap";
import { Agent, request } from "undici";

const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
const missing = postgresMissing();
if (missing) t.pass(`skipped: ${missing}`);
else {
  const kzg = sharedKzg({ precompute: true });
  const server = await startPostgres();
  t.teardown(() => server.close());
  const cluster = await startCluster(4, kzg);
  t.teardown(() => cluster.stop());
  const store = await PostgresDisperserStore.open({ url: server.url });
  const metrics = createDisperserMetrics();
  const fleet = new EncoderFleet(
    { pool: store.pool, leaseMs: 600_000, checkMs: 100, deadlineMs: 1_800_000 },
    { kzg, registry: metrics.registry },
  );
  const disperser = new Disperser(
    { nodes: cluster.set, domain: TEST_DOMAIN, key: TEST_DISPERSER_KEY, store },
    { kzg, erasure: sharedErasure(), encoder: fleet, metrics },
  );
  const app = buildDisperserApp(disperser, { limits: { rateLimit: { max: 0, windowMs: 1000 } } });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  fleet.publicUrl = url;
  await disperser.start();
  t.teardown(async () => {
    await app.close();
    await disperser.close();
  });
  const db = new pg.Client(server.url);
  await db.connect();
  t.teardown(() => db.end());
  const agent = new Agent({ connections: 8 });
  t.teardown(() => agent.close());

  // One encoder key holds every lease; it is alive (a heartbeat far ahead) but does no work, so
  // the jobs stay open for as long as the fuzz runs.
  const holder = generateSecretKey(new Uint8Array(32).fill(11));
  const holderId = toHex(holder.toPublicKey().toBytes());
  const stranger = generateSecretKey(new Uint8Array(32).fill(12));
  await db.query(`INSERT INTO cellar_encoders (id, slots, seen_at) VALUES ($1, 1, ${NOW_MS} + 3600000)`, [holderId]);
  const payload = new Uint8Array(randomBytes(150_000));
  const posting = request(`${url}/v1/batches`, { method: "POST", body: payload, dispatcher: agent }).then(
    async (res) => ({ status: res.statusCode, body: (await res.body.json()) as { status?: string; id?: string } }),
  );
  let ids: string[] = [];
  for (let i = 0; i < 200 && ids.length === 0; i++) {
    ids = (await db.query<{ id: string }>("SELECT id FROM cellar_encode_jobs ORDER BY blob")).rows.map((r) => r.id);
    if (ids.length === 0) await new Promise((r) => setTimeout(r, 50));
  }
  const lease = () =>
    db.query(
      `UPDATE cellar_encode_jobs SET state = 'leased', leased_by = $1, lease_until = ${NOW_MS} + 600000
       WHERE id = ANY($2::text[]) AND state <> 'done'`,
      [holderId, ids],
    );
  await lease();
  // The true results, from the blobs the replica hands the lease holder.
  const results = new Map<string, Buffer>();
  for (const id of ids) {
    const res = await request(`${url}/v1/encode/jobs/${id}/blob`, {
      headers: signEncodeRequest(holder, "GET", id, new Uint8Array()),
      dispatcher: agent,
    });
    const blob = new Uint8Array(await res.body.arrayBuffer());
    results.set(id, Buffer.from(serializeEncoded(await encodeBlob(blob, kzg))));
  }

  t.test("fast-check: malformed requests to the encode routes", async (t) => {
    t.ok(ids.length > 0, `${ids.length} open jobs, leased to one encoder key`);
    const n = rounds("fuzz_encode", 400, 20_000);
    // Weighted towards requests that come close: open jobs, the two routes, their own methods.
    const jobId = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...ids) },
      { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{32}$/) },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.constantFrom("NOT-HEX", "", "0x", (ids[0] as string).toUpperCase(), `${ids[0]}00`, "%ff", "a".repeat(500)),
          fc.string({ maxLength: 40 }),
        ),
      },
    );
    const body = fc.oneof(
      fc.constant({ kind: "none" as const }),
      fc.constant({ kind: "true" as const }),
      fc.record({
        kind: fc.constant("flip" as const),
        at: fc.nat(ENCODE_RESULT_BYTES - 1),
        xor: fc.integer({ min: 1, max: 255 }),
      }),
      fc.record({ kind: fc.constant("cut" as const), length: fc.nat(ENCODE_RESULT_BYTES - 1) }),
      fc.constantFrom({ kind: "oversized" as const }, { kind: "zeros" as const }),
      fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({ kind: "random" as const, bytes })),
    );
    const auth = fc.constantFrom(
      "none",
      "holder",
      "holder",
      "holder-other-method",
      "holder-other-job",
      "holder-other-body",
      "holder-expired",
      "stranger",
      "garbage",
    );
    const requests = fc.record({
      id: jobId,
      route: fc.oneof(
        { weight: 3, arbitrary: fc.constant("blob") },
        { weight: 6, arbitrary: fc.constant("result") },
        { weight: 1, arbitrary: fc.constantFrom("", "blob/x", "result/") },
      ),
      method: fc.oneof(
        { weight: 8, arbitrary: fc.constant("own" as const) },
        { weight: 2, arbitrary: fc.constantFrom("GET", "PUT", "POST", "DELETE") },
      ),
      body,
      auth,
    });
    const tally = { sent: 0, fiveXx: [] as string[], notJson: [] as string[], taken: [] as string[], wrongBlob: 0 };
    const statuses = new Map<number, number>();
    for (const sample of fc.sample(requests, n)) {
      const r = {
        ...sample,
        method: sample.method === "own" ? (sample.route === "blob" ? "GET" : "PUT") : sample.method,
      };
      await lease();
      const known = results.get(r.id);
      const truth = known ?? Buffer.from(results.values().next().value as Buffer);
      let bytes: Buffer | undefined;
      if (r.body.kind === "true") bytes = truth;
      else if (r.body.kind === "flip") {
        bytes = Buffer.from(truth);
        bytes[r.body.at] = (bytes[r.body.at] as number) ^ r.body.xor;
      } else if (r.body.kind === "cut") bytes = truth.subarray(0, r.body.length);
      else if (r.body.kind === "oversized") bytes = Buffer.concat([truth, Buffer.alloc(1)]);
      else if (r.body.kind === "zeros") bytes = Buffer.alloc(ENCODE_RESULT_BYTES);
      else if (r.body.kind === "random") bytes = Buffer.from(r.body.bytes);
      const sent = r.method === "GET" ? new Uint8Array() : (bytes ?? new Uint8Array());
      // The one request that must be taken is the true result signed by the holder: not a fuzz case.
      const a = r.auth === "holder" && r.body.kind === "true" && r.method === "PUT" ? "stranger" : r.auth;
      let headers: Record<string, string> = {};
      const id = /^[0-9a-f]{1,64}$/.test(r.id) ? r.id : "00";
      if (a === "holder") headers = signEncodeRequest(holder, r.method, id, sent);
      else if (a === "holder-other-method")
        headers = signEncodeRequest(holder, r.method === "GET" ? "PUT" : "GET", id, sent);
      else if (a === "holder-other-job") headers = signEncodeRequest(holder, r.method, "ab".repeat(16), sent);
      else if (a === "holder-other-body")
        headers = signEncodeRequest(holder, r.method, id, Buffer.concat([sent, Buffer.alloc(1)]));
      else if (a === "holder-expired")
        headers = signEncodeRequest(holder, r.method, id, sent, { now: Date.now() - 3_600_000 });
      else if (a === "stranger") headers = signEncodeRequest(stranger, r.method, id, sent);
      else if (a === "garbage")
        headers = {
          "x-cellar-encoder": "0x1234",
          "x-cellar-signature": "zz",
          "x-cellar-nonce": "1",
          "x-cellar-expires": "-1",
        };
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(`${url}/v1/encode/jobs/${encodeURIComponent(r.id)}/${r.route}`, {
          method: r.method,
          headers: {
            ...headers,
            ...(bytes && r.method !== "GET" ? { "content-type": "application/octet-stream" } : {}),
          },
          body: r.method === "GET" || bytes === undefined ? null : bytes,
          dispatcher: agent,
        });
      } catch (err) {
        if ((err as { code?: string }).code === "UND_ERR_INVALID_ARG" || err instanceof TypeError) continue;
        throw err;
      }
      tally.sent++;
      const answer = Buffer.from(await res.body.arrayBuffer());
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const what = `${r.method} ${r.route} ${r.id.slice(0, 40)} ${r.body.kind} ${a} → ${res.statusCode} ${answer.toString().slice(0, 100)}`;
      if (res.statusCode >= 500) tally.fiveXx.push(what);
      if (res.statusCode === 200 && r.route === "result") tally.taken.push(what);
      if (res.statusCode === 200 && r.route === "blob" && (known === undefined || a !== "holder")) tally.wrongBlob++;
      if (res.statusCode >= 400) {
        try {
          const json = JSON.parse(answer.toString()) as { error?: { code?: unknown; message?: unknown } };
          if (!/^CELLAR_ERR_[A-Z_]+$/.test(String(json.error?.code)) || typeof json.error?.message !== "string")
            tally.notJson.push(what);
        } catch {
          tally.notJson.push(what);
        }
      }
    }
    t.same(tally.fiveXx.slice(0, 5), [], `5xx answers: ${tally.fiveXx.length}`);
    t.same(tally.notJson.slice(0, 5), [], `refusals that were not a JSON error: ${tally.notJson.length}`);
    t.same(tally.taken.slice(0, 5), [], `results taken: ${tally.taken.length}`);
    t.equal(tally.wrongBlob, 0, "a blob went only to its lease holder");
    t.comment(`statuses: ${[...statuses].map(([s, c]) => `${s}×${c}`).join(" ")}`);
    t.equal((await request(`${url}/healthz`, { dispatcher: agent })).statusCode, 200, "healthy after");

    // The true results, from the lease holder: the post completes.
    await lease();
    for (const [id, result] of results) {
      const res = await request(`${url}/v1/encode/jobs/${id}/result`, {
        method: "PUT",
        body: result,
        headers: { "content-type": "application/octet-stream", ...signEncodeRequest(holder, "PUT", id, result) },
        dispatcher: agent,
      });
      t.equal(res.statusCode, 200, `job ${id.slice(0, 8)}: the true result is taken`);
      await res.body.dump();
    }
    const posted = await posting;
    t.equal(posted.body.status, "certified", "the post certifies");
    const data = await request(`${url}/v1/batches/${posted.body.id}/data`, { dispatcher: agent });
    t.same(Buffer.from(await data.body.arrayBuffer()), Buffer.from(payload), "and reads back exactly");
    figure(t, {
      area: "malformed input",
      guarantee: "crashes 0, 5xx 0, every refusal a JSON error; no result taken but the true one",
      attack:
        "fast-check requests to the encode routes of a replica on PostgreSQL (job ids, methods, truncated, flipped and oversized results, forged, expired and misdirected signatures)",
      count: tally.sent,
      observed: `${tally.fiveXx.length} × 5xx, ${tally.notJson.length} non-JSON refusals, ${tally.taken.length} results taken; the true results then certified the post`,
      bound: "0, 0, 0",
    });
  });
}
