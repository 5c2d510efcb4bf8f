// Withholding: 65 of 128 columns withheld (the least that makes a batch unrecoverable) in four
// patterns. The light client's own sampling logic (`sampleBatch`, real KZG verification of every
// cell) runs many rounds against an in-process column oracle, a few over real HTTP against real
// storage nodes, and at the default target: the observed false-accept rate is judged against the
// analytic C(63,S)/C(128,S) with a Wilson interval, and is zero at the default target. Then
// selective disclosure: nodes that answer only their first k requesters, and an adversary that
// reveals columns on demand but never a 64th, against a stream of independent light clients.
import { randomBytes } from "node:crypto";
import { ClientError, NodeClient } from "@cellar/client";
import { type BatchManifest, type Column, columnOf, type EncodedBatch, encodeBatch } from "@cellar/codec";
import { Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { chooseSampleColumns, DEFAULT_TARGET, missProbability, sampleBatch, samplesFor } from "@cellar/light";
import { sharedErasure } from "@cellar/native";
import { buildNodeSet, generateSecretKey, type NodeRecord, parseCertificate } from "@cellar/protocol";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";
import { figure, rateWithInterval, rounds, wilson } from "@cellar/test-utils/reliability";
import t from "tap";

const kzg = sharedKzg();
const erasure = sharedErasure();

const PATTERNS: Record<string, number[]> = {
  "first half": Array.from({ length: 65 }, (_, i) => i),
  "second half": Array.from({ length: 65 }, (_, i) => 127 - i),
  alternate: [...Array.from({ length: 64 }, (_, i) => 2 * i), 1],
  random: chooseSampleColumns(65),
};
/** A target whose S is 4, so that false accepts (p ≈ 0.056) are common enough to count. */
const LOW_TARGET = 0.94;
const S_LOW = samplesFor(LOW_TARGET);

/** What a set of storage nodes serves, decided in process: `serve` says whether node n answers column c. */
class OracleClient extends NodeClient {
  constructor(
    readonly batch: EncodedBatch,
    readonly serve: (node: NodeRecord, column: number, client: OracleClient) => boolean,
  ) {
    super({ timeoutMs: 1000, attempts: 1 });
  }

  override async column(node: NodeRecord, _manifest: BatchManifest, index: number): Promise<Column> {
    if (!this.serve(node, index, this))
      throw new ClientError("CELLAR_ERR_CLIENT_HTTP", `column ${index} withheld`, { status: 404 });
    return columnOf(this.batch, index);
  }
}

// One blob of random bytes: every sampled column is one real cell and proof, verified with KZG.
const batch = await encodeBatch(new Uint8Array(randomBytes(100_000)), { kzg });
const nodes = buildNodeSet(
  Array.from({ length: 8 }, (_, i) => ({
    publicKey: generateSecretKey(new Uint8Array(32).fill(i + 1))
      .toPublicKey()
      .toBytes(),
    url: `http://127.0.0.1:${10_000 + i}`,
  })),
);

/** Rounds of `sampleBatch` at `target` against a network missing `missing`; how many were accepted. */
async function falseAccepts(missing: readonly number[], target: number, n: number): Promise<number> {
  const gone = new Set(missing);
  const client = new OracleClient(batch, (_node, c) => !gone.has(c));
  let accepted = 0;
  for (let i = 0; i < n; i++) {
    const verdict = await sampleBatch(batch.manifest.root, { nodes, client, kzg, target, manifest: batch.manifest });
    if (verdict.available) accepted++;
  }
  await client.close();
  return accepted;
}

t.test(`oracle: the false-accept rate at S = ${S_LOW} matches C(63,S)/C(128,S) in every pattern`, async (t) => {
  t.equal(S_LOW, 4);
  const n = rounds("withhold", 250, 10_000);
  const analytic = missProbability(S_LOW);
  for (const [pattern, missing] of Object.entries(PATTERNS)) {
    t.equal(new Set(missing).size, 65, `${pattern}: 65 distinct columns withheld`);
    const k = await falseAccepts(missing, LOW_TARGET, n);
    // 99.99% interval: a correct sampler fails this once in ten thousand runs.
    const [lo, hi] = wilson(k, n, 3.89);
    t.ok(lo <= analytic && analytic <= hi, `${pattern}: ${k}/${n}, analytic ${analytic.toFixed(4)} in [${lo}, ${hi}]`);
    figure(t, {
      area: "withholding",
      guarantee: "false accepts no more often than C(63,S)/C(128,S)",
      attack: `65 columns withheld (${pattern}), S = ${S_LOW}, in-process oracle`,
      count: n,
      observed: rateWithInterval(k, n),
      bound: `${analytic.toFixed(4)}`,
    });
  }
});

t.test("oracle: at the default target no withheld batch is ever accepted", async (t) => {
  const n = rounds("withhold_default", 25, 10_000);
  const s = samplesFor(DEFAULT_TARGET);
  for (const [pattern, missing] of Object.entries(PATTERNS)) {
    const k = await falseAccepts(missing, DEFAULT_TARGET, n);
    t.equal(k, 0, `${pattern}: no false accept in ${n} rounds at S = ${s}`);
    figure(t, {
      area: "withholding",
      guarantee: "no false accept at the default target",
      attack: `65 columns withheld (${pattern}), S = ${s}, in-process oracle`,
      count: n,
      observed: rateWithInterval(k, n),
      bound: `${missProbability(s).toExponential(2)}`,
    });
  }
});

t.test("real HTTP: storage nodes that dropped 65 columns, sampled over loopback", async (t) => {
  const cluster = await startCluster(8, kzg);
  t.teardown(() => cluster.stop());
  const d = new Disperser({ key: TEST_DISPERSER_KEY, nodes: cluster.set, domain: TEST_DOMAIN }, { kzg, erasure });
  const bytes = new Uint8Array(randomBytes(60_000));
  const root = parseCertificate((await d.post(bytes)).certificate).root;
  await d.close();
  const real = await encodeBatch(bytes, { kzg });
  const client = new NodeClient({ timeoutMs: 2000, attempts: 1 });
  t.teardown(() => client.close());
  const n = rounds("withhold_http", 30, 300);
  const analytic = missProbability(S_LOW);
  for (const [pattern, missing] of Object.entries(PATTERNS)) {
    for (const node of cluster.nodes)
      for (const c of missing) if (node.custody.has(c)) await node.store.dropCell(root, 0, c);
    let k = 0;
    for (let i = 0; i < n; i++)
      if ((await sampleBatch(root, { nodes: cluster.set, client, kzg, target: LOW_TARGET })).available) k++;
    const [lo, hi] = wilson(k, n, 3.89);
    t.ok(lo <= analytic && analytic <= hi, `${pattern}: ${k}/${n} over HTTP, analytic ${analytic.toFixed(4)}`);
    const strict = await sampleBatch(root, { nodes: cluster.set, client, kzg });
    t.equal(strict.available, false, `${pattern}: unavailable at the default target over HTTP`);
    figure(t, {
      area: "withholding",
      guarantee: "false accepts no more often than C(63,S)/C(128,S)",
      attack: `65 columns withheld (${pattern}), S = ${S_LOW}, real nodes over HTTP`,
      count: n,
      observed: rateWithInterval(k, n),
      bound: `${analytic.toFixed(4)}`,
    });
    for (const node of cluster.nodes) {
      const mine = [...node.custody].filter((c) => missing.includes(c)).map((c) => columnOf(real, c));
      if (mine.length > 0) await node.store.putBatch(real.manifest, mine);
    }
  }
});

/** Independent light clients at the default target, one after another, until one is refused. */
async function clientsUntilDetected(serve: ConstructorParameters<typeof OracleClient>[1], cap: number) {
  for (let i = 1; i <= cap; i++) {
    const client = new OracleClient(batch, serve);
    const verdict = await sampleBatch(batch.manifest.root, { nodes, client, kzg, manifest: batch.manifest });
    await client.close();
    if (!verdict.available) return i;
  }
  return Infinity;
}

t.test("selective disclosure: nodes that answer only their first k requesters", async (t) => {
  const trials = rounds("disclosure", 3, 40);
  for (const k of [1, 4, 16]) {
    const seen: number[] = [];
    for (let trial = 0; trial < trials; trial++) {
      const served = new Map<number, Set<OracleClient>>();
      const detectedAt = await clientsUntilDetected(
        (node, _c, client) => {
          const set = served.get(node.index) ?? new Set();
          served.set(node.index, set);
          if (set.size < k) set.add(client);
          return set.has(client);
        },
        10 * k + 10,
      );
      seen.push(detectedAt);
    }
    // The first k clients are served in full; a node owes the next one nothing.
    t.ok(
      seen.every((s) => s > k && s <= 2 * k + 2),
      `k = ${k}: detected by light client ${seen.join(", ")}`,
    );
    figure(t, {
      area: "withholding",
      guarantee: "selective disclosure is seen by the next clients",
      attack: `every node answers only its first ${k} requesters`,
      count: trials,
      observed: `detected by client ${Math.min(...seen)}–${Math.max(...seen)} (mean ${(seen.reduce((a, b) => a + b, 0) / seen.length).toFixed(1)})`,
      bound: `> ${k} and ≤ ${2 * k + 2}`,
    });
  }
});

t.test("selective disclosure: columns revealed on demand, never a 64th", async (t) => {
  const trials = rounds("disclosure_63", 10, 500);
  const seen: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const revealed = new Set<number>();
    seen.push(
      await clientsUntilDetected((_node, c) => {
        if (revealed.has(c)) return true;
        if (revealed.size >= 63) return false;
        revealed.add(c);
        return true;
      }, 100),
    );
    t.ok(revealed.size <= 63, "never more than 63 columns out: the batch was never recoverable");
  }
  const s = samplesFor(DEFAULT_TARGET);
  // Each client samples S of 128; the adversary runs out once 63 distinct columns have been asked.
  t.ok(
    seen.every((n) => n >= 2 && n <= 20),
    `detected by client ${Math.min(...seen)}–${Math.max(...seen)}`,
  );
  const fooled = seen.reduce((a, b) => a + b - 1, 0) / trials;
  figure(t, {
    area: "withholding",
    guarantee: "an unrecoverable batch is seen by some client",
    attack: `columns revealed on demand until 63 are out (S = ${s} per client)`,
    count: trials,
    observed: `detected by client ${Math.min(...seen)}–${Math.max(...seen)} (mean ${(fooled + 1).toFixed(2)}: ${fooled.toFixed(2)} clients fooled first)`,
    bound: "≤ 20",
  });
});
