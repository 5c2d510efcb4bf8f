// The path a newcomer takes, every part a real process: `cellar devnet` with 8 storage nodes,
// then the client commands pointed at its devnet.json: post 1 MiB, certificate, sampling to the
// target, settlement on anvil, a node killed and restarted from its recorded command, the OP
// alt-DA routes, three nodes killed and an exact read; then SIGTERM, and no process is left.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { readDevnetFile } from "@cellar/cli";
import { isRecorded } from "@cellar/l1";
import { checkCertificate, parseCertificate, parseNodeSet } from "@cellar/protocol";
import { runBin, runCli } from "@cellar/test-utils/cli";
import { type DevnetProcess, devnetPids, startDevnetProcess, waitGone } from "@cellar/test-utils/devnet-process";
import { fromHex } from "@cellar/utils";
import t from "tap";
import { request } from "undici";

t.test("cellar devnet of 8 nodes: post, certify, sample, settle, restart, alt-DA, kill 3, read back", async (t) => {
  const dir = t.testdir({ "batch.bin": randomBytes(1024 * 1024) });
  const devnet: DevnetProcess = await startDevnetProcess(["--nodes", "8", "--dir", join(dir, "net")]);
  const extra: ChildProcess[] = [];
  t.teardown(async () => {
    await devnet.stop();
    for (const child of extra) child.kill("SIGKILL");
  });
  const { info } = devnet;
  const file = info.file;
  t.match(info, { event: "ready", version: 1, chainId: Number, replication: 2, nodes: Array });
  const { event: _event, file: _file, ...written } = info as typeof info & { event: string };
  t.same(await readDevnetFile(file), written, "devnet.json as printed");
  t.equal(info.nodes.length, 8);
  t.same(
    info.nodes.map((n) => n.index),
    [0, 1, 2, 3, 4, 5, 6, 7],
    "registry indexes",
  );
  for (const url of [info.disperser.url, info.light.url, ...info.nodes.map((n) => n.url)])
    t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, "loopback only");
  const ports = new Set([info.disperser.url, info.light.url, ...info.nodes.map((n) => n.url)]);
  t.equal(ports.size, 10, "every service on its own port");
  const set = parseNodeSet(JSON.parse(readFileSync(info.nodeSet, "utf8")));
  t.same(
    set.map((n) => n.url),
    info.nodes.map((n) => n.url),
    "the node set file lists the nodes in registry order",
  );

  // The directory of a running devnet is refused; a second devnet beside this one (the demo's,
  // with --json) takes other ports and runs the whole flow.
  const busy = await runCli(["devnet", "--dir", info.dir]);
  t.equal(busy.code, 1);
  t.match(busy.stderr, /a devnet still runs in .*\(pids \d+.*\[CELLAR_ERR_CLI_OUTPUT_EXISTS\]/);
  const demo = await runBin(["demo", "--json", "--nodes", "2", "--mib", "0.25"]);
  t.equal(demo.code, 0, demo.stderr);
  const report = JSON.parse(demo.stdout);
  t.match(report, { ok: true, nodes: 2, bytes: 262_144, id: /^bafkrwi/ });
  t.same(
    report.steps.map((s: { step: string }) => s.step),
    ["devnet", "post", "certificate", "sample", "settle", "kill", "retrieve", "teardown"],
  );
  t.equal(report.steps[5].details.killed.length, 1, "a third of 2 nodes (rounded) killed");
  t.match(report.steps[3].details, { by: /^http:\/\/127\.0\.0\.1:\d+$/, samples: 18 }, "sampled by the light node");
  t.ok(report.steps[3].details.confidence >= report.steps[3].details.target, "to the target, before settlement");

  // post 1 MiB → certificate
  const post = await runCli(["post", join(dir, "batch.bin"), "--devnet", file, "--json"]);
  t.equal(post.code, 0, post.stderr);
  const posted = JSON.parse(post.stdout);
  t.match(posted, { status: "certified", size: 1024 * 1024 });
  const certificate = parseCertificate(posted.certificate);
  const domain = { chainId: BigInt(info.chainId), inbox: fromHex(info.inbox, 20) };
  t.equal(checkCertificate(certificate, set, domain), null, "the certificate verifies against the node set");
  writeFileSync(join(dir, "posted.json"), post.stdout);

  // Before settlement, sampling trusts the root through the certificate (node set from the file).
  const sample = await runCli([
    "sample",
    posted.id,
    ...["--nodes", info.nodeSet, "--chain-id", String(info.chainId), "--inbox", info.inbox],
    ...["--certificate", join(dir, "posted.json"), "--json"],
  ]);
  t.equal(sample.code, 0, sample.stderr);
  const verdict = JSON.parse(sample.stdout);
  t.match(verdict, { available: true, failed: [] });
  t.ok(verdict.confidence >= 1 - 1e-6, "target confidence reached");

  // With --devnet too: the certificate is checked against the registry snapshot it names, and the
  // batch is sampled before it is settled. Without a certificate, an unsettled root is refused.
  const certified = await runCli(["sample", posted.id, "--devnet", file, "--certificate", join(dir, "posted.json")]);
  t.equal(certified.code, 0, certified.stderr);
  t.match(certified.stdout, /^available: confidence /);
  const early = await runCli(["sample", posted.id, "--devnet", file]);
  t.equal(early.code, 1, "with --devnet, sample trusts only roots the L1 inbox recorded");
  t.match(early.stderr, /has not recorded batch .*--certificate FILE.*\[CELLAR_ERR_LIGHT_UNTRUSTED_ROOT\]/);

  // settled on anvil once the devnet's light node vouched: the inbox checks the certificate on
  // chain and records the root
  const settle = await runCli(["settle", posted.id, "--devnet", file, "--json"]);
  t.equal(settle.code, 0, settle.stderr);
  const settledOut = JSON.parse(settle.stdout);
  t.match(settledOut, { root: posted.root, alreadyRecorded: false, sampling: { by: info.light.url } });
  t.ok(settledOut.sampling.confidence >= 1 - 1e-6, "the light node vouched at the target");
  t.ok(settledOut.sampling.samples > 0 && Date.parse(settledOut.sampling.at) > 0, "with its round and when");
  const at = { rpcUrl: info.l1.rpc, inbox: info.l1.inbox as `0x${string}` };
  t.ok(await isRecorded({ ...at, root: certificate.root }), "the inbox recorded the root");
  const trusted = await runCli(["sample", posted.id, "--devnet", file, "--json"]);
  t.equal(trusted.code, 0, trusted.stderr);
  t.match(JSON.parse(trusted.stdout), { available: true }, "every option from devnet.json, the root from L1");

  // the disperser registered the batch with the devnet's light node, which samples it too
  let view: { status?: string } = {};
  for (let i = 0; i < 300 && view.status !== "available"; i++) {
    const res = await request(`${info.light.url}/v1/batches/${posted.id}/availability`);
    view = (await res.body.json()) as typeof view;
    if (view.status !== "available") await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(view.status, "available", "the light node found it available");
  // Its explorer lists the batch, settled on L1 with the transaction the inbox recorded it in
  // (the light node follows the inbox); the page itself is served built.
  let listed: { root?: string; status?: string; settled?: { txHash: string } } | undefined;
  for (let i = 0; i < 300 && listed?.status !== "settled"; i++) {
    const res = await request(`${info.light.url}/v1/explorer/batches`);
    const { batches } = (await res.body.json()) as { batches: (typeof listed)[] };
    listed = batches.find((b) => b?.root === posted.root);
    if (listed?.status !== "settled") await new Promise((r) => setTimeout(r, 100));
  }
  t.match(listed, { status: "settled", settled: { txHash: /^0x[0-9a-f]{64}$/ } }, "the explorer shows it settled");
  const explorer = await request(`${info.light.url}/explorer/`);
  t.equal(explorer.statusCode, 200);
  t.match(await explorer.body.text(), /<title>Cellar explorer<\/title>/);

  // A killed node restarts from its recorded command, on its port, with its data.
  const first = info.nodes[0] as (typeof info.nodes)[number];
  process.kill(first.pid, "SIGKILL");
  t.same(await waitGone([first.pid]), [], "node 0 is dead");
  const [exe, ...args] = first.command;
  const restarted = spawn(exe as string, args, { stdio: ["ignore", "pipe", "ignore"] });
  extra.push(restarted);
  // Its ready line, or a clear failure if it exits or stays silent (rather than tap's timeout).
  const ready = JSON.parse(
    await new Promise<string>((resolve, reject) => {
      const late = setTimeout(() => reject(new Error("the restarted node printed no ready line in 120 s")), 120_000);
      restarted.once("close", (code) => reject(new Error(`the restarted node exited (${code}) before it was ready`)));
      createInterface({ input: restarted.stdout as NodeJS.ReadableStream }).once("line", (line) => {
        clearTimeout(late);
        resolve(line);
      });
    }),
  );
  t.equal(ready.url, first.url, "same URL");
  t.equal(ready.publicKey, first.publicKey, "same key");
  const manifest = await request(`${first.url}/v1/batches/${posted.root}/manifest`);
  t.equal(manifest.statusCode, 200, "its stored batch is back");
  await manifest.body.dump();

  // OP Stack alt-DA through the same devnet
  const payload = randomBytes(50_000);
  const put = await request(`${info.disperser.url}/put`, {
    method: "POST",
    body: payload,
    headers: { "content-type": "application/octet-stream" },
  });
  t.equal(put.statusCode, 200);
  const commitment = Buffer.from(await put.body.arrayBuffer());
  t.equal(commitment.length, 34, "a generic commitment: 0x01, the DA-layer byte, the root");
  const got = await request(`${info.disperser.url}/get/0x${commitment.toString("hex")}`);
  t.equal(got.statusCode, 200);
  t.ok(Buffer.from(await got.body.arrayBuffer()).equals(payload), "GET /get/0x… returns the bytes put");

  // kill 3 of 8 nodes → the read is exact
  const victims = [info.nodes[2], info.nodes[5], info.nodes[7]].map((n) => n?.pid as number);
  for (const pid of victims) process.kill(pid, "SIGKILL");
  t.same(await waitGone(victims), [], "three nodes dead");
  const get = await runBin(["get", posted.id, "--devnet", file, "-o", join(dir, "back.bin")]);
  t.equal(get.code, 0, get.stderr);
  t.ok(readFileSync(join(dir, "back.bin")).equals(readFileSync(join(dir, "batch.bin"))), "exact bytes");

  // An explicit flag wins over the devnet's value.
  const elsewhere = await runCli([
    "get",
    posted.id,
    "--devnet",
    file,
    "--disperser",
    "http://127.0.0.1:1",
    "-o",
    join(dir, "x.bin"),
  ]);
  t.match(elsewhere.stderr, /127\.0\.0\.1:1\/v1\/batches/);

  // SIGTERM stops every process the devnet started; only the restarted node, ours, remains.
  restarted.kill("SIGTERM");
  t.equal(await devnet.stop(), 0, "cellar devnet exits 0");
  t.match(JSON.parse(devnet.lines.at(-1) ?? "{}"), { event: "stopped", signal: "SIGTERM" });
  t.same(await waitGone([...devnetPids(info), restarted.pid as number]), [], "no process left behind");
});

t.test("client commands: --devnet or explicit flags, usage errors exit 2", async (t) => {
  const dir = t.testdir({ "x.bin": "x", "bad.json": "{}" });
  const noNodes = await runCli(["sample", `0x${"11".repeat(32)}`]);
  t.equal(noNodes.code, 2);
  t.match(noNodes.stderr, /^cellar: sample needs a node set: --nodes FILE, or --rpc URL --registry ADDRESS/);
  const id = `0x${"22".repeat(32)}`;
  const noRpc = await runCli(["settle", id]);
  t.equal(noRpc.code, 2);
  t.match(noRpc.stderr, /^cellar: settle needs --rpc or --devnet FILE \(or CELLAR_DEVNET\)/);
  const bad = await runCli(["post", join(dir, "x.bin"), "--devnet", join(dir, "bad.json")]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /is not a devnet file written by cellar devnet \[CELLAR_ERR_CLI_DEVNET_FILE\]\n$/);
  const missing = await runCli(["get", id, "--devnet", join(dir, "none.json")]);
  t.match(missing.stderr, /^cellar: cannot read devnet file .*\[CELLAR_ERR_CLI_DEVNET_FILE\]\n$/);
  t.notMatch(missing.stderr, /\n {4}at /, "no stack without --verbose");
  const verbose = await runCli(["--verbose", "get", id, "--devnet", join(dir, "none.json")]);
  t.match(verbose.stderr, /\n {4}at /, "a stack with --verbose");
  for (const command of ["devnet", "demo", "post", "get", "sample"]) {
    const help = await runCli([command, "--help"]);
    t.equal(help.code, 0);
    t.match(help.stdout, /Examples?:\n {2}\$ cellar /, `${command} --help has an example`);
  }
  const nonEmpty = await runCli(["devnet", "--dir", dir]);
  t.equal(nonEmpty.code, 1);
  t.match(nonEmpty.stderr, /is not empty and holds no devnet.*\[CELLAR_ERR_CLI_OUTPUT_EXISTS\]/);
  t.equal((await runCli(["devnet", "--nodes", "0"])).code, 2);
});
