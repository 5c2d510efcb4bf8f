// Benchmark: data-only recovery (@cellar/native: the addon and the TypeScript fallback) beside
// node-eth-kzg's recoverCellsAndKzgProofs, on the same cells in the same run, from the parity
// half alone (the original 64 columns all missing, the worst case): per blob for 1 blob and for
// a batch of blobs missing the same columns, all on one thread. Then the whole rebuild of a
// batch as `cellar decode` and `cellar get` do it (verify every cell, then rebuild), with half
// its columns gone against all 64 original columns present, and with the library's recovery in
// place of data-only recovery for reference. Every output is checked against the library's.
//
//   npm run bench:recover                           # 32 blobs, a 16-blob decode, 5 runs
//   npm run bench:recover -- --blobs 8 --decode-blobs 4 --runs 3
//   npm run bench:recover -- --json
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { columnOf, decodeBatch, encodeBatch } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { createErasure, type Erasure } from "@cellar/native";
import { BYTES_PER_BLOB, DATA_COLUMNS, FRAME_HEADER_BYTES, PAYLOAD_BYTES_PER_BLOB } from "@cellar/params";
import { DasContextJs } from "@crate-crypto/node-eth-kzg";

const { values: args } = parseArgs({
  options: {
    blobs: { type: "string", default: "32" },
    "decode-blobs": { type: "string", default: "16" },
    runs: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
  },
});
const blobCount = Number(args.blobs);
const decodeBlobs = Number(args["decode-blobs"]);
const runs = Number(args.runs);
const log = (line: string) => {
  if (!args.json) process.stdout.write(`${line}\n`);
};

const kzg = sharedKzg();
// The library path, called directly with its own context, as a bare user would.
const raw = DasContextJs.create({ usePrecomp: true });
const native = createErasure({ backend: "native" });
const fallback = createErasure({ backend: "js" });

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const time = (f: () => unknown, n = runs): number => {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    f();
    xs.push(performance.now() - start);
  }
  return median(xs);
};
const timeAsync = async (f: () => Promise<unknown>, n = runs): Promise<number> => {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await f();
    xs.push(performance.now() - start);
  }
  return median(xs);
};

function randomBlob(): Uint8Array {
  const blob = new Uint8Array(randomBytes(BYTES_PER_BLOB));
  for (let i = 0; i < blob.length; i += 32) blob[i] = 0;
  return blob;
}

log(`recovery benchmark: ${blobCount} blobs from the parity half (columns 64..127), ${runs} runs, one thread`);
const blobs = Array.from({ length: blobCount }, randomBlob);
const cells = blobs.map((b) => kzg.computeCells(b));
const parity = Array.from({ length: DATA_COLUMNS }, (_, i) => DATA_COLUMNS + i);
const given = cells.map((c) => parity.map((i) => c[i] as Uint8Array));

// Correctness first: every backend's cells equal the library's, for every blob.
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
const libraryCells = given.slice(0, 2).map((g) => raw.recoverCellsAndKzgProofs(parity, g).cells);
for (const erasure of [native, fallback]) {
  const all = erasure.recoverCells(parity, given.slice(0, 2));
  const ok = all.every((blob, b) => blob.every((cell, i) => same(cell, libraryCells[b]?.[i] as Uint8Array)));
  const back = erasure.recoverBlobs(parity, given);
  if (!ok || !back.every((blob, b) => same(blob, blobs[b] as Uint8Array))) {
    throw new Error(`${erasure.backend}: recovered cells differ from the library's`);
  }
}
log("outputs: native and fallback cells identical to recoverCellsAndKzgProofs, blobs to the originals");

const one = given.slice(0, 1);
const library1 = time(() => raw.recoverCellsAndKzgProofs(parity, one[0] as Uint8Array[]), Math.min(runs, 3));
const perBlob = (erasure: Erasure, n: number) =>
  n === 1 ? time(() => erasure.recoverBlobs(parity, one)) : time(() => erasure.recoverBlobs(parity, given), 3) / n;
