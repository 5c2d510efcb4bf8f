// The rollup's path as a user takes it, every part a real process: six `cellar node`s, a
// `cellar disperser`, then `cellar post` and `cellar get`, with a third of the nodes killed
// before the read.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkCertificate, parseCertificate, parseNodeSet } from "@cellar/protocol";
import { runBin, runCli } from "@cellar/test-utils/cli";
import { type NodeProcess, startNodeProcess, startServerProcess } from "@cellar/test-utils/node-process";
import { KEYGEN_BINDING, type KeyOut, nodeSetJson } from "@cellar/test-utils/node-set";
import t from "tap";
import { request } from "undici";

const domain = { chainId: 31337n, inbox: new Uint8Array(20) };

t.test("cellar post prints a certificate; cellar get returns the bytes with 2 of 6 nodes killed", async (t) => {
  const dir = t.testdir({ "batch.bin": randomBytes(400_000) });
  const keys: KeyOut[] = [];
  for (let i = 0; i < 6; i++)
    keys.push(JSON.parse((await runCli(["keygen", "-o", join(dir, `n${i}.key`), "--json", ...KEYGEN_BINDING])).stdout));
  const nodesFile = join(dir, "nodes.json");
  const writeSet = (urls: string[]) =>
    writeFileSync(nodesFile, nodeSetJson(keys.map((k, i) => ({ ...k, url: urls[i] ?? "http://127.0.0.1:1" }))));
  // Nodes need the set only for custody (keys, in order); the URLs are filled in once they listen.
  writeSet([]);
  const nodes: NodeProcess[] = await Promise.all(
    keys.map((_, i) =>
      startNodeProcess(["--data", join(dir, `d${i}`), "--key", join(dir, `n${i}.key`), "--nodes", nodesFile], 120_000),
    ),
  );
  t.teardown(() => {
    for (const n of nodes) n.child.kill("SIGKILL");
  });
  writeSet(nodes.map((n) => n.url));
  const light = await startServerProcess("light", ["--nodes", nodesFile], 120_000);
  t.teardown(() => light.child.kill("SIGKILL"));
  const disperser = await startServerProcess(
    "disperser",
    // No read cache: the reads below must rebuild from the nodes that are still alive.
    ["--nodes", nodesFile, "--light", light.url, "--cache", "0"],
    120_000,
  );
  t.teardown(() => disperser.child.kill("SIGKILL"));
  t.equal(disperser.ready.nodes, 6);

  const post = await runBin(["post", join(dir, "batch.bin"), "--disperser", disperser.url, "--json"]);
  t.equal(post.code, 0, post.stderr);
  const posted = JSON.parse(post.stdout);
  t.match(posted, { id: /^bafkrwi/, root: /^0x[0-9a-f]{64}$/, size: 400_000, status: "certified" });
  t.equal(posted.blobs.length, 4);
  const set = parseNodeSet(JSON.parse(readFileSync(nodesFile, "utf8")));
  t.equal(
    checkCertificate(parseCertificate(posted.certificate), set, domain),
    null,
    "the printed certificate verifies",
  );
  const human = await runBin(["post", join(dir, "batch.bin"), "--disperser", disperser.url]);
  t.match(human.stdout, new RegExp(`id +${posted.id}\\n`));

  // The disperser registered the batch with the light node, which sampled it.
  let view: { status?: string; confidence?: number } = {};
  for (let i = 0; i < 200 && view.status !== "available"; i++) {
    const res = await request(`${light.url}/v1/batches/${posted.id}/availability`);
    view = (await res.body.json()) as typeof view;
    if (view.status !== "available") await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(view.status, "available", "the light node found the batch available");
  t.ok((view.confidence ?? 0) >= 1 - 1e-6);
  writeFileSync(join(dir, "posted.json"), post.stdout);
  const sample = await runBin([
    "sample",
    posted.id,
    "--nodes",
    nodesFile,
    "--certificate",
    join(dir, "posted.json"),
    "--json",
  ]);
  t.equal(sample.code, 0, sample.stderr);
  t.match(JSON.parse(sample.stdout), { available: true, samples: 18, failed: [] });
  const forged = await runBin([
    "sample",
    `0x${"12".repeat(32)}`,
    "--nodes",
    nodesFile,
    "--certificate",
    join(dir, "posted.json"),
  ]);
  t.equal(forged.code, 1);
  t.match(forged.stderr, /the certificate is for another batch/);

  for (const n of nodes.slice(0, 2)) {
    n.child.kill("SIGKILL");
    await n.exited;
  }
  const get = await runBin(["get", posted.id, "--disperser", disperser.url, "-o", join(dir, "back.bin")]);
  t.equal(get.code, 0, get.stderr);
  t.ok(
    readFileSync(join(dir, "back.bin")).equals(readFileSync(join(dir, "batch.bin"))),
    "exact bytes with a third of the nodes dead",
  );
  const viaStdout = await runBin(["get", posted.root, "--disperser", disperser.url]);
  t.ok(viaStdout.stdoutBytes.equals(readFileSync(join(dir, "batch.bin"))), "by root, to stdout");

  const unknown = await runBin([
    "get",
    `0x${"12".repeat(32)}`,
    "--disperser",
    disperser.url,
    "-o",
    join(dir, "none.bin"),
  ]);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /^cellar: get: 404 .*\[CELLAR_ERR_DISPERSER_UNAVAILABLE\]/);
  const metrics = await (await request(`${disperser.url}/metrics`)).body.text();
  t.match(metrics, /cellar_disperser_retrievals_total\{result="ok"\} 2/);

  // With four of six nodes dead, most columns are gone: never "available".
  for (const n of nodes.slice(2, 4)) {
    n.child.kill("SIGKILL");
    await n.exited;
  }
  const gone = await runBin(["sample", posted.id, "--nodes", nodesFile, "--timeout", "2"]);
  t.equal(gone.code, 1, "exit 1 below the target");
  t.match(gone.stdout, /^NOT available: \d+ of 18 sampled columns could not be had/);
  t.match(gone.stderr, /\[CELLAR_ERR_CLI_NOT_AVAILABLE\]/);
});

t.test("cellar post and get against nothing: one clear line, exit 1", async (t) => {
  const dir = t.testdir({ "b.bin": "x" });
  const res = await runCli(["post", join(dir, "b.bin"), "--disperser", "http://127.0.0.1:1"]);
  t.equal(res.code, 1);
  t.match(
    res.stderr,
    /^cellar: POST http:\/\/127\.0\.0\.1:1\/v1\/batches failed after 1 attempt\(s\).*\[CELLAR_ERR_CLIENT_NETWORK\]\n$/,
  );
  t.equal((await runCli(["disperser"])).code, 2, "--nodes is required");
  t.match((await runCli(["disperser", "--nodes", join(dir, "none.json")])).stderr, /cannot read node set/);
  t.equal((await runCli(["disperser", "--nodes", "x", "--quorum", "2"])).code, 2);
  t.match((await runCli(["disperser", "--help"])).stdout, /--altda.da-service/);
});
