import { DisperserError } from "./errors.js";

/** OP Stack alt-DA generic commitment type byte. */
export const GENERIC_COMMITMENT_TYPE = 0x01;
/**
 * Cellar's default DA-layer byte in generic commitments: 0x43 ("C"). The OP Stack alt-DA spec
 * (specs/experimental/alt-da.md) allows [0, 127); known layers use 0x00 (EigenDA), 0x0a and 0x0c.
 * Configurable with --da-layer-byte, within the same range.
 */
export const DEFAULT_DA_LAYER_BYTE = 0x43;

/** `0x01 || daLayerByte || root`: the raw bytes `POST /put` answers with. */
export function encodeAltDaCommitment(root: Uint8Array, daLayerByte = DEFAULT_DA_LAYER_BYTE): Uint8Array {
  return Uint8Array.of(GENERIC_COMMITMENT_TYPE, daLayerByte, ...root);
}

/** The root in a `/get/0x<hex>` path; CELLAR_ERR_DISPERSER_BAD_COMMITMENT for anything else. */
export function decodeAltDaCommitment(hex: string, daLayerByte = DEFAULT_DA_LAYER_BYTE): Uint8Array {
  const bad = (why: string) =>
    new DisperserError("CELLAR_ERR_DISPERSER_BAD_COMMITMENT", `malformed commitment: ${why}`, {});
  if (!/^0x([0-9a-fA-F]{2})+$/.test(hex)) throw bad("expected 0x-prefixed hex");
  const bytes = new Uint8Array(Buffer.from(hex.slice(2), "hex"));
  if (bytes[0] !== GENERIC_COMMITMENT_TYPE) throw bad(`commitment type ${bytes[0]} is not generic (1)`);
  if (bytes[1] !== daLayerByte) throw bad(`DA layer byte ${bytes[1]} is not this server's (${daLayerByte})`);
  if (bytes.length !== 34) throw bad(`expected 34 bytes, got ${bytes.length}`);
  return bytes.subarray(2);
}
