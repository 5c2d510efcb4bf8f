import { DisperserClient } from "@cellar/client";
import { Command } from "@commander-js/extra-typings";
import type { CommandModule, OptionsOf } from "../command.js";
import { withDevnet } from "../devnet/use-devnet.js";
import { readInput } from "../files.js";
import { devnetOption, disperserOption } from "../options.js";
import { type Io, printJson } from "../output.js";

export const postDefinition = () =>
  new Command("post")
    .description("post a batch to a disperser and print its id, root, blobs and certificate")
    .argument("<file>", "the batch bytes, or - for standard input")
    .addOption(disperserOption())
    .addOption(devnetOption())
    .option("--json", "print the answer as JSON", false)
    .option("-q, --quiet", "print only the batch id (for scripts: ID=$(cellar post batch.bin -q))", false)
    .option("--wait-available", "answer only once a light client has sampled the batch to its target", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar post batch.bin --devnet devnet/devnet.json
  $ ID=$(cellar post batch.bin --quiet --devnet devnet/devnet.json)
  $ cellar post - --json --disperser http://127.0.0.1:7000 < batch.bin
  $ cellar post batch.bin --wait-available --json    certified, then sampled by the light node`,
    );

export type PostOptions = OptionsOf<typeof postDefinition>;

export const post: CommandModule = ({ io, run }) =>
  postDefinition().action((file, options, command) =>
    run(withDevnet(options, command, ["disperser"]).then((o) => postCommand(file, o, io))),
  );

/** `cellar post FILE|-`: posts a batch and prints its id, root, blobs and certificate. */
export async function postCommand(file: string, options: PostOptions & { disperser: string }, io: Io): Promise<void> {
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
