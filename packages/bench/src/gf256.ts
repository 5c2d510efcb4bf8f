import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DATA_COLUMNS, PAYLOAD_BYTES_PER_BLOB } from "@cellar/params";
import { ReedSolomonErasure } from "@subspace/reed-solomon-erasure.wasm";
import { BenchError } from "./errors.js";
import { timeRepeated } from "./timing.js";

/** A plain GF(2^8) Reed–Solomon encoder: `shards` holds data then parity shards, filled in place. */
export interface Gf256Codec {
  encode(shards: Uint8Array, dataShards: number, parityShards: number): number;
  reconstruct(shards: Uint8Array, dataShards: number, parityShards: number, available: boolean[]): number;
}

/** Shards per blob on each side, as Cellar's columns: 64 data, 64 parity. */
export const GF256_DATA_SHARDS = DATA_COLUMNS;
export const GF256_PARITY_SHARDS = DATA_COLUMNS;
/** One blob's payload split in 64: 1,984 bytes per shard. */
export const GF256_SHARD_BYTES = PAYLOAD_BYTES_PER_BLOB / GF256_DATA_SHARDS;

/** Instantiates `@subspace/reed-solomon-erasure.wasm` (WebAssembly, one thread) once. */
export function loadGf256(): Gf256Codec {
  const entry = createRequire(import.meta.url).resolve("@subspace/reed-solomon-erasure.wasm");
  return ReedSolomonErasure.fromBytes(readFileSync(join(dirname(entry), "reed_solomon_erasure_bg.wasm")));
}

/**
 * Erasure-codes `payload` blob by blob, as the KZG path does: each blob's 126,976 payload bytes
 * become 64 data shards, and the codec adds 64 parity shards. `shards` is scratch space, reused.
 */
export function gf256EncodeBlobs(codec: Gf256Codec, payload: Uint8Array, shards?: Uint8Array): number {
  const buf = shards ?? new Uint8Array(GF256_SHARD_BYTES * (GF256_DATA_SHARDS + GF256_PARITY_SHARDS));
  let blobs = 0;
  for (let at = 0; at < payload.length || blobs === 0; at += PAYLOAD_BYTES_PER_BLOB) {
    const part = payload.subarray(at, at + PAYLOAD_BYTES_PER_BLOB);
    buf.set(part);
    if (part.length < PAYLOAD_BYTES_PER_BLOB) buf.fill(0, part.length, PAYLOAD_BYTES_PER_BLOB);
    const result = codec.encode(buf, GF256_DATA_SHARDS, GF256_PARITY_SHARDS);
    if (result !== 0) {
      throw new BenchError("CELLAR_ERR_BENCH_SELF_CHECK", `the GF(2^8) reference codec failed with result ${result}`, {
        result,
      });
    }
    blobs++;
  }
  return blobs;
}

/** Seconds to erasure-code `framed` once, blob by blob, over at least `minMs` of repeats. */
export function timeGf256(codec: Gf256Codec, framed: Uint8Array, minMs = 200): number {
  const shards = new Uint8Array(GF256_SHARD_BYTES * (GF256_DATA_SHARDS + GF256_PARITY_SHARDS));
  return timeRepeated(() => gf256EncodeBlobs(codec, framed, shards), minMs);
}
