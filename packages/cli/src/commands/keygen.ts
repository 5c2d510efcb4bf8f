import { createKeyFile } from "@cellar/node";
import { proofOfPossession } from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import { Command } from "@commander-js/extra-typings";
import { chainIdArg } from "../args.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { CliError } from "../errors.js";
import { type Io, printJson } from "../output.js";

export const keygenDefinition = () =>
  new Command("keygen")
    .description("create a BLS key file (mode 0600) and print its public key, node id and (bound) proof of possession")
    .requiredOption("-o, --out <file>", "where to write the key; an existing file is never overwritten")
    // The binding of the proof of possession (§9): all three, or none.
    .option("--operator <address>", "the account that will register the key (binds the proof of possession)")
    .option("--chain-id <id>", "the chain of the registry (binds the proof of possession)", chainIdArg)
    .option("--registry <address>", "the registry contract (binds the proof of possession)")
    .option("--json", "print a machine-readable summary", false)
    .addHelpText(
      "after",
      "\nExamples:\n  $ cellar keygen -o node1.key --json\n  $ cellar keygen -o node1.key --operator 0x… --chain-id 31337 --registry 0x… --json",
    );

export type KeygenOptions = OptionsOf<typeof keygenDefinition>;

export const keygen: CommandModule = ({ io, run }) =>
  keygenDefinition().action((options) => run(keygenCommand(options, io)));

/**
 * `cellar keygen -o FILE`: a new BLS key (mode 0600) and what registration needs from it. With
 * --operator, --chain-id and --registry it also prints the proof of possession bound to them (the
 * form the registry and node-set files accept); `cellar l1 register` makes its own.
 */
export async function keygenCommand(options: KeygenOptions, io: Io): Promise<void> {
  const given = [options.operator, options.chainId, options.registry].filter((v) => v !== undefined).length;
  if (given !== 0 && given !== 3)
    throw new CliError(
      "CELLAR_ERR_CLI_INPUT",
      "a proof of possession needs all of --operator, --chain-id and --registry",
    );
  let binding: { operator: Uint8Array; chainId: bigint; registry: Uint8Array } | undefined;
  if (given === 3) {
    try {
      binding = {
        operator: fromHex(options.operator, 20, "--operator"),
        chainId: BigInt(options.chainId as string),
        registry: fromHex(options.registry, 20, "--registry"),
      };
    } catch (err) {
      throw new CliError("CELLAR_ERR_CLI_INPUT", `cannot bind the proof of possession: ${(err as Error).message}`);
    }
  }
  const identity = await createKeyFile(options.out);
  const summary = {
    keyFile: options.out,
    publicKey: toHex(identity.publicKey),
    nodeId: toHex(identity.nodeId),
    ...(binding
      ? {
          operator: toHex(binding.operator),
          proofOfPossession: toHex(proofOfPossession(identity.secretKey, binding)),
        }
      : {}),
  };
  if (options.json) printJson(io, summary);
  else
    io.stdout.write(
      `${Object.entries(summary)
        .map(([k, v]) => `${k.padEnd(18)}${v}`)
        .join("\n")}\n`,
    );
}
