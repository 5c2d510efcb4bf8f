import { CellarError } from "./errors.js";

export const HEX_ERROR_CODES = ["CELLAR_ERR_HEX_INVALID"] as const;
export type HexErrorCode = (typeof HEX_ERROR_CODES)[number];

/** `0x`-prefixed lower-case hex of the bytes. */
export function toHex(bytes: Uint8Array): `0x${string}` {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

const HEX_RE = /^0x(?:[0-9a-fA-F]{2})*$/;

/**
 * Parses `0x`-prefixed hex. With `length`, the result must be exactly that many bytes.
 * Throws CELLAR_ERR_HEX_INVALID with the field name, so callers can say which input was wrong.
 */
export function fromHex(value: unknown, length?: number, field = "value"): Uint8Array {
  if (typeof value !== "string" || !HEX_RE.test(value)) {
    throw new CellarError<HexErrorCode>(
      "CELLAR_ERR_HEX_INVALID",
      `${field} must be 0x-prefixed hex with an even number of digits`,
      { field },
    );
  }
  const bytes = new Uint8Array(Buffer.from(value.slice(2), "hex"));
  if (length !== undefined && bytes.length !== length) {
    throw new CellarError<HexErrorCode>(
      "CELLAR_ERR_HEX_INVALID",
      `${field} must be ${length} bytes, got ${bytes.length}`,
      { field, expected: length, actual: bytes.length },
    );
  }
  return bytes;
}

/** Constant-shape byte equality (not for secrets: it returns early on a length mismatch). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
