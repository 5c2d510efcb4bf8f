// `cellar keygen` and `cellar node` as a user runs them: key files, the ready line, signals,
// configuration errors.
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBin, runCli } from "@cellar/test-utils/cli";
import { startNodeProcess } from "@cellar/test-utils/node-process";
import { KEYGEN_BINDING, type KeyOut, nodeSetJson } from "@cellar/test-utils/node-set";
import t from "tap";
import { request } from "undici";
import { parseDuration } from "../src/args.js";

t.test("keygen writes a 0600 key and never overwrites one", async (t) => {
  const dir = t.testdir({});
  const key = join(dir, "a.key");
  const res = await runCli(["keygen", "-o", key, "--json"]);
  t.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout);
  t.match(out, { publicKey: /^0x[0-9a-f]{96}$/, nodeId: /^0x[0-9a-f]{64}$/ });
  t.equal(out.proofOfPossession, undefined, "no proof of possession without its binding");
  const bound = JSON.parse((await runCli(["keygen", "-o", join(dir, "c.key"), "--json", ...KEYGEN_BINDING])).stdout);
  t.match(bound, { proofOfPossession: /^0x[0-9a-f]{192}$/, operator: /^0x0a0a/ });
  const half = await runCli(["keygen", "-o", join(dir, "d.key"), "--operator", "0x12"]);
  t.match(half.stderr, /needs all of --operator, --chain-id and --registry \[CELLAR_ERR_CLI_INPUT\]/);
  const bad = await runCli([
    "keygen",
    "-o",
    join(dir, "e.key"),
    "--operator",
    "0x12",
    "--chain-id",
    "1",
    "--registry",
    "0x34",
  ]);
  t.match(bad.stderr, /cannot bind the proof of possession.*\[CELLAR_ERR_CLI_INPUT\]/);
  t.equal(statSync(key).mode & 0o777, 0o600);
  t.match(readFileSync(key, "utf8"), /^0x[0-9a-f]{64}\n$/);
  const again = await runCli(["keygen", "-o", key]);
  t.equal(again.code, 1);
  t.match(again.stderr, /cannot create key file .*EEXIST.*\[CELLAR_ERR_NODE_KEY_FILE\]/);
  t.equal(
    JSON.parse((await runCli(["keygen", "-o", join(dir, "b.key"), "--json"])).stdout).publicKey === out.publicKey,
    false,
  );
});

t.test("cellar node: ready line, the key it was given, clean stop on SIGTERM", async (t) => {
  const dir = t.testdir({});
  const key = join(dir, "n.key");
  const made = JSON.parse((await runCli(["keygen", "-o", key, "--json"])).stdout);
  const node = await startNodeProcess([
    "--data",
    join(dir, "data"),
    "--key",
    key,
    "--chain-id",
    "5",
    "--inbox",
    `0x${"ab".repeat(20)}`,
  ]);
  t.match(node.ready, {
    event: "listening",
    url: /^http:\/\/127\.0\.0\.1:\d+$/,
    publicKey: made.publicKey,
    custody: 128,
  });
  const info = (await (await request(`${node.url}/v1/info`)).body.json()) as { domain: unknown };
  t.same(info.domain, { chainId: "5", inbox: `0x${"ab".repeat(20)}` });
  node.child.kill("SIGTERM");
  t.equal(await node.exited, 0);
  // Without --key the node creates DIR/node.key on first start and keeps it.
  const first = await startNodeProcess(["--data", join(dir, "own")]);
  first.child.kill("SIGTERM");
  await first.exited;
  t.equal(statSync(join(dir, "own", "node.key")).mode & 0o777, 0o600);
  const second = await startNodeProcess(["--data", join(dir, "own")]);
  t.equal(second.ready.publicKey, first.ready.publicKey, "the same identity after a restart");
  second.child.kill("SIGTERM");
  await second.exited;
});

