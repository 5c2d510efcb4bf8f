import type { Address, L1Signer } from "../chain.js";
import { type Mined, writeIndexed } from "../transaction.js";

export type DeregisterDisperserParameters = L1Signer & { registry: Address; index: number };
export type DeregisterDisperserReturnType = Mined;

/** Takes a disperser out (its operator only) and starts its unbonding. */
export function deregisterDisperser(options: DeregisterDisperserParameters): Promise<DeregisterDisperserReturnType> {
  return writeIndexed(options, "deregisterDisperser", `deregistering disperser ${options.index}`);
}
