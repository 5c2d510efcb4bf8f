#!/usr/bin/env node
// Part of `npm run lint`: every workspace package declares in `dependencies` exactly the packages
// its own code imports (src/ and bin/: `import`, `export … from`, `import()`, `require.resolve`),
// so none works only because npm hoisted it and none is listed for nothing. Tests do not count:
// what only tests use belongs in the root's devDependencies. A dependency used some other way is
// listed below with the reason. Prints each mismatch and exits 1 when there is one.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

/** Dependencies a package needs that its sources do not import, by package and with the reason. */
const NOT_IMPORTED = {
  "@cellar/l1": {
    "@foundry-rs/anvil": "anvilBinary() resolves the platform build this package installs",
    solc: "scripts/compile-contracts.mjs compiles contracts/ with this package's solc",
  },
  "@cellar/native": {
    "node-addon-api": "binding.gyp compiles the addon against its headers",
  },
  "@cellar/disperser": {
    "@types/pg": "the types of pg, which src/ imports",
  },
  "@cellar/cli": {
    commander: "the peer dependency of @commander-js/extra-typings, which src/ imports",
  },
};

const SPECIFIERS = [
  /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*["']([^"']+)["']/g,
  /\bimport\s*["']([^"']+)["']/g,
  /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  /\brequire(?:\.resolve)?\(\s*["']([^"']+)["']/g,
  /\.resolve\(\s*["']([^"']+)["']\s*\)/g,
];

function* sources(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "generated" && name !== "node_modules") yield* sources(path);
    } else if (/\.(?:ts|mts|js|mjs)$/.test(name) && !name.endsWith(".d.ts")) yield path;
  }
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or null for a relative or builtin one. */
function packageOf(specifier) {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) return null;
  const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
  return builtinModules.includes(name) ? null : name;
}

const workspaces = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).workspaces;
const problems = [];
for (const workspace of workspaces) {
  const dir = join(root, workspace);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const declared = new Set(Object.keys(manifest.dependencies ?? {}));
  const exempt = NOT_IMPORTED[manifest.name] ?? {};
  const imported = new Map();
  for (const file of [...sources(join(dir, "src")), ...sources(join(dir, "bin"))]) {
    const text = readFileSync(file, "utf8");
    for (const pattern of SPECIFIERS)
      for (const match of text.matchAll(pattern)) {
        const name = packageOf(match[1]);
        if (name !== null && name !== manifest.name && !imported.has(name)) imported.set(name, file.slice(root.length));
      }
  }
  for (const [name, file] of imported)
    if (!declared.has(name))
      problems.push(`${manifest.name}: ${file} imports ${name}, which is not in its dependencies`);
  for (const name of declared)
    if (!imported.has(name) && !(name in exempt))
      problems.push(`${manifest.name}: depends on ${name}, which nothing in src/ or bin/ imports`);
  for (const name of Object.keys(exempt))
    if (!declared.has(name)) problems.push(`${manifest.name}: ${name} is listed as needed here but not declared`);
}
for (const problem of problems) console.error(problem);
if (problems.length > 0) {
  console.error(
    `${problems.length} dependency mismatch(es): fix the package.json, or list the reason in scripts/check-deps.mjs`,
  );
  process.exit(1);
}
