// Benchmark (attacks): what a flooding stranger costs everyone else. A disperser with 4 local
// storage nodes serves an honest client (127.0.0.2) while a flooder (127.0.0.1) sends many
// distinct small posts at once; the honest client's post latency under the flood is printed
// beside the same client's latency alone in the same run (the ratio), with how the flood was
// answered (certified, 429, 503). Then a stranger's unsigned dispersals to a node (refused from
// their headers) are timed beside authorised ones, and a 1 GiB streamed upload is sent to show the
// disperser's resident memory staying within twice its body limit.
//
//   npm run bench:flood
//   npm run bench:flood -- --flood 200 --connections 20 --json
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { columnOf, encodeBatch } from "@cellar/codec";
import { buildDisperserApp, Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { StorageNode } from "@cellar/node";
import {
  buildNodeSet,
  custodyColumns,
  dispersalAuthHeaders,
  encodeDispersal,
  generateSecretKey,
  signDispersal,
} from "@cellar/protocol";
import { toHex } from "@cellar/utils";
import { Agent, request } from "undici";

const { values: args } = parseArgs({
  options: {
    flood: { type: "string", default: "200" },
    connections: { type: "string", default: "20" },
    honest: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
  },
});
const log = (line: string) => {
  if (!args.json) process.stdout.write(`${line}\n`);
};

const kzg = sharedKzg();
const domain = { chainId: 31337n, inbox: new Uint8Array(20) };
const key = generateSecretKey(new Uint8Array(randomBytes(32)));
const dirs = Array.from({ length: 4 }, () => mkdtempSync(join(tmpdir(), "cellar-bench-flood-")));
const nodes = dirs.map(
  (dataDir) =>
    new StorageNode(
      { dataDir, domain, scrubIntervalMs: 3_600_000, dispersers: [key.toPublicKey().toBytes()] },
      { kzg },
    ),
);
await Promise.all(nodes.map((n) => n.start()));
const set = buildNodeSet(nodes.map((n) => ({ publicKey: n.identity.publicKey, url: n.url })));
for (const n of nodes) n.setNodes(set);
const disperser = new Disperser({ key, nodes: set, domain }, { kzg });
const app = buildDisperserApp(disperser);
const url = await app.listen({ host: "127.0.0.1", port: 0 });
const flooder = new Agent({ localAddress: "127.0.0.1", connections: Number(args.connections) });
const honest = new Agent({ localAddress: "127.0.0.2" });

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
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
  let next = 0;
  const total = Number(args.flood);
  const floodStarted = performance.now();
  const flood = Promise.all(
    Array.from({ length: Number(args.connections) }, async () => {
      while (next < total) {
        next++;
        const r = await post(flooder, new Uint8Array(randomBytes(100)));
        counts[r.status] = (counts[r.status] ?? 0) + 1;
      }
    }),
  );
  const during = await honestRuns();
  await flood;
  const floodSeconds = (performance.now() - floodStarted) / 1000;

  // A stranger's dispersals to a node: refused from the headers, beside authorised ones.
  const node = nodes[0] as StorageNode;
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
      ...dispersalAuthHeaders(signDispersal(key, domain, node.identity.nodeId, batch.manifest.root)),
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
    honestAloneMs: median(alone),
    honestDuringFloodMs: median(during),
    ratio: median(during) / median(alone),
    flood: { posts: total, connections: Number(args.connections), seconds: floodSeconds, answers: counts },
    stranger: { requests: strangerRuns, refused, msPerRefusal: strangerMs, authorisedStoreMs: storedMs },
    upload: { sentMiB: sent, answer: uploadStatus, rssGrowthMiB: (peak - baseline) / 2 ** 20, limitMiB: 32 },
  };
  if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  log(`honest client, 100 kB posts: ${report.honestAloneMs.toFixed(0)} ms alone (median of ${alone.length})`);
  log(
    `  during a flood of ${total} posts over ${args.connections} connections from one address: ` +
      `${report.honestDuringFloodMs.toFixed(0)} ms (ratio ${report.ratio.toFixed(2)})`,
  );
  log(
    `  the flood was answered: ${Object.entries(counts)
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
  await Promise.all(nodes.map((n) => n.stop()));
  await flooder.close();
  await honest.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
