#!/usr/bin/env node
// Builds the explorer page into dist/web with esbuild: two ES module bundles (the page; the
// worker with kzg-wasm and Ethereum's trusted setup), the stylesheet, the HTML and kzg-wasm's
// WebAssembly binary, so that the page needs nothing from outside the server that serves it.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist", "web");
const require = createRequire(import.meta.url);
// dist/cjs/index.js → dist/wasm/kzg.wasm; the bundle asks for "../wasm/kzg.wasm" from assets/.
const wasm = join(dirname(require.resolve("kzg-wasm")), "..", "wasm", "kzg.wasm");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
mkdirSync(join(out, "wasm"), { recursive: true });
await build({
  // The page, and the worker that holds kzg-wasm and the trusted setup.
  entryPoints: { app: join(here, "web", "main.ts"), "kzg-worker": join(here, "web", "kzg-worker.ts") },
  outdir: join(out, "assets"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["chrome111", "firefox111", "safari16"],
  conditions: ["browser"],
  // kzg-wasm reads its binary from disk only under Node; in the browser it fetches ../wasm/kzg.wasm.
  external: ["path", "fs", "url"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
});
copyFileSync(join(here, "web", "index.html"), join(out, "index.html"));
copyFileSync(join(here, "web", "style.css"), join(out, "assets", "app.css"));
copyFileSync(wasm, join(out, "wasm", "kzg.wasm"));
