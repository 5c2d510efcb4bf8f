import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import {
  type BatchManifest,
  CodecError,
  type Column,
  columnOf,
  type EncodedBatch,
  manifestToJson,
  parseColumn,
  parseManifest,
  serializeColumn,
} from "@cellar/codec";
import { CELLS_PER_EXT_BLOB } from "@cellar/params";
import { isCellarError } from "@cellar/utils";
import { CliError } from "./errors.js";

/**
 * The on-disk form of an encoded batch (see docs/PROTOCOL.md): `manifest.json` and
 * `columns/<c>.bin` for c in 0..127.
 */
export const MANIFEST_FILE = "manifest.json";
export const COLUMNS_DIR = "columns";

export function columnPath(dir: string, column: number): string {
  return join(dir, COLUMNS_DIR, `${column}.bin`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a batch directory atomically: everything goes to a hidden sibling first and is renamed
 * into place at the end, so `dir` either holds a whole batch or is left as it was.
 */
export async function writeBatchDir(dir: string, batch: EncodedBatch, force: boolean): Promise<void> {
  if (await exists(dir)) {
    const entries = await readdir(dir).catch(() => {
      throw new CliError("CELLAR_ERR_CLI_OUTPUT_EXISTS", `${dir} exists and is not a directory`, { dir });
    });
    if (entries.length > 0 && !force) {
      throw new CliError("CELLAR_ERR_CLI_OUTPUT_EXISTS", `${dir} is not empty (use --force to replace it)`, { dir });
    }
  }
  const staging = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await mkdir(join(staging, COLUMNS_DIR), { recursive: true });
    for (let c = 0; c < CELLS_PER_EXT_BLOB; c++) {
      await writeFile(columnPath(staging, c), serializeColumn(columnOf(batch, c)));
    }
    await writeFile(join(staging, MANIFEST_FILE), `${JSON.stringify(manifestToJson(batch.manifest), null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export async function readManifestFile(dir: string): Promise<BatchManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CliError(
      "CELLAR_ERR_CLI_BATCH_DIR",
      `cannot read ${path}: is ${dir} a batch directory?`,
      { dir },
      { cause: err },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_INVALID_MANIFEST",
      `invalid manifest: ${path} is not valid JSON`,
      { path },
      { cause: err },
    );
  }
  return parseManifest(json);
}

export interface ColumnsRead {
  readonly columns: Column[];
  /** Column indexes with no file. */
  readonly missing: number[];
  /** Column files present but malformed (wrong length): the typed error for each. */
  readonly malformed: { column: number; error: CodecError }[];
}

/** Reads every column file present; a malformed one is reported, not thrown, so callers decide. */
export async function readColumnFiles(dir: string, manifest: BatchManifest): Promise<ColumnsRead> {
  const columns: Column[] = [];
  const missing: number[] = [];
  const malformed: { column: number; error: CodecError }[] = [];
  for (let c = 0; c < CELLS_PER_EXT_BLOB; c++) {
    let bytes: Buffer;
    try {
      bytes = await readFile(columnPath(dir, c));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        missing.push(c);
        continue;
      }
      throw err;
    }
    try {
      columns.push(parseColumn(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), c, manifest.blobs.length));
    } catch (err) {
      if (isCellarError(err) && err instanceof CodecError) malformed.push({ column: c, error: err });
      else throw err;
    }
  }
  return { columns, missing, malformed };
}
