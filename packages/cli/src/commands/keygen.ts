import { createKeyFile } from "@cellar/node";
import { toHex } from "@cellar/utils";
import { type Io, printJson } from "../output.js";

/** `cellar keygen -o FILE`: a new BLS key (mode 0600) and what registration needs from it. */
export async function keygenCommand(options: { out: string; json: boolean }, io: Io): Promise<void> {
  const identity = await createKeyFile(options.out);
  const summary = {
    keyFile: options.out,
    publicKey: toHex(identity.publicKey),
    nodeId: toHex(identity.nodeId),
    proofOfPossession: toHex(identity.proofOfPossession),
  };
  if (options.json) printJson(io, summary);
  else
    io.stdout.write(
      `${Object.entries(summary)
        .map(([k, v]) => `${k.padEnd(18)}${v}`)
        .join("\n")}\n`,
    );
}
