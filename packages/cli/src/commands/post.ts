import { createHash } from "node:crypto";
import { DisperserClient } from "@cellar/client";
import { readInput, writeOutput } from "../files.js";
import { type Io, printJson } from "../output.js";

/** `cellar post FILE|-`: posts a batch and prints its id, root, blobs and certificate. */
export async function postCommand(
  file: string,
  options: { disperser: string; json: boolean; quiet?: boolean; waitAvailable?: boolean },
  io: Io,
): Promise<void> {
  const bytes = await readInput(file, io);
  const client = new DisperserClient(options.disperser);
  try {
    const posted = await client.post(bytes, options.waitAvailable ? { wait: "available" } : {});
    if (options.json) {
      printJson(io, posted);
      return;
    }
    if (options.quiet) {
      io.stdout.write(`${posted.id}\n`);
      return;
    }
    io.stdout.write(
      [
        `posted ${posted.size} bytes in ${posted.blobs.length} blob(s): ${posted.status}`,
        `id           ${posted.id}`,
        `root         ${posted.root}`,
        ...posted.blobs.map((b, i) => `blob ${String(i).padEnd(7)} ${b.versionedHash}`),
        `signers      ${posted.certificate?.signers.join(", ") ?? "-"}`,
        `signature    ${posted.certificate?.signature ?? "-"}`,
        ...(posted.availability
          ? [
              `available    confidence ${posted.availability.confidence} at ${posted.availability.at}, sampled by ${posted.availability.by}${posted.availability.independent ? "" : " (the disperser's own sampler)"}`,
            ]
          : []),
        "",
      ].join("\n"),
    );
  } finally {
    await client.close();
  }
}

/** `cellar get ID [-o FILE]`: the batch's exact bytes, rebuilt from the storage nodes. */
export async function getCommand(
  id: string,
  options: { disperser: string; out: string; json?: boolean },
  io: Io,
): Promise<void> {
  const client = new DisperserClient(options.disperser);
  try {
    const bytes = await client.data(id);
    await writeOutput(options.out, bytes, io);
    if (options.json) {
      printJson(io, {
        id,
        size: bytes.length,
        out: options.out,
        sha256: createHash("sha256").update(bytes).digest("hex"),
      });
    }
  } finally {
    await client.close();
  }
}