const rows = [
  { what: "recoverCellsAndKzgProofs (library, with proofs)", blobs: 1, ms: library1 },
  { what: "native data-only", blobs: 1, ms: perBlob(native, 1) },
  { what: "native data-only", blobs: blobCount, ms: perBlob(native, blobCount) },
  { what: "fallback data-only (TypeScript)", blobs: 1, ms: perBlob(fallback, 1) },
  { what: "fallback data-only (TypeScript)", blobs: blobCount, ms: perBlob(fallback, blobCount) },
];
const extension = {
  computeCellsMs: time(() => raw.computeCells(blobs[0] as Uint8Array)),
  nativeMs: time(() => native.computeCells(blobs[0] as Uint8Array)),
};

log("");
log("recovery per blob                                 blobs/call   ms/blob   vs library");
for (const r of rows) {
  log(
    `${r.what.padEnd(50)}${String(r.blobs).padStart(10)}${r.ms.toFixed(2).padStart(10)}${`${(library1 / r.ms).toFixed(1)}x`.padStart(13)}`,
  );
}
log(
  `\nextension (blob -> 128 cells): computeCells ${extension.computeCellsMs.toFixed(2)} ms, native ${extension.nativeMs.toFixed(2)} ms (${(extension.computeCellsMs / extension.nativeMs).toFixed(2)}x)`,
);

// The whole rebuild, as cellar decode and cellar get do it: verify every cell used, then rebuild.
const payload = new Uint8Array(randomBytes(decodeBlobs * PAYLOAD_BYTES_PER_BLOB - FRAME_HEADER_BYTES));
const batch = await encodeBatch(payload, { kzg });
const originalColumns = Array.from({ length: DATA_COLUMNS }, (_, c) => columnOf(batch, c));
const parityColumns = parity.map((c) => columnOf(batch, c));
const library = {
  async recoverBlobsAsync(indices: readonly number[], cellsOf: readonly (readonly Uint8Array[])[]) {
    return Promise.all(
      cellsOf.map(async (c) => Buffer.concat((await kzg.recoverCellsAndProofsAsync(indices, c)).cells.slice(0, 64))),
    );
  },
};
const decode = async (columns: typeof originalColumns, erasure: Pick<Erasure, "recoverBlobsAsync">) => {
  const back = await decodeBatch(batch.manifest, columns, { kzg, erasure });
  if (!same(back, payload)) throw new Error("decode returned other bytes");
};
const decodeRuns = Math.max(1, Math.min(runs, 3));
const present = await timeAsync(() => decode(originalColumns, native), decodeRuns);
const halfNative = await timeAsync(() => decode(parityColumns, native), decodeRuns);
const halfFallback = await timeAsync(() => decode(parityColumns, fallback), decodeRuns);
const halfLibrary = await timeAsync(() => decode(parityColumns, library), decodeRuns);
log(
  `\ndecode of a ${decodeBlobs}-blob batch (verify every cell, then rebuild; ${availableParallelism()} cores), ${decodeRuns} runs`,
);
log(`  columns 0..63 present                     ${(present / 1000).toFixed(2)} s`);
log(
  `  original half missing, native             ${(halfNative / 1000).toFixed(2)} s  (${(halfNative / present).toFixed(2)}x present)`,
);
log(
  `  original half missing, fallback           ${(halfFallback / 1000).toFixed(2)} s  (${(halfFallback / present).toFixed(2)}x present)`,
);
log(
  `  original half missing, library recovery   ${(halfLibrary / 1000).toFixed(2)} s  (${(halfLibrary / present).toFixed(2)}x present)`,
);

if (args.json) {
  process.stdout.write(
    `${JSON.stringify({
      blobs: blobCount,
      runs,
      perBlob: rows.map((r) => ({ ...r, speedup: library1 / r.ms })),
      extension,
      decode: {
        blobs: decodeBlobs,
        presentMs: present,
        halfNativeMs: halfNative,
        halfFallbackMs: halfFallback,
        halfLibraryMs: halfLibrary,
      },
    })}\n`,
  );
}
