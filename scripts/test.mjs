#!/usr/bin/env node
// The project's test command (`npm test`): builds, runs the tap suite (arguments pass through to
// tap), then counts every assertion tap recorded: skipped ones apart (a line `N skipped`), and a
// `todo` as a failure (work left undone is not a pass). It ends with the line `N passed, N failed`,
// and exits non-zero when anything failed, coverage thresholds included.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { Parser } from "tap-parser";

const root = new URL("..", import.meta.url).pathname;
const resultsDir = join(root, ".tap", "test-results");
const npx = process.platform === "win32" ? "npx.cmd" : "npx";

const build = spawnSync(process.execPath, [join(root, "scripts", "build.mjs")], { cwd: root, stdio: "inherit" });
if (build.status !== 0) {
  console.log("build failed");
  console.log("0 passed, 1 failed");
  process.exit(1);
}

rmSync(resultsDir, { recursive: true, force: true });
const tap = spawnSync(npx, ["tap", ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });

function* files(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (name.endsWith(".tap")) yield path;
  }
}

/**
 * Counts the leaf assertions of one TAP stream. A subtest's own closing point follows its child
 * stream; it summarises assertions already counted, so it is skipped.
 */
function count(text) {
  const tally = { passed: 0, failed: 0, skipped: 0, failures: [], ok: true };
  const watch = (parser, path) => {
    let closingChild = false;
    parser.on("child", (child) => {
      closingChild = true;
      watch(child, [...path, child.name]);
    });
    parser.on("assert", (res) => {
      if (closingChild) {
        closingChild = false;
        return;
      }
      const name = [...path, res.name].join(" > ");
      if (res.todo) {
        tally.failed++;
        tally.failures.push(`${name} (todo)`);
      } else if (res.skip) tally.skipped++;
      else if (res.ok) tally.passed++;
      else {
        tally.failed++;
        tally.failures.push(name);
      }
    });
  };
  const parser = new Parser((results) => {
    tally.ok = results.ok;
  });
  watch(parser, []);
  parser.end(text);
  return tally;
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const file of files(resultsDir)) {
  const name = relative(resultsDir, file).replace(/\.tap$/, "");
  const tally = count(readFileSync(file, "utf8"));
  passed += tally.passed;
  failed += tally.failed;
  skipped += tally.skipped;
  failures.push(...tally.failures.map((f) => `${name}: ${f}`));
  if (!tally.ok && tally.failed === 0) {
    failed++;
    failures.push(`${name}: the test file failed outside any assertion (crash, timeout or bad plan)`);
  }
}
if (tap.status !== 0 && failed === 0) {
  failed++;
  failures.push("tap exited non-zero (coverage below the thresholds in package.json, or no tests ran)");
}
if (failures.length > 0) {
  console.log("\nFailures:");
  for (const f of failures) console.log(`  - ${f}`);
}
console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || tap.status !== 0 ? 1 : 0);
