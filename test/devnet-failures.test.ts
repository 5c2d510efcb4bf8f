// The devnet's failure paths: a child that never says it is ready, a devnet directory left by a
// stopped devnet, and a demo whose check fails. Whatever fails, no process is left behind.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { CELLAR_BIN, type DemoStep, type L1, runDemo, spawnServer, startDevnet } from "@cellar/cli";
import * as l1 from "@cellar/l1";
import { waitGone } from "@cellar/test-utils/devnet-process";
import t from "tap";

t.test("spawnServer: an early exit, a first line that is not a ready line, or none in time", async (t) => {
  const dir = t.testdir({});
  await t.rejects(spawnServer({ args: ["node", "--port", "0"] }), {
    code: "CELLAR_ERR_CLI_DEVNET_START",
    message: /^cellar node exited \(2\) before it was ready: cellar: required option '--data <dir>' not specified$/,
  });
  await t.rejects(spawnServer({ args: ["keygen", "-o", join(dir, "k.key")] }), {
    code: "CELLAR_ERR_CLI_DEVNET_START",
    message: /cellar keygen printed an unexpected first line: \{"keyFile"/,
  });
  await t.rejects(spawnServer({ args: ["node", "--data", join(dir, "d"), "--port", "0"], timeoutMs: 1 }), {
    code: "CELLAR_ERR_CLI_DEVNET_START",
    message: /cellar node printed no ready line in 1 ms/,
  });
});

t.test("a stopped devnet's directory is cleared; a failed start stops what it started", async (t) => {
  const dir = t.testdir({});
  const stale = join(dir, "net");
  mkdirSync(join(stale, "nodes", "0"), { recursive: true });
  writeFileSync(join(stale, "nodes", "0", "node.key"), "old");
  // A devnet file whose processes are long gone (pid 2^22 + 1 is above Linux's pid_max).
  const gone = 4_194_305;
  const service = { url: "http://127.0.0.1:1", pid: gone, command: [], log: "" };
  writeFileSync(
    join(stale, "devnet.json"),
    JSON.stringify({
      version: 1,
      pid: gone,
      dir: stale,
      chainId: 31337,
      l1: { rpc: "http://127.0.0.1:1", pid: gone, registry: "", inbox: "", account: { address: "", privateKey: "" } },
      inbox: "",
      replication: 2,
      nodeSet: "",
      disperser: service,
      light: service,
      nodes: [],
    }),
  );
  let anvilPid = 0;
  const failing: L1 = {
    ...l1,
    startAnvil: async (opts) => {
      const anvil = await l1.startAnvil(opts);
      anvilPid = anvil.pid;
      return anvil;
    },
    deployContracts: async () => {
      throw new Error("no contracts today");
    },
  };
  await t.rejects(startDevnet({ dir: stale, nodes: 1, l1: failing }), { message: "no contracts today" });
  t.ok(anvilPid > 0, "anvil was started");
  t.same(await waitGone([anvilPid]), [], "and stopped after the failure");
  t.same(readdirSync(stale).sort(), ["disperser", "logs", "nodes"], "the old devnet file is gone");
  t.same(readdirSync(join(stale, "nodes")), ["0"]);
});

t.test("a demo whose check fails exits with CELLAR_ERR_CLI_DEMO_CHECK and tears down", async (t) => {
  const steps: DemoStep[] = [];
  const forgetful: L1 = { ...l1, isRecorded: async () => false };
  await t.rejects(runDemo({ nodes: 1, bytes: 100_000, l1: forgetful, onStep: (s) => steps.push(s) }), {
    code: "CELLAR_ERR_CLI_DEMO_CHECK",
    message: "the inbox does not report the batch as recorded",
  });
  t.same(
    steps.map((s) => s.step),
    ["devnet", "post", "certificate", "sample", "settle"],
  );
  const devnet = steps[0] as DemoStep;
  t.same(await waitGone(devnet.details.pids as number[]), [], "every process stopped");
  t.notOk(existsSync(devnet.details.dir as string), "its directory removed");
});

t.test("cellar demo interrupted: exit 130 and every child killed on the way out", async (t) => {
  const demo = spawn(process.execPath, [CELLAR_BIN, "demo", "--nodes", "1", "--mib", "0.1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  // 'close': the demo has ended and its stderr is read to the end.
  const exited = new Promise((resolve) => demo.once("close", (code) => resolve(code)));
  let stderr = "";
  demo.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const started = await new Promise<string>((resolve) => {
    const late = setTimeout(resolve, 300_000, "late");
    createInterface({ input: demo.stdout }).on("line", (line) => {
      if (!/^ {2}devnet /.test(line)) return;
      clearTimeout(late);
      resolve("started");
    });
    void exited.then(() => resolve("exited"));
  });
  t.equal(started, "started", "the devnet step is reported");
  // The demo's children by what they run (not by count: nothing else is promised about them).
  const children = execFileSync("ps", ["--ppid", String(demo.pid), "-o", "pid=,args="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), args: m[2] as string }));
  const roles = ["anvil", " node ", " light ", " disperser "].map((role) =>
    children.find((c) => (role === "anvil" ? /(^|\/)anvil\b/ : new RegExp(`cellar.js${role}`)).test(c.args)),
  );
  t.ok(
    roles.every((c) => c !== undefined),
    `anvil, the storage node, the light node and the disperser are among its children: ${children.map((c) => c.args.split(" ").slice(0, 3).join(" ")).join("; ")}`,
  );
  demo.kill("SIGTERM");
  t.equal(await exited, 130);
  t.match(stderr, /cellar: demo interrupted \(SIGTERM\)/);
  t.same(await waitGone(children.map((c) => c.pid)), [], "no child left");
});
