import { type Compression, encodeBatch } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { CELLS_PER_EXT_BLOB } from "@cellar/params";
import { toHex } from "@cellar/utils";
import { writeBatchDir } from "../batch-dir.js";
import { readInput } from "../files.js";
import { type Io, printJson, progressBar } from "../output.js";

export interface EncodeCommandOptions {
  readonly out: string;
  readonly compress: Compression;
  readonly force: boolean;
  readonly json: boolean;
  readonly concurrency?: number;
}

/** `cellar encode FILE|- -o DIR`: writes DIR/manifest.json and DIR/columns/<c>.bin. */
export async function encodeCommand(input: string, options: EncodeCommandOptions, io: Io): Promise<void> {
  const payload = await readInput(input, io);
  const started = performance.now();
  const kzg = sharedKzg({ precompute: true });
  const bar = progressBar(io, !options.json);
  let batch: Awaited<ReturnType<typeof encodeBatch>>;
  try {
    batch = await encodeBatch(payload, {
      kzg,
      compression: options.compress,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      onProgress: (p) => bar.update(p.blobsDone, p.blobs, "encoding"),
    });
  } finally {
    bar.stop();
  }
  await writeBatchDir(options.out, batch, options.force);
  const seconds = (performance.now() - started) / 1000;
  const { manifest } = batch;
  if (options.json) {
    printJson(io, {
      id: manifest.id,
      root: toHex(manifest.root),
      size: manifest.size,
      blobs: manifest.blobs.length,
      columns: CELLS_PER_EXT_BLOB,
      dir: options.out,
      seconds: Number(seconds.toFixed(3)),
    });
    return;
  }
  io.stdout.write(
    [
      `encoded ${manifest.size} bytes into ${manifest.blobs.length} blob(s), ${CELLS_PER_EXT_BLOB} columns, in ${seconds.toFixed(1)} s`,
      `id    ${manifest.id}`,
      `root  ${toHex(manifest.root)}`,
      `dir   ${options.out}`,
      "",
    ].join("\n"),
  );
}
