#!/usr/bin/env node
// `npm run test:reliability`: the adversarial suite at its long counts (CELLAR_RELIABILITY=long;
// `CELLAR_RELIABILITY_<NAME>=N` sets one count), one file at a time, without coverage. Each check
// reports its figures; at the end they are printed as the table docs/RELIABILITY.md publishes.
// Arguments pass through to tap (e.g. one file: `npm run test:reliability -- test/reliability/withholding.test.ts`).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const figures = join(root, ".tap", "reliability-figures.jsonl");
mkdirSync(join(root, ".tap"), { recursive: true });
rmSync(figures, { force: true });
const files = process.argv.slice(2).some((a) => !a.startsWith("-"))
  ? []
  : ["test/reliability/", "test/node-crash.test.ts", "test/services-hardening.test.ts"];
const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const started = Date.now();
const tap = spawnSync(
  npx,
  ["tap", "--disable-coverage", "--jobs", "1", "--timeout", "3600", ...files, ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, CELLAR_RELIABILITY: "long", CELLAR_RELIABILITY_FIGURES: figures },
  },
);
const rows = existsSync(figures)
  ? readFileSync(figures, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
console.log(`\nreliability figures (${rows.length}, ${((Date.now() - started) / 60_000).toFixed(1)} min):\n`);
console.log("| area | guarantee | attack | count | observed | bound |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const f of rows)
  console.log(`| ${f.area} | ${f.guarantee} | ${f.attack} | ${f.count} | ${f.observed} | ${f.bound} |`);
process.exit(tap.status ?? 1);
