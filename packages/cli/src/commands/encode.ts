import { encodeBatch } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { CELLS_PER_EXT_BLOB } from "@cellar/params";
import { toHex } from "@cellar/utils";
import { Command, Option } from "@commander-js/extra-typings";
import { writeBatchDir } from "../batch-dir.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { readInput } from "../files.js";
import { concurrencyOption } from "../options.js";
import { type Io, printJson, progressBar } from "../output.js";

export const encodeDefinition = () =>
  new Command("encode")
    .description("erasure-code a batch into a manifest and 128 column files, offline")
    .argument("<file>", "the batch bytes, or - for standard input")
    .requiredOption("-o, --out <dir>", "directory to write manifest.json and columns/<c>.bin into")
    .addOption(
      new Option("--compress <algorithm>", "compress the batch before encoding")
        .choices(["none", "brotli"] as const)
        .default("none" as const),
    )
    .option("--force", "replace a non-empty output directory", false)
    .option("--json", "print a machine-readable summary", false)
    .addOption(concurrencyOption())
    .addHelpText(
      "after",
      `
Examples:
  $ cellar encode batch.bin -o batch/            write batch/manifest.json and batch/columns/0..127.bin
  $ cat batch.bin | cellar encode - -o batch/    read the batch from standard input
  $ cellar encode batch.bin -o batch/ --json     print {id, root, size, blobs, ...} as JSON`,
    );

export type EncodeOptions = OptionsOf<typeof encodeDefinition>;

export const encode: CommandModule = ({ io, run }) =>
  encodeDefinition().action((file, options) => run(encodeCommand(file, options, io)));

/** `cellar encode FILE|- -o DIR`: writes DIR/manifest.json and DIR/columns/<c>.bin. */
export async function encodeCommand(input: string, options: EncodeOptions, io: Io): Promise<void> {
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
