import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * The raw kernel both backends implement (the addon's two functions, or fallback.ts): cells of
 * `blobs` blobs that all hold the cells `indices`, concatenated blob-major, in; every blob's 128
 * cells (`allCells`) or its 64 original cells, concatenated, out. A refusal is an Error with a
 * `code` (KernelErrorCode) and, for a non-canonical word, `blob`, `cell` and `element`.
 */
export interface ErasureCore {
  recover(indices: Uint8Array, cells: Uint8Array, blobs: number, allCells: boolean): Uint8Array;
  recoverAsync(indices: Uint8Array, cells: Uint8Array, blobs: number, allCells: boolean): Promise<Uint8Array>;
}

export type KernelErrorCode =
  | "ERR_CELLAR_NATIVE_ARGUMENTS"
  | "ERR_CELLAR_NATIVE_INDICES"
  | "ERR_CELLAR_NATIVE_NON_CANONICAL"
  | "ERR_CELLAR_NATIVE_MEMORY";

export interface KernelError extends Error {
  code: KernelErrorCode;
  blob?: number;
  cell?: number;
  element?: number;
}

export function kernelError(code: KernelErrorCode, message: string, where: Partial<KernelError> = {}): KernelError {
  return Object.assign(new Error(message), where, { code }) as KernelError;
}

/** Where node-gyp puts the addon: `native/build/Release`, one level above both src/ and dist/. */
export const ADDON_PATH = fileURLToPath(new URL("../build/Release/cellar_native.node", import.meta.url));

/** Loads the compiled addon, or returns why it cannot be had. */
export function loadAddon(path: string = ADDON_PATH): ErasureCore | Error {
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<ErasureCore>;
    if (typeof addon.recover !== "function" || typeof addon.recoverAsync !== "function") {
      return new Error(`${path} is not the Cellar erasure addon`);
    }
    return addon as ErasureCore;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
