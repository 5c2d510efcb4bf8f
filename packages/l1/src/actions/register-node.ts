import { POP_TAG } from "@cellar/protocol";
import { type RegistrationParameters, registerKey } from "../keys.js";
import type { Mined } from "../transaction.js";

export type RegisterNodeParameters = RegistrationParameters;

/** The registration's transaction and the registry index the node was given (its signer-bitmap bit). */
export type RegisterNodeReturnType = Mined & { index: number };

/**
 * Registers a storage node and bonds `stake` wei (default: the registry's minimum). The registry
 * checks on chain the proof of possession, bound to the paying account, the chain and itself.
 */
export function registerNode(options: RegisterNodeParameters): Promise<RegisterNodeReturnType> {
  return registerKey(options, { functionName: "register", tag: POP_TAG, action: "registering the node" });
}
