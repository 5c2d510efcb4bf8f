// The README is a contract with a newcomer: exactly two set-up commands (the same ones CI runs),
// a main-job command that works as written, and every other command it shows (the `console`
// blocks, one `$ ` command a line) run here as written, in order, against the devnet it starts.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isAlive, readDevnetFile } from "@cellar/cli";
import { devnetPids, waitGone } from "@cellar/test-utils/devnet-process";
import { PROJECT_ROOT } from "@cellar/test-utils/vectors";
import t, { type Test } from "tap";

const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
const fenced = (lang: string) =>
  [...readme.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, "g"))].map((m) =>
    (m[1] as string).trim().split("\n"),
  );
const blocks = fenced("sh");
const consoles = fenced("console");

t.test("two set-up commands, the ones CI runs", async (t) => {
  t.same(blocks[0], ["npm ci", "npm test"]);
  const ci = readFileSync(join(PROJECT_ROOT, ".ci", "run"), "utf8");
  t.match(ci, /^if ! npm ci\b/m, "CI installs with the README's install command");
  t.match(ci, /^npm test\b/m, "CI runs the README's test command");
  t.equal(blocks.length, 2, "set-up block and main-job block, nothing else to run as sh");
});

t.test("every other command is in a console block, one `$ ` command a line", async (t) => {
  t.equal(consoles.length, 3, "the devnet, a session against it, the offline commands");
  for (const block of consoles) for (const line of block) t.match(line, /^\$ \S/, line);
  t.same(consoles[0], ["$ npx cellar devnet"]);
  const fences = [...readme.matchAll(/^```(\w*)$/gm)].map((m) => m[1]).filter((lang) => lang !== "");
  t.same(
    fences.filter((lang) => lang !== "sh" && lang !== "console" && lang !== "text"),
    [],
    "no other kind of code block",
  );
  for (const doc of ["docs/PROTOCOL.md", "docs/PERFORMANCE.md", "docs/OPERATING.md", "docs/RELIABILITY.md"]) {
    t.match(readme, `](${doc})`, `links ${doc}`);
    t.ok(statSync(join(PROJECT_ROOT, doc)).isFile(), `${doc} exists`);
  }
});

/** The main-job command, as written; run while the README's devnet is up, so two devnets share the machine. */
async function mainJob(t: Test, dir: string): Promise<void> {
  t.same(blocks[1], ["npx cellar demo"]);
  // t.testdir lives inside the project, so npx finds the workspace's own `cellar`.
  mkdirSync(join(dir, "demo"));
  // Bounded: a demo that never ends fails here (its SIGTERM tears it down) rather than at tap's timeout.
  const out = execFileSync("bash", ["-c", blocks[1]?.[0] as string], {
    cwd: join(dir, "demo"),
    stdio: "pipe",
    encoding: "utf8",
    timeout: 400_000,
  });
  for (const step of ["devnet", "post", "certificate", "sample", "settle", "kill", "retrieve", "teardown"])
    t.match(out, new RegExp(`^ {2}${step} +\\d+\\.\\d\\d s {2}\\S`, "m"), `step ${step} reported with its time`);
  t.match(out, /sample .* the light node http:\/\/127\.0\.0\.1:\d+ found it available: confidence /, "sampled by whom");
  t.match(out, /kill .*\(3 of 8\)/, "a third of the nodes killed");
  t.match(out, /identical to the posted batch/);
  t.match(out, /^demo passed in [\d.]+ s: batch bafkrwi/m);
}

t.test("the devnet and every command shown against it, as written; the main job beside it", async (t) => {
  const dir = t.testdir({});
  const devnetCommand = (consoles[0]?.[0] ?? "").slice(2);
  const devnet = spawn("bash", ["-c", devnetCommand], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  // 'close': the devnet has ended and all it printed is in `output`.
  const exited = new Promise((resolve) => devnet.once("close", resolve));
  let output = "";
  devnet.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  devnet.stderr.resume();
  let pid: number | undefined;
  t.teardown(() => {
    // After a failure: stop the devnet itself (bash and npx are only its parents). This runs after
    // t.testdir's own clean-up, so the pid was read while devnet.json was there.
    if (pid !== undefined && isAlive(pid)) process.kill(pid, "SIGTERM");
    devnet.kill("SIGKILL");
  });
  // Bounded, so that a start-up that never comes fails here rather than at tap's timeout.
  const deadline = Date.now() + 300_000;
  while (!/Ctrl-C stops every process/.test(output)) {
    if (Date.now() > deadline) throw new Error(`cellar devnet printed no table in 300 s: ${output}`);
    const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r("waiting"), 200))]);
    if (early !== "waiting") throw new Error(`cellar devnet exited (${early}) before it was ready`);
  }
  t.match(output, /^ {2}anvil +http:\/\/127\.0\.0\.1:\d+ +\d+$/m, "the table lists anvil");
  t.match(output, /^ {2}node 7 +http:\/\/127\.0\.0\.1:\d+ +\d+$/m, "and 8 storage nodes");
  t.match(output, /^ {2}explorer +http:\/\/127\.0\.0\.1:\d+\/explorer\/$/m, "and the explorer's page");
  const info = await readDevnetFile(join(dir, "devnet", "devnet.json"));
  pid = info.pid;

  const session = (consoles[1] as string[]).map((line) => line.slice(2));
  execFileSync("bash", ["-euo", "pipefail", "-c", session.join("\n")], { cwd: dir, stdio: "pipe", timeout: 300_000 });
  t.ok(readFileSync(join(dir, "back.bin")).equals(readFileSync(join(dir, "batch.bin"))), "get returned the bytes");
  t.match(JSON.parse(readFileSync(join(dir, "posted.json"), "utf8")), { status: "certified", certificate: Object });

  const offline = (consoles[2] as string[]).map((line) => line.slice(2));
  const keygen = execFileSync("bash", ["-euo", "pipefail", "-c", offline.join("\n")], {
    cwd: dir,
    encoding: "utf8",
    timeout: 300_000,
  });
  t.ok(readFileSync(join(dir, "batch.out")).equals(readFileSync(join(dir, "batch.bin"))), "decode is bit-exact");
  t.match(JSON.parse(keygen.trim().split("\n").at(-1) ?? ""), { publicKey: /^0x[0-9a-f]{96}$/ });
  t.equal(statSync(join(dir, "node.key")).mode & 0o777, 0o600, "the key file is private");

  await t.test("the main-job command runs the whole flow and exits 0", (t) => mainJob(t, dir));

  // Ctrl-C (SIGINT to the devnet process) stops every process it started.
  process.kill(info.pid, "SIGINT");
  await exited;
  t.match(output, /devnet stopped \(SIGINT\)/);
  t.same(await waitGone(devnetPids(info)), [], "no process left behind");
});
