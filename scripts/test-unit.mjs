#!/usr/bin/env node
// `npm run test:unit`: the packages' own tests without the slow suites, for the edit–test loop
// (about a minute on a quiet 2-core machine; well under two while others share it). No build, no
// coverage: tests read src/ directly. `npm test` stays the whole suite, and the one CI runs.
// Arguments pass through to tap (e.g. `npm run test:unit -- --grep custody`).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

/**
 * Left to `npm test`: suites that run clusters of storage nodes, anvil, child processes or
 * multi-megabyte batches (each a minute or more here).
 */
const SLOW = new Set([
  "packages/bench/test/run.test.ts",
  "packages/codec/test/roundtrip.test.ts",
  "packages/disperser/test/disperser.test.ts",
  "packages/disperser/test/large-set.test.ts",
  "packages/kzg/test/vectors.test.ts",
  "packages/node/test/node.test.ts",
]);
/** Whole packages whose tests are all of that kind. */
const SLOW_PACKAGES = new Set(["cli", "l1", "light"]);

const files = [];
const add = (dir) => {
  let names;
  try {
    names = readdirSync(join(root, dir));
  } catch {
    return;
  }
  for (const name of names.sort())
    if (name.endsWith(".test.ts") && !SLOW.has(`${dir}/${name}`)) files.push(`${dir}/${name}`);
};
add("native/test");
for (const pkg of readdirSync(join(root, "packages")).sort()) if (!SLOW_PACKAGES.has(pkg)) add(`packages/${pkg}/test`);

const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const tap = spawnSync(npx, ["tap", "--disable-coverage", ...files, ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});
process.exit(tap.status ?? 1);
