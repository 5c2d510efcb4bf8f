import { randomBytes } from "node:crypto";
import { columnOf, decodeBatch, encodeBatch } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { createErasure } from "@cellar/native";
import { FRAME_HEADER_BYTES, PAYLOAD_BYTES_PER_BLOB } from "@cellar/params";

const kzg = sharedKzg();
const erasure = createErasure({ backend: "native" });
const payload = new Uint8Array(randomBytes(16 * PAYLOAD_BYTES_PER_BLOB - FRAME_HEADER_BYTES));
const batch = await encodeBatch(payload, { kzg });
const orig = Array.from({ length: 64 }, (_, c) => columnOf(batch, c));
const par = Array.from({ length: 64 }, (_, c) => columnOf(batch, 64 + c));
for (let r = 0; r < 4; r++) {
  for (const [name, cols, av] of [
    ["present", orig, true],
    ["parity", par, true],
    ["present+verify", orig, false],
    ["parity+verify", par, false],
  ] as const) {
    const t0 = performance.now();
    await decodeBatch(batch.manifest, cols, { kzg, erasure, alreadyVerified: av });
    console.log(name, (performance.now() - t0).toFixed(1));
  }
}
const cells = Array.from({ length: 4 }, (_, b) => par.map((c) => c.cells[b] as Uint8Array));
const idx = par.map((c) => c.index);
let t0 = performance.now();
await erasure.recoverBlobsAsync(idx, cells);
console.log("one chunk of 4", (performance.now() - t0).toFixed(1));
t0 = performance.now();
await Promise.all([erasure.recoverBlobsAsync(idx, cells), erasure.recoverBlobsAsync(idx, cells)]);
console.log("two chunks parallel", (performance.now() - t0).toFixed(1));
