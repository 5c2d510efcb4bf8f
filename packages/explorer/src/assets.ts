import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The built page (`npm run build` puts it there): the same depth from src/ and dist/. */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL("../dist/web/", import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".map": "application/json",
  ".svg": "image/svg+xml",
};

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/**
 * Every file of the built page, read once, by its path under the page (`assets/app.js`). Only
 * these paths are ever served: nothing outside the directory can be named by a request. An
 * unbuilt package has none.
 */
export function loadAssets(dir: string): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (at: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(at);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const type = TYPES[extname(name)];
        if (type !== undefined)
          assets.set(relative(dir, path).split(sep).join("/"), { type, body: readFileSync(path) });
      }
    }
  };
  walk(dir);
  return assets;
}
