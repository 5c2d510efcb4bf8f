// Choosing the backend: the addon when it loads, the fallback otherwise or when configured
// (CELLAR_NATIVE=0), a refusal when the addon is required (CELLAR_NATIVE=1) and missing; the
// choice told once through the injected logger. And the install step never fails the install.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createErasure, loadAddon, NativeError, sharedErasure } from "@cellar/native";
import t from "tap";

const built = !(loadAddon() instanceof Error);
const missing = join(tmpdir(), "no-such-dir", "cellar_native.node");
const dir = mkdtempSync(join(tmpdir(), "cellar-native-"));
const notAddon = join(dir, "not-addon.cjs");
writeFileSync(notAddon, "module.exports = { hello: 1 };\n");

function logged(): { log: (m: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { log: (m) => lines.push(m), lines };
}

t.test("auto: the addon when it loads, else the fallback, told once", async (t) => {
  const a = logged();
  const auto = createErasure({ env: {} }, a);
  t.equal(auto.backend, built ? "native" : "js");
  t.equal(a.lines.length, 1);
  t.match(a.lines[0], built ? /native addon/ : /TypeScript fallback/);

  const b = logged();
  t.equal(createErasure({ env: {}, addonPath: missing }, b).backend, "js");
  t.match(b.lines[0], /TypeScript fallback \(the native addon does not load: /);
  t.equal(createErasure({ env: { CELLAR_NATIVE: "" }, addonPath: notAddon }).backend, "js", "not the addon");
  t.match(loadAddon(notAddon), { message: /is not the Cellar erasure addon/ });
});

t.test("CELLAR_NATIVE forces either backend", async (t) => {
  const a = logged();
  t.equal(createErasure({ env: { CELLAR_NATIVE: "0" } }, a).backend, "js");
  t.match(a.lines, [/chosen by configuration/]);
  t.equal(createErasure({ backend: "js" }).backend, "js", "an explicit option wins");
  t.throws(() => createErasure({ env: { CELLAR_NATIVE: "1" }, addonPath: missing }), {
    code: "CELLAR_ERR_NATIVE_UNAVAILABLE",
  });
  t.throws(() => createErasure({ env: { CELLAR_NATIVE: "yes" } }), NativeError);
  if (built) t.equal(createErasure({ env: { CELLAR_NATIVE: "1" } }).backend, "native");
});

t.test("the shared Erasure is created and logged once", async (t) => {
  const a = logged();
  const first = sharedErasure(a);
  t.equal(sharedErasure(a), first);
  t.equal(sharedErasure(), first);
  t.equal(a.lines.length, 1);
});

t.test("the install step exits 0 when the build cannot run", async (t) => {
  const script = new URL("../scripts/build-addon.mjs", import.meta.url).pathname;
  const skip = spawnSync(process.execPath, [script], { env: { ...process.env, CELLAR_NATIVE: "0" }, encoding: "utf8" });
  t.equal(skip.status, 0);
  t.match(skip.stderr, /not building the addon/);
  // A node-gyp that fails at once stands for a machine without a compiler; the built addon of
  // this checkout is left alone because the failing run is in a copy of the package.
  const copy = mkdtempSync(join(tmpdir(), "cellar-native-pkg-"));
  spawnSync("cp", ["-r", new URL("../scripts", import.meta.url).pathname, copy]);
  const failing = join(copy, "fail.cjs");
  writeFileSync(failing, "process.stderr.write('gyp ERR! no compiler\\n'); process.exit(1);\n");
  const failed = spawnSync(process.execPath, [join(copy, "scripts", "build-addon.mjs")], {
    env: { ...process.env, CELLAR_NATIVE: "", npm_config_node_gyp: failing },
    encoding: "utf8",
  });
  t.equal(failed.status, 0, "the install goes on");
  t.match(failed.stderr, /did not build; the TypeScript fallback will serve/);
  t.match(failed.stderr, /no compiler/);
});