t.test("SIGHUP reloads the node set and recomputes custody", async (t) => {
  const dir = t.testdir({});
  const keys: KeyOut[] = [];
  for (const name of ["a", "b", "c"]) {
    keys.push(
      JSON.parse((await runCli(["keygen", "-o", join(dir, `${name}.key`), "--json", ...KEYGEN_BINDING])).stdout),
    );
  }
  const nodesFile = join(dir, "nodes.json");
  const write = (n: number) =>
    writeFileSync(
      nodesFile,
      nodeSetJson(keys.slice(0, n).map((k, i) => ({ ...k, url: `http://127.0.0.1:${9000 + i}` }))),
    );
  write(1);
  const node = await startNodeProcess(["--data", join(dir, "d"), "--key", join(dir, "a.key"), "--nodes", nodesFile]);
  t.teardown(() => node.child.kill("SIGKILL"));
  const custody = async () =>
    ((await (await request(`${node.url}/v1/info`)).body.json()) as { custody: { columns: number[]; nodes: number } })
      .custody;
  t.equal((await custody()).columns.length, 128, "alone: every column");
  write(3);
  node.child.kill("SIGHUP");
  let now = await custody();
  for (let i = 0; i < 50 && now.nodes !== 3; i++) {
    await new Promise((r) => setTimeout(r, 50));
    now = await custody();
  }
  t.equal(now.nodes, 3, "the new node set is in force");
  t.ok(now.columns.length > 0 && now.columns.length < 128, `with three nodes it keeps ${now.columns.length} columns`);
  writeFileSync(nodesFile, "{broken");
  // The node logs (on stderr) once it has read the broken file: wait for that, not for a while.
  let log = "";
  const handled = new Promise<void>((resolve) => {
    const onData = (d: Buffer) => {
      log += d.toString();
      if (!/following the node set failed/.test(log)) return;
      node.child.stderr?.off("data", onData);
      resolve();
    };
    node.child.stderr?.on("data", onData);
  });
  node.child.kill("SIGHUP");
  const late = new Promise<string>((resolve) => setTimeout(resolve, 60_000, "late").unref());
  t.not(await Promise.race([handled.then(() => "handled"), late]), "late", "the reload failure is logged");
  t.equal((await custody()).nodes, 3, "a broken file is ignored and the old set kept");
});

t.test("cellar node refuses bad configuration with one clear line", async (t) => {
  const dir = t.testdir({ "bad.json": "{nope", "empty.json": JSON.stringify({ nodes: [] }) });
  const key = join(dir, "k.key");
  await runCli(["keygen", "-o", key]);
  chmodSync(key, 0o644);
  const open = await runBin(["node", "--data", join(dir, "d"), "--key", key, "--port", "0"]);
  t.equal(open.code, 1);
  t.match(open.stderr, /readable by others \(mode 644\); run chmod 600 on it \[CELLAR_ERR_NODE_KEY_FILE\]/);
  chmodSync(key, 0o600);
  const other = await runCli(["keygen", "-o", join(dir, "o.key"), "--json", ...KEYGEN_BINDING]);
  writeFileSync(join(dir, "others.json"), nodeSetJson([{ ...JSON.parse(other.stdout), url: "http://127.0.0.1:1" }]));
  const notIn = await runBin([
    "node",
    "--data",
    join(dir, "d"),
    "--key",
    key,
    "--port",
    "0",
    "--nodes",
    join(dir, "others.json"),
  ]);
  t.equal(notIn.code, 1);
  t.match(notIn.stderr, /this node's public key is not in the node set \[CELLAR_ERR_NODE_CONFIG\]/);
  t.match(
    (await runCli(["node", "--data", dir, "--nodes", join(dir, "bad.json")])).stderr,
    /is not valid JSON \[CELLAR_ERR_CLI_INPUT\]/,
  );
  t.match(
    (await runCli(["node", "--data", dir, "--nodes", join(dir, "empty.json")])).stderr,
    /\[CELLAR_ERR_PROTOCOL_INVALID_NODE_SET\]/,
  );
  t.match((await runCli(["node", "--data", dir, "--nodes", join(dir, "none.json")])).stderr, /cannot read node set/);
  const chain = await runCli(["node", "--data", dir, "--chain-id", "x"]);
  t.match(chain.stderr, /--chain-id <id>' argument 'x' is invalid\. must be an integer chain id/);
  t.equal(chain.code, 2, "a usage error");
  t.equal((await runCli(["node", "--data", dir, "--port", "70000"])).code, 2);
  t.equal((await runCli(["node", "--data", dir, "--retention", "soon"])).code, 2);
  t.equal((await runCli(["node"])).code, 2, "--data is required");
  t.match((await runCli(["node", "--help"])).stdout, /Examples:/);
});

t.test("durations", async (t) => {
  t.equal(parseDuration("90"), 90);
  t.equal(parseDuration("90m"), 5400);
  t.equal(parseDuration("12h"), 43200);
  t.equal(parseDuration("14d"), 1209600);
  t.throws(() => parseDuration("1w"));
});
