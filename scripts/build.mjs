#!/usr/bin/env node
// Builds every package in dependency order: the Solidity contracts first (their ABIs and bytecode
// are generated TypeScript), then the TypeScript project references, then the explorer's page
// (bundled with esbuild into packages/explorer/dist/web, which ships with the package).
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const solc = spawnSync(process.execPath, ["scripts/compile-contracts.mjs"], { cwd: root, stdio: "inherit" });
if (solc.status !== 0) process.exit(solc.status ?? 1);
const tsc = spawnSync(process.platform === "win32" ? "npx.cmd" : "npx", ["tsc", "-b"], { cwd: root, stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const web = spawnSync(process.execPath, ["packages/explorer/build-web.mjs"], { cwd: root, stdio: "inherit" });
process.exit(web.status ?? 1);
