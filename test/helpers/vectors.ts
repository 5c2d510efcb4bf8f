import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** The project root, found from this file (test/helpers/). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The official Ethereum KZG vectors, read from `../shared` beside the project, never copied in. */
export const VECTORS_DIR = resolve(PROJECT_ROOT, "..", "shared", "vectors", "kzg-mainnet");

export interface VectorCase {
  readonly suite: string;
  readonly name: string;
  readonly input: Record<string, unknown>;
  readonly output: unknown;
}

/** Every case of one suite (a folder of `<case>/data.yaml`), sorted by name. */
export function loadSuite(suite: string): VectorCase[] {
  const dir = join(VECTORS_DIR, suite);
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const data = parse(readFileSync(join(dir, name, "data.yaml"), "utf8")) as {
        input: Record<string, unknown>;
        output: unknown;
      };
      return { suite, name, input: data.input, output: data.output };
    });
}

/**
 * Bytes from a vector's hex string. Deliberately loose: malformed-input cases carry strings of
 * the wrong length, which must reach the code under test as they are.
 */
export function bytes(value: unknown): Uint8Array {
  if (typeof value !== "string") throw new TypeError(`expected a hex string, got ${typeof value}`);
  return new Uint8Array(Buffer.from(value.replace(/^0x/, ""), "hex"));
}

export function hex(value: Uint8Array): string {
  return `0x${Buffer.from(value).toString("hex")}`;
}
