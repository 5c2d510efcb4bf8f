import { readFile } from "node:fs/promises";
import { type NodeRecord, parseNodeSet } from "@cellar/protocol";
import { CliError } from "./errors.js";

/** Reads a node set file (`{nodes: [{publicKey, url}]}`), with one-line errors. */
export async function readNodeSetFile(path: string): Promise<NodeRecord[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CliError(
      "CELLAR_ERR_CLI_INPUT",
      `cannot read node set ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  try {
    return parseNodeSet(JSON.parse(text));
  } catch (err) {
    if (err instanceof SyntaxError)
      throw new CliError("CELLAR_ERR_CLI_INPUT", `node set ${path} is not valid JSON`, { path });
    throw err;
  }
}

export function parseChainId(value: string): bigint {
  try {
    return BigInt(value);
  } catch {
    throw new CliError("CELLAR_ERR_CLI_INPUT", `--chain-id must be an integer, got ${value}`);
  }
}
