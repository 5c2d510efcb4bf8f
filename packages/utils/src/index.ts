/**
 * Small helpers every Cellar package shares: the typed error base, hex conversion and
 * bounded concurrency.
 *
 * @example
 * ```ts
 * import { CellarError, fromHex, toHex } from "@cellar/utils";
 * const root = fromHex("0x" + "00".repeat(32), 32, "root");
 * ```
 *
 * @packageDocumentation
 */

export { mapConcurrent } from "./concurrency.js";
export { CellarError, isCellarError } from "./errors.js";
export { bytesEqual, fromHex, HEX_ERROR_CODES, type HexErrorCode, toHex } from "./hex.js";
export { killOnExit } from "./process.js";
