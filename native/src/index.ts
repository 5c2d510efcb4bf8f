/**
 * Cellar's erasure layer: data-only recovery of EIP-7594 blobs and cells from any 64 of the 128
 * cells, without recomputing KZG proofs, and the cell extension of a blob. A C addon over N-API
 * (`csrc/`, built by `npm ci`) serves when it is built; a TypeScript fallback with the same
 * interface and outputs serves otherwise (`CELLAR_NATIVE=0|1` forces either). Nothing here
 * checks cells against commitments: verify them first (`@cellar/kzg`).
 *
 * @example
 * ```ts
 * import { sharedErasure } from "@cellar/native";
 * const erasure = sharedErasure({ log: (m) => logger.info(m) }); // logs the backend once
 * // blobs[b] from the same 64 verified cells of each blob, e.g. the parity half
 * const blobs = await erasure.recoverBlobsAsync(indices, cellsPerBlob);
 * ```
 *
 * @packageDocumentation
 */
export { type Erasure, type ErasureBackend, erasureOver } from "./erasure.js";
export { NATIVE_ERROR_CODES, NativeError, type NativeErrorCode } from "./errors.js";
export { fallbackKernel } from "./fallback.js";
export { ADDON_PATH, type ErasureCore, type KernelError, type KernelErrorCode, loadAddon } from "./kernel.js";
export { createErasure, type ErasureModules, type ErasureOptions, sharedErasure } from "./select.js";
