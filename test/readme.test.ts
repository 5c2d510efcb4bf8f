// The README is a contract with a newcomer: exactly two set-up commands (the same ones CI runs)
// and a main-job command that works as written.
import { execSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { PROJECT_ROOT } from "./helpers/vectors.js";

const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => (m[1] as string).trim().split("\n"));

t.test("two set-up commands, the ones CI runs", async (t) => {
  t.same(blocks[0], ["npm ci", "npm test"]);
  const ci = readFileSync(join(PROJECT_ROOT, ".ci", "run"), "utf8");
  t.match(ci, /^if ! npm ci\b/m, "CI installs with the README's install command");
  t.match(ci, /^npm test\b/m, "CI runs the README's test command");
  t.equal(blocks.length, 2, "set-up block and main-job block, nothing else to run");
});

t.test("the main-job command encodes and decodes a batch bit-exactly", async (t) => {
  const [command] = blocks[1] ?? [];
  t.match(command, /^npx cellar encode batch\.bin -o batch\/ && npx cellar decode batch\/ -o batch\.out$/);
  // t.testdir lives inside the project, so npx finds the workspace's own `cellar`.
  const dir = t.testdir({ "batch.bin": randomBytes(150_000) });
  execSync(command as string, { cwd: dir, stdio: "pipe" });
  t.ok(readFileSync(join(dir, "batch.out")).equals(readFileSync(join(dir, "batch.bin"))), "batch.out equals batch.bin");
});
