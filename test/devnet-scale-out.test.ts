// `cellar devnet --store postgres --replicas 2 --encoders 2`, as a user runs it: its own
// PostgreSQL, two disperser replicas and two encoders. A batch posted to the second replica is
// encoded by the encoders and read back through the first; SIGTERM stops every process, the
// database included, and removes the database's files.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DisperserClient } from "@cellar/client";
import { devnetPids, startDevnetProcess, waitGone } from "@cellar/test-utils/devnet-process";
import { postgresMissing } from "@cellar/test-utils/postgres";
import t from "tap";

const missing = postgresMissing();
if (missing) t.pass(`skipped: ${missing}`);
else
  t.test("a devnet of two replicas and two encoders on its own PostgreSQL", async (t) => {
    const dir = t.testdir({});
    const devnet = await startDevnetProcess([
      ...["--nodes", "4", "--dir", join(dir, "net"), "--store", "postgres", "--replicas", "2", "--encoders", "2"],
    ]);
    t.teardown(() => devnet.stop());
    const { info } = devnet;
    t.equal(info.replicas?.length, 2);
    t.equal(info.encoders?.length, 2);
    t.match(info.postgres, { url: /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/ });
    t.equal(info.replicas?.[0]?.url, info.disperser.url, "the first replica is the devnet's disperser");
    const [first, second] = (info.replicas ?? []).map((r) => new DisperserClient(r.url));
    if (!first || !second) throw new Error("two replicas expected");
    const payload = new Uint8Array(randomBytes(400_000));
    const posted = await second.post(payload);
    t.equal(posted.status, "certified");
    t.equal((await first.status(posted.id)).status, "certified", "the other replica knows it");
    t.same(Buffer.from(await first.data(posted.id)), Buffer.from(payload), "and reads it back");
    let done = 0;
    for (const encoder of info.encoders ?? []) {
      const text = await (await fetch(`${encoder.url}/metrics`)).text();
      done += Number(/cellar_encoder_jobs_total\{result="done"\} (\d+)/.exec(text)?.[1] ?? 0);
    }
    t.equal(done, 4, "the batch's 4 blobs were encoded by the encoders");
    for (const c of [first, second]) await c.close();
    t.equal(await devnet.stop(), 0);
    t.same(await waitGone(devnetPids(info)), [], "every process is gone");
    t.notOk(existsSync(info.postgres?.dir ?? ""), "the database's files are removed");
  });
