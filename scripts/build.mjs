#!/usr/bin/env node
// Builds every package in dependency order (TypeScript project references).
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const tsc = spawnSync(process.platform === "win32" ? "npx.cmd" : "npx", ["tsc", "-b"], { cwd: root, stdio: "inherit" });
process.exit(tsc.status ?? 1);
