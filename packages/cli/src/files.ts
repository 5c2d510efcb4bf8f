import { randomBytes } from "node:crypto";
import { open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { MAX_BATCH_BYTES } from "@cellar/params";
import { CliError } from "./errors.js";
import type { Io } from "./output.js";

function tooLarge(source: string, size: number): CliError {
  return new CliError("CELLAR_ERR_CLI_INPUT", `${source} is larger than the ${MAX_BATCH_BYTES}-byte batch limit`, {
    source,
    size,
    limit: MAX_BATCH_BYTES,
  });
}

/**
 * Reads a batch from a file, or from standard input for `-`. The size limit is checked before
 * the bytes are read (files) or as they arrive (stdin), never after buffering everything.
 */
export async function readInput(path: string, io: Io): Promise<Uint8Array> {
  if (path === "-") {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of io.stdin) {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > MAX_BATCH_BYTES) throw tooLarge("standard input", size);
      chunks.push(buf);
    }
    const all = Buffer.concat(chunks);
    return new Uint8Array(all.buffer, all.byteOffset, all.length);
  }
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error("not a regular file");
    size = info.size;
  } catch (err) {
    throw new CliError(
      "CELLAR_ERR_CLI_INPUT",
      `cannot read ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  if (size > MAX_BATCH_BYTES) throw tooLarge(path, size);
  const handle = await open(path, "r");
  try {
    const buf = await handle.readFile();
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  } finally {
    await handle.close();
  }
}

/**
 * Writes the whole output at once: to standard output for `-`, otherwise to a temporary file
 * beside the target, flushed and renamed into place, so a failure never leaves a partial file.
 */
export async function writeOutput(path: string, bytes: Uint8Array, io: Io): Promise<void> {
  if (path === "-") {
    await new Promise<void>((resolve, reject) => io.stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
    return;
  }
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const handle = await open(temp, "wx");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw new CliError(
      "CELLAR_ERR_CLI_OUTPUT",
      `cannot write ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}
