// Benchmark (attacks): what a flooding stranger costs everyone else. A disperser with 4 local
// storage nodes serves an honest client (127.0.0.2) while a flooder (127.0.0.1) sends distinct
// small posts over many connections for as long as the honest client works; the honest client's
// post latency under the flood (median and p99) is printed beside the same client's alone in the
// same run (the ratios), with how the flood was answered (certified, 429, 503). Then a stranger's
// unsigned dispersals to a node (refused from their headers) are timed beside authorised ones, and
// a 1 GiB streamed upload is sent to show the disperser's resident memory staying within twice its
// body limit.
//
//   npm run bench:flood
//   npm run bench:flood -- --honest 50 --connections 40 --json
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { columnOf, encodeBatch } from "@cellar/codec";
import { buildDisperserApp, Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import type { StorageNode } from "@cellar/node";
import { custodyColumns, dispersalAuthHeaders, encodeDispersal, signDispersal } from "@cellar/protocol";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";
import { toHex } from "@cellar/utils";
import { Agent, request } from "undici";

const { values: args } = parseArgs({
  options: {
    connections: { type: "string", default: "20" },
    honest: { type: "string", default: "30" },
    json: { type: "boolean", default: false },
  },
});
const log = (line: string) => {
  if (!args.json) process.stdout.write(`${line}\n`);
};

const kzg = sharedKzg();
const cluster = await startCluster(4, kzg);
const set = cluster.set;
const disperser = new Disperser(
  { key: TEST_DISPERSER_KEY, nodes: set, domain: TEST_DOMAIN },
  { kzg, erasure: sharedErasure() },
);
const app = buildDisperserApp(disperser);
const url = await app.listen({ host: "127.0.0.1", port: 0 });
const flooder = new Agent({ localAddress: "127.0.0.1", connections: Number(args.connections) });
const honest = new Agent({ localAddress: "127.0.0.2" });

/** The p-quantile (nearest rank) of `xs`: 0.5 the median, 0.99 the p99. */
const quantile = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(p * s.length) - 1)] ?? Number.NaN;
};

async function post(dispatcher: Agent, bytes: Uint8Array): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const res = await request(`${url}/v1/batches`, { method: "POST", body: bytes, dispatcher });
  await res.body.dump();
  return { status: res.statusCode, ms: performance.now() - started };
}

async function honestRuns(): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < Number(args.honest); i++) {
    const r = await post(honest, new Uint8Array(randomBytes(100_000)));
    if (r.status !== 200) throw new Error(`the honest client's post was refused: ${r.status}`);
    out.push(r.ms);
  }
  return out;
}

try {
  await post(honest, new Uint8Array(randomBytes(1000))); // warm-up
  const alone = await honestRuns();

  const counts: Record<number, number> = {};
  let total = 0;
  let flooding = true;
  const floodStarted = performance.now();
  const flood = Promise.all(
    Array.from({ length: Number(args.connections) }, async () => {
      while (flooding) {
        total++;
        const r = await post(flooder, new Uint8Array(randomBytes(100)));
        counts[r.status] = (counts[r.status] ?? 0) + 1;
      }
    }),
  );
  const during = await honestRuns();
  flooding = false;
  await flood;
  const floodSeconds = (performance.now() - floodStarted) / 1000;

  // A stranger's dispersals to a node: refused from the headers, beside authorised ones.
  const node = cluster.nodes[0] as StorageNode;
  const batch = await encodeBatch(new Uint8Array(randomBytes(100_000)), { kzg });
  const body = encodeDispersal(
    batch.manifest,
    custodyColumns(set, node.identity.nodeId).map((c) => columnOf(batch, c)),
  );
  const path = `${node.url}/v1/batches/${toHex(batch.manifest.root)}/columns`;
  const strangerRuns = 200;
  let started = performance.now();
  let refused = 0;
  for (let i = 0; i < strangerRuns; i++) {
    const res = await request(path, {
      method: "PUT",
      body,
      headers: { "content-type": "application/octet-stream" },
      dispatcher: honest,
    });
    if (res.statusCode === 401) refused++;
    await res.body.dump();
  }
  const strangerMs = (performance.now() - started) / strangerRuns;
  started = performance.now();
  const res = await request(path, {
    method: "PUT",
    body,
    headers: {
      "content-type": "application/octet-stream",
      ...dispersalAuthHeaders(
        signDispersal(TEST_DISPERSER_KEY, TEST_DOMAIN, node.identity.nodeId, batch.manifest.root),
      ),
    },
    dispatcher: honest,
  });
  await res.body.dump();
  const storedMs = performance.now() - started;

  // A 1 GiB upload to the disperser (limit 32 MiB), streamed.
  const chunk = Buffer.alloc(1 << 20, 1);
  let sent = 0;
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  let uploadStatus = "";
  try {
    const up = await request(`${url}/v1/batches`, {
      method: "POST",
      dispatcher: honest,
      body: new Readable({
        read() {
          if (sent >= 1024) this.push(null);
          else {
            sent++;
            this.push(chunk);
          }
        },
      }),
    });
    uploadStatus = String(up.statusCode);
    await up.body.dump();
  } catch (err) {
    uploadStatus = (err as { code?: string }).code ?? "closed";
  }
  clearInterval(sampler);

  const report = {
    honest: {
      posts: alone.length,
      aloneMs: { p50: quantile(alone, 0.5), p99: quantile(alone, 0.99) },
      duringFloodMs: { p50: quantile(during, 0.5), p99: quantile(during, 0.99) },
      ratio: { p50: quantile(during, 0.5) / quantile(alone, 0.5), p99: quantile(during, 0.99) / quantile(alone, 0.99) },
    },
    flood: { posts: total, connections: Number(args.connections), seconds: floodSeconds, answers: counts },
    stranger: { requests: strangerRuns, refused, msPerRefusal: strangerMs, authorisedStoreMs: storedMs },
    upload: { sentMiB: sent, answer: uploadStatus, rssGrowthMiB: (peak - baseline) / 2 ** 20, limitMiB: 32 },
  };
  if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  const { honest: h } = report;
  log(
    `honest client, ${h.posts} posts of 100 kB: alone p50 ${h.aloneMs.p50.toFixed(0)} ms, p99 ${h.aloneMs.p99.toFixed(0)} ms`,
  );
  log(
    `  during a flood from one address over ${args.connections} connections: p50 ${h.duringFloodMs.p50.toFixed(0)} ms ` +
      `(ratio ${h.ratio.p50.toFixed(2)}), p99 ${h.duringFloodMs.p99.toFixed(0)} ms (ratio ${h.ratio.p99.toFixed(2)})`,
  );
  log(
    `  the flood, ${total} posts, was answered: ${Object.entries(counts)
      .map(([s, n]) => `${n} × ${s}`)
      .join(", ")} in ${floodSeconds.toFixed(1)} s`,
  );
  log(
    `stranger's unsigned dispersals: ${refused}/${strangerRuns} refused (401), ${strangerMs.toFixed(2)} ms each, ` +
      `vs ${storedMs.toFixed(0)} ms for one authorised dispersal (ratio ${(strangerMs / storedMs).toFixed(3)})`,
  );
  log(
    `1 GiB streamed upload: answer ${uploadStatus} after ${sent} MiB sent; resident memory +${report.upload.rssGrowthMiB.toFixed(1)} MiB ` +
      `(body limit 32 MiB, bound 64 MiB)`,
  );
} finally {
  await app.close();
  await disperser.close();
  await cluster.stop();
  await flooder.close();
  await honest.close();
}
