// One table of every error code the packages export: each is raised by a real call (or, where
// only a broken installation could raise it, constructed), has the right class and the
// CELLAR_ERR_<AREA>_<REASON> shape, and no code is left out of the table.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI_ERROR_CODES, CliError } from "@cellar/cli";
import {
  batchIdFromRoot,
  buildManifest,
  CODEC_ERROR_CODES,
  CodecError,
  chooseColumns,
  decodeBatch,
  frameBatch,
  manifestToJson,
  packBlobs,
  parseColumn,
  parseManifest,
  readFrameHeader,
  rootFromBatchId,
  unframeBlobs,
} from "@cellar/codec";
import { createKzg, KZG_ERROR_CODES, KzgError } from "@cellar/kzg";
import { BYTES_PER_CELL, MAX_BATCH_BYTES } from "@cellar/params";
import { CellarError, fromHex, HEX_ERROR_CODES } from "@cellar/utils";
import t from "tap";
import { runCli } from "./helpers/cli.js";

const kzg = createKzg({ precompute: false });
const manifest = buildManifest([new Uint8Array(48).fill(0xc0)], 10);
const zeroColumns = Array.from({ length: 64 }, (_, index) => ({
  index,
  cells: [new Uint8Array(BYTES_PER_CELL)],
  proofs: [Uint8Array.of(0xc0, ...new Uint8Array(47))],
}));
const scratch = mkdtempSync(join(tmpdir(), "cellar-errors-"));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

type Trigger = () => unknown;
// biome-ignore lint/suspicious/noExplicitAny: error classes with different code unions
type ErrorClass = abstract new (...args: any[]) => CellarError;
const table: [code: string, kind: ErrorClass, trigger: Trigger][] = [
  ["CELLAR_ERR_HEX_INVALID", CellarError, () => fromHex("0xz")],
  ["CELLAR_ERR_KZG_INVALID_LENGTH", KzgError, () => kzg.blobToCommitment(new Uint8Array(1))],
  ["CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT", KzgError, () => kzg.computeCells(new Uint8Array(131072).fill(0xff))],
  [
    "CELLAR_ERR_KZG_INVALID_POINT",
    KzgError,
    () =>
      kzg.verifyProof(new Uint8Array(48).fill(1), new Uint8Array(32), new Uint8Array(32), new Uint8Array(48).fill(1)),
  ],
  [
    "CELLAR_ERR_KZG_INVALID_CELL_INDEX",
    KzgError,
    () => kzg.verifyCellProofBatch([new Uint8Array(48)], [-1], [new Uint8Array(2048)], [new Uint8Array(48)]),
  ],
  ["CELLAR_ERR_KZG_MISMATCHED_INPUTS", KzgError, () => kzg.verifyCellProofBatch([], [0], [], [])],
  ["CELLAR_ERR_KZG_RECOVERY", KzgError, () => kzg.recoverCellsAndProofs([0], [new Uint8Array(2048)])],
  // Raised only by a broken installation (no trusted setup) or an unknown library failure;
  // packages/kzg/test/validation.test.ts raises both through the real code paths.
  [
    "CELLAR_ERR_KZG_SETUP",
    KzgError,
    () => {
      throw new KzgError("CELLAR_ERR_KZG_SETUP", "setup", {});
    },
  ],
  [
    "CELLAR_ERR_KZG_INTERNAL",
    KzgError,
    () => {
      throw new KzgError("CELLAR_ERR_KZG_INTERNAL", "internal", {});
    },
  ],
  ["CELLAR_ERR_CODEC_TOO_LARGE", CodecError, () => frameBatch({ length: MAX_BATCH_BYTES + 1 } as Uint8Array)],
  ["CELLAR_ERR_CODEC_INVALID_FRAME", CodecError, () => readFrameHeader(new Uint8Array(3))],
  ["CELLAR_ERR_CODEC_INVALID_PACKING", CodecError, () => unframeBlobs(manifest, [new Uint8Array(131072).fill(1)])],
  ["CELLAR_ERR_CODEC_INVALID_MANIFEST", CodecError, () => parseManifest({ version: 1 })],
  ["CELLAR_ERR_CODEC_ROOT_MISMATCH", CodecError, () => parseManifest({ ...manifestToJson(manifest), size: 11 })],
  ["CELLAR_ERR_CODEC_INVALID_ID", CodecError, () => rootFromBatchId(batchIdFromRoot(new Uint8Array(32)).slice(0, -3))],
  ["CELLAR_ERR_CODEC_INVALID_COLUMN", CodecError, () => parseColumn(new Uint8Array(7), 0, 1)],
  ["CELLAR_ERR_CODEC_NOT_ENOUGH_COLUMNS", CodecError, () => chooseColumns([1, 2, 3])],
  [
    "CELLAR_ERR_CODEC_INVALID_CELL",
    CodecError,
    () => decodeBatch(buildManifest([new Uint8Array(48).fill(0x11)], 0), zeroColumns, { kzg }),
  ],
  [
    "CELLAR_ERR_CODEC_SIZE_MISMATCH",
    CodecError,
    () => unframeBlobs(manifest, packBlobs(frameBatch(new Uint8Array(3)))),
  ],
  [
    "CELLAR_ERR_CLI_INPUT",
    CliError,
    () => cliError(["encode", join(scratch, "missing.bin"), "-o", join(scratch, "o")]),
  ],
  [
    "CELLAR_ERR_CLI_OUTPUT",
    CliError,
    () => cliError(["decode", "DIR", "-o", join(scratch, "no", "such", "dir", "f")], true),
  ],
  ["CELLAR_ERR_CLI_OUTPUT_EXISTS", CliError, () => cliError(["encode", join(scratch, "x.bin"), "-o", scratch])],
  ["CELLAR_ERR_CLI_BATCH_DIR", CliError, () => cliError(["decode", scratch, "-o", join(scratch, "f")])],
];

/** The CLI reports errors as text: turn its `[CODE]` back into an error to check here. */
async function cliError(argv: string[], needsBatch = false): Promise<never> {
  writeFileSync(join(scratch, "x.bin"), "x");
  if (needsBatch) {
    const dir = join(scratch, "batch");
    await runCli(["encode", join(scratch, "x.bin"), "-o", dir, "--force"]);
    argv = argv.map((a) => (a === "DIR" ? dir : a));
  }
  const { stderr } = await runCli(argv);
  const code = /\[(CELLAR_ERR_[A-Z_]+)\]/.exec(stderr)?.[1];
  throw new CliError((code ?? "none") as never, stderr);
}

t.test("every exported code is in the table, once", async (t) => {
  const exported = [...HEX_ERROR_CODES, ...KZG_ERROR_CODES, ...CODEC_ERROR_CODES, ...CLI_ERROR_CODES];
  t.same(table.map(([code]) => code).sort(), [...exported].sort());
  t.equal(new Set(exported).size, exported.length, "codes are unique");
  for (const code of exported) t.match(code, /^CELLAR_ERR_[A-Z0-9]+_[A-Z0-9_]+$/, code);
});

for (const [code, kind, trigger] of table) {
  t.test(code, async (t) => {
    let caught: unknown;
    try {
      await trigger();
    } catch (err) {
      caught = err;
    }
    t.type(caught, kind, `${code} is a ${kind.name}`);
    t.match(caught, { code, message: /\S/ });
  });
}
