import { createKeyFile } from "@cellar/node";
import { proofOfPossession } from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import { CliError } from "../errors.js";
import { type Io, printJson } from "../output.js";

export interface KeygenOptions {
  out: string;
  json: boolean;
  /** The binding of the proof of possession (§9): all three, or none. */
  operator?: string;
  chainId?: string;
  registry?: string;
}

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
