#!/usr/bin/env node
// Builds every package in dependency order (TypeScript project references), then marks the CLI's
// entry point executable: npm links `cellar` to it, and tsc does not set file modes.
import { spawnSync } from "node:child_process";
import { chmodSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
const tsc = spawnSync(process.platform === "win32" ? "npx.cmd" : "npx", ["tsc", "-b"], { cwd: root, stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
chmodSync(new URL("../packages/cli/dist/bin.js", import.meta.url), 0o755);
