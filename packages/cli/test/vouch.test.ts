// What `cellar settle` waits for before it posts anything: a light node's verdict (a real light
// node over real storage nodes), or its own sampling round; and every way that can fail (refused
// certificate, a light node that never decides, a batch that is gone).
import { randomBytes } from "node:crypto";
import { vouchByLightNode, vouchBySampling } from "@cellar/cli";
import { Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { DEFAULT_TARGET, LightNode } from "@cellar/light";
import { sharedErasure } from "@cellar/native";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";
import Fastify from "fastify";
import t from "tap";

const kzg = sharedKzg();
const cluster = await startCluster(8, kzg);
t.teardown(() => cluster.stop());
const disperser = new Disperser(
  { key: TEST_DISPERSER_KEY, nodes: cluster.set, domain: TEST_DOMAIN },
  { kzg, erasure: sharedErasure() },
);
t.teardown(() => disperser.close());
const posted = await disperser.post(new Uint8Array(randomBytes(40_000)));
const light = new LightNode({ nodes: cluster.set, domain: TEST_DOMAIN, intervalMs: 3_600_000 }, { kzg });
const lightUrl = await light.listen();
t.teardown(() => light.stop());
// Generous: the nodes here all answer, and a loaded machine must not pass for one that does not.
const own = { nodes: cluster.set, replication: 2, target: DEFAULT_TARGET, deadlineMs: 120_000, timeoutMs: 30_000 };

t.test("a light node registers the certified batch, samples it and vouches", async (t) => {
  const vouch = await vouchByLightNode({
    light: `${lightUrl}/`,
    id: posted.id,
    certificate: posted.certificate,
    target: DEFAULT_TARGET,
    deadlineMs: 20_000,
    pollMs: 20,
  });
  t.match(vouch, { by: lightUrl, target: DEFAULT_TARGET });
  t.ok(vouch.confidence >= DEFAULT_TARGET && vouch.samples > 0 && vouch.verified > 0);
  t.ok(Date.parse(vouch.at) > 0, "with the time of its verdict");
});

t.test("the own sampler vouches as the caller names it", async (t) => {
  const root = Buffer.from(posted.root.slice(2), "hex");
  const vouch = await vouchBySampling({ ...own, root, by: "cellar settle" });
  t.match(vouch, { by: "cellar settle", target: DEFAULT_TARGET });
  t.ok(vouch.confidence >= DEFAULT_TARGET);
});

t.test("a certificate the light node refuses fails before any wait", async (t) => {
  await t.rejects(
    vouchByLightNode({
      light: lightUrl,
      id: `0x${"11".repeat(32)}`,
      certificate: posted.certificate,
      target: DEFAULT_TARGET,
      deadlineMs: 5_000,
    }),
    { code: "CELLAR_ERR_CLI_NOT_AVAILABLE", message: /refused the batch: 422/ },
  );
});

t.test("a light node that never decides: the deadline, with its last verdict", async (t) => {
  const undecided = Fastify();
  let polls = 0;
  undecided.put("/v1/batches/:id", async () => ({ status: "sampling" }));
  undecided.get("/v1/batches/:id/availability", async () => {
    polls++;
    return { status: "sampling", confidence: 0, roundInProgress: true, stale: false, checkedAt: null };
  });
  const url = await undecided.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(() => undecided.close());
  const began = performance.now();
  await t.rejects(
    vouchByLightNode({
      light: url,
      id: posted.id,
      certificate: posted.certificate,
      target: DEFAULT_TARGET,
      deadlineMs: 3_000,
      pollMs: 50,
    }),
    { code: "CELLAR_ERR_CLI_NOT_AVAILABLE", message: /did not find batch .* within 3 s \(last verdict: sampling/ },
  );
  // Without the deadline it would poll forever: a minute is far past 3 s and far short of that.
  t.ok(performance.now() - began < 60_000, "gave up at the deadline");
  t.ok(polls > 1, "asked again until then");
});

t.test("a batch whose columns are gone: the light node and the own sampler both refuse", async (t) => {
  // Five of eight nodes stop: with two custodians per column, most columns have no holder.
  for (const node of cluster.nodes.slice(0, 5)) await node.stop();
  const fresh = new LightNode({ nodes: cluster.set, domain: TEST_DOMAIN, intervalMs: 3_600_000 }, { kzg });
  const url = await fresh.listen();
  t.teardown(() => fresh.stop());
  await t.rejects(
    vouchByLightNode({
      light: url,
      id: posted.id,
      certificate: posted.certificate,
      target: DEFAULT_TARGET,
      deadlineMs: 30_000,
      pollMs: 50,
    }),
    { code: "CELLAR_ERR_CLI_NOT_AVAILABLE", message: /found batch .* unavailable \(columns \d+/ },
  );
  const root = Buffer.from(posted.root.slice(2), "hex");
  await t.rejects(vouchBySampling({ ...own, root, by: "cellar settle" }), {
    code: "CELLAR_ERR_CLI_NOT_AVAILABLE",
    message: /sampling found the batch unavailable/,
  });
});
