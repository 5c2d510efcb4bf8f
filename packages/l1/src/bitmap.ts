import { L1Error } from "./errors.js";

/** A bitmap (byte i >> 3, bit i & 7) as the inbox's uint256 (bit i), and back. */
export function bitmapToUint(bitmap: Uint8Array): bigint {
  if (bitmap.length > 32) throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", "a signer bitmap is at most 32 bytes");
  return bitmap.reduce((acc, byte, k) => acc | (BigInt(byte) << BigInt(8 * k)), 0n);
}

export function uintToBitmap(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let k = 0; k < 32; k++) out[k] = Number((value >> BigInt(8 * k)) & 0xffn);
  return out;
}
