import { DISPERSER_POP_TAG } from "@cellar/protocol";
import { type RegistrationParameters, registerKey } from "../keys.js";
import type { Mined } from "../transaction.js";

export type RegisterDisperserParameters = RegistrationParameters;

/** The registration's transaction and the registry index the disperser was given. */
export type RegisterDisperserReturnType = Mined & { index: number };

/**
 * Registers a disperser key and bonds `stake` wei (default: the registry's minimum); the proof of
 * possession signs `"CELLAR-DISPERSER-POP-v1" || operator || chainId || registry || key`.
 */
export function registerDisperser(options: RegisterDisperserParameters): Promise<RegisterDisperserReturnType> {
  return registerKey(options, {
    functionName: "registerDisperser",
    tag: DISPERSER_POP_TAG,
    action: "registering the disperser",
  });
}
