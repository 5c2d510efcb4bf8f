import { createHash } from "node:crypto";
import { DisperserClient } from "@cellar/client";
import { Command } from "@commander-js/extra-typings";
import { validateId } from "../args.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { withDevnet } from "../devnet/use-devnet.js";
import { EXIT_USAGE } from "../errors.js";
import { writeOutput } from "../files.js";
import { devnetOption, disperserOption } from "../options.js";
import { type Io, printJson } from "../output.js";

export const getDefinition = () =>
  new Command("get")
    .description("fetch a batch's exact bytes, rebuilt from the storage nodes by the disperser")
    .argument("<id>", "batch id (CID) or 0x root")
    .addOption(disperserOption())
    .addOption(devnetOption())
    .option("-o, --out <file>", "where to write the bytes (- for standard output)", "-")
    .option("--json", "print {id, size, out, sha256} as JSON (needs -o FILE)", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar get bafkrwi... -o batch.bin --devnet devnet/devnet.json
  $ cellar get 0x<root> --disperser http://127.0.0.1:7000 > batch.bin
  $ cellar get bafkrwi... -o batch.bin --json`,
    );

export type GetOptions = OptionsOf<typeof getDefinition>;

export const get: CommandModule = ({ io, run }) =>
  getDefinition().action((id, options, command) => {
    if (options.json && options.out === "-")
      command.error("get: --json prints the summary on stdout, so the bytes need -o FILE", { exitCode: EXIT_USAGE });
    validateId(command, id);
    run(withDevnet(options, command, ["disperser"]).then((o) => getCommand(id, o, io)));
  });

/** `cellar get ID [-o FILE]`: the batch's exact bytes, rebuilt from the storage nodes. */
export async function getCommand(id: string, options: GetOptions & { disperser: string }, io: Io): Promise<void> {
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
