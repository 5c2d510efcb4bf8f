// Fuzzing the kernels' own entry points (the addon's and the fallback's), under the checks of the
// TypeScript layer: any arguments at all, and near-valid ones (indices of random lengths and
// values, cells of random lengths and bytes). Each call returns a buffer of the promised size or
// throws an Error with a kernel code; it never crashes the process.

import { type ErasureCore, fallbackKernel, loadAddon } from "@cellar/native";
import fc from "fast-check";
import t from "tap";

const addon = loadAddon();
const kernels: [string, ErasureCore][] = [["js", fallbackKernel]];
if (!(addon instanceof Error)) kernels.unshift(["native", addon]);

const CODES = ["ERR_CELLAR_NATIVE_ARGUMENTS", "ERR_CELLAR_NATIVE_INDICES", "ERR_CELLAR_NATIVE_NON_CANONICAL"];

function outcome(call: () => Uint8Array, blobs: number, all: boolean): boolean {
  try {
    return call().length === blobs * (all ? 128 : 64) * 2048;
  } catch (err) {
    return err instanceof Error && CODES.includes((err as { code?: string }).code as string);
  }
}

for (const [name, kernel] of kernels) {
  t.test(`${name}: any arguments`, async (t) => {
    fc.assert(
      fc.property(fc.array(fc.anything(), { maxLength: 5 }), (args) => {
        try {
          (kernel.recover as (...a: unknown[]) => unknown)(...args);
          return false; // random arguments are never all valid
        } catch (err) {
          return err instanceof Error && CODES.includes((err as { code?: string }).code as string);
        }
      }),
      { numRuns: 300 },
    );
    t.pass();
  });

  t.test(`${name}: near-valid indices and cells`, async (t) => {
    const arb = fc.record({
      indices: fc.uint8Array({ minLength: 60, maxLength: 130 }),
      sorted: fc.boolean(),
      blobs: fc.integer({ min: 0, max: 2 }),
      delta: fc.constantFrom(0, 0, 0, -1, 1, -2048),
      top: fc.integer({ min: 0, max: 255 }),
      all: fc.boolean(),
    });
    const runs = name === "native" ? 200 : 40;
    fc.assert(
      fc.property(arb, ({ indices, sorted, blobs, delta, top, all }) => {
        const idx = sorted ? Uint8Array.from(new Set([...indices].map((i) => i % 128))).sort() : indices;
        const size = Math.max(0, blobs * idx.length * 2048 + delta);
        const cells = new Uint8Array(size);
        // One word's top byte from the fuzzer: below 0x73 it is canonical, above it never.
        for (let i = 0; i < size; i += 32) cells[i] = top % 0x73;
        if (size > 0) cells[Math.min(size - 32, 32 * top)] = top;
        return outcome(() => kernel.recover(idx, cells, blobs, all), blobs, all);
      }),
      { numRuns: runs },
    );
    await t.rejects(kernel.recoverAsync(new Uint8Array(64), new Uint8Array(5), 1, false), {
      code: "ERR_CELLAR_NATIVE_ARGUMENTS",
    });
  });
}
