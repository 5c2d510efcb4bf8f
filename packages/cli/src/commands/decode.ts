import { CodecError, chooseColumns, decodeBatch, verifyColumns } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import { DATA_COLUMNS } from "@cellar/params";
import { toHex } from "@cellar/utils";
import { Command } from "@commander-js/extra-typings";
import { readColumnFiles, readManifestFile } from "../batch-dir.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { writeOutput } from "../files.js";
import { concurrencyOption } from "../options.js";
import { type Io, printJson, progressBar } from "../output.js";

export const decodeDefinition = () =>
  new Command("decode")
    .description("rebuild a batch from any 64 or more column files, verifying every cell it uses")
    .argument("<dir>", "a directory written by cellar encode")
    .requiredOption("-o, --out <file>", "where to write the batch, or - for standard output")
    .option("--skip-bad", "drop damaged column files and columns with failing cells instead of failing", false)
    .option("--json", "print a machine-readable summary", false)
    .addOption(concurrencyOption())
    .addHelpText(
      "after",
      `
Examples:
  $ cellar decode batch/ -o batch.bin            rebuild; any 64 column files may be missing
  $ cellar decode batch/ -o - > batch.bin        write the batch to standard output
  $ cellar decode batch/ -o out.bin --skip-bad   tolerate damaged column files while 64 good ones remain`,
    );

export type DecodeOptions = OptionsOf<typeof decodeDefinition>;

export const decode: CommandModule = ({ io, run }) =>
  decodeDefinition().action((dir, options) => run(decodeCommand(dir, options, io)));

/** `cellar decode DIR -o FILE|-`: rebuilds the exact batch from any 64 verified columns. */
export async function decodeCommand(dir: string, options: DecodeOptions, io: Io): Promise<void> {
  const started = performance.now();
  const manifest = await readManifestFile(dir);
  const read = await readColumnFiles(dir, manifest);
  const first = read.malformed[0];
  if (first !== undefined && !options.skipBad) throw first.error;

  let columns = read.columns;
  // Verification needs no prover tables, and data-only recovery needs no proofs at all.
  const kzg = sharedKzg({ precompute: false });
  // The backend in use is reported in the summary (`recovery`), not logged.
  const erasure = sharedErasure();
  const concurrency = options.concurrency === undefined ? {} : { concurrency: options.concurrency };
  const bar = progressBar(io, !options.json);
  const dropped = new Set(read.malformed.map((m) => m.column));
  let payload: Uint8Array;
  try {
    if (options.skipBad) {
      const bad = await verifyColumns(manifest, columns, {
        kzg,
        ...concurrency,
        onProgress: (p) => bar.update(p.blobsDone, p.blobs, "checking"),
      });
      for (const cell of bad) dropped.add(cell.column);
      columns = columns.filter((c) => !dropped.has(c.index));
    }
    payload = await decodeBatch(manifest, columns, {
      kzg,
      erasure,
      ...concurrency,
      onProgress: (p) => bar.update(p.blobsDone, p.blobs, p.stage === "verify" ? "verifying" : "rebuilding"),
    });
  } catch (err) {
    if (err instanceof CodecError && err.code === "CELLAR_ERR_CODEC_NOT_ENOUGH_COLUMNS") {
      throw new CodecError(
        err.code,
        `${dir} has ${columns.length} usable column files (${read.missing.length} missing, ${dropped.size} damaged); at least ${DATA_COLUMNS} are needed`,
        { ...err.context, missing: read.missing, damaged: [...dropped] },
        { cause: err },
      );
    }
    throw err;
  } finally {
    bar.stop();
  }
  await writeOutput(options.out, payload, io);
  const used = chooseColumns(columns.map((c) => c.index));
  const recovered = used[DATA_COLUMNS - 1] !== DATA_COLUMNS - 1;
  const seconds = (performance.now() - started) / 1000;
  const summary = {
    id: manifest.id,
    root: toHex(manifest.root),
    size: payload.length,
    blobs: manifest.blobs.length,
    output: options.out,
    columnsPresent: read.columns.length,
    columnsMissing: read.missing,
    columnsDropped: [...dropped].sort((a, b) => a - b),
    columnsUsed: used,
    recovered,
    recovery: recovered ? erasure.backend : null,
    seconds: Number(seconds.toFixed(3)),
  };
  if (options.json) {
    // With the payload on stdout, the summary goes to stderr so the two never mix.
    if (options.out === "-") io.stderr.write(`${JSON.stringify(summary)}\n`);
    else printJson(io, summary);
    return;
  }
  const how = recovered
    ? `recovered from columns incl. parity, ${erasure.backend === "native" ? "native" : "TypeScript"} data-only recovery`
    : "concatenated from columns 0..63";
  const message = `decoded ${payload.length} bytes from ${read.columns.length} of 128 columns (${how}) in ${seconds.toFixed(1)} s\n`;
  (options.out === "-" ? io.stderr : io.stdout).write(message);
}
