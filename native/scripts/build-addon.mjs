#!/usr/bin/env node
// The package's install step: compiles the addon with node-gyp (build/Release/cellar_native.node).
// It never fails the install: when the compiler, the headers or node-gyp are missing, it says so
// and the TypeScript fallback serves instead. CELLAR_NATIVE=0 skips the build.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";

const here = new URL("..", import.meta.url).pathname;
const log = (line) => process.stderr.write(`@cellar/native: ${line}\n`);

if (process.env.CELLAR_NATIVE === "0") {
  log("CELLAR_NATIVE=0: not building the addon; the TypeScript fallback will serve");
  process.exit(0);
}

// npm hands lifecycle scripts the node-gyp it bundles; outside npm, the one on PATH.
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp ? [process.execPath, [gyp, "rebuild"]] : ["node-gyp", ["rebuild"]];
const result = spawnSync(command, args, { cwd: here, encoding: "utf8", shell: !gyp && process.platform === "win32" });
const built = new URL("../build/Release/cellar_native.node", import.meta.url).pathname;
if (result.status === 0 && existsSync(built)) {
  log("built build/Release/cellar_native.node");
} else {
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}`;
  const tail = output.trim().split("\n").slice(-8).join("\n  ");
  log(`the addon did not build; the TypeScript fallback will serve (slower). Last lines:\n  ${tail}`);
  rmSync(new URL("../build", import.meta.url), { recursive: true, force: true });
}
process.exit(0);
