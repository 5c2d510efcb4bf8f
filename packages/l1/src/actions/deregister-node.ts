import type { Address, L1Signer } from "../chain.js";
import { type Mined, writeIndexed } from "../transaction.js";

export type DeregisterNodeParameters = L1Signer & { registry: Address; index: number };
export type DeregisterNodeReturnType = Mined;

/** Takes a node out of the active set (its operator only) and starts its unbonding; its index stays reserved. */
export function deregisterNode(options: DeregisterNodeParameters): Promise<DeregisterNodeReturnType> {
  return writeIndexed(options, "deregister", `deregistering node ${options.index}`);
}
