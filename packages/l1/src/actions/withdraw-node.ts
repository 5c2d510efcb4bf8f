import type { Address, L1Signer } from "../chain.js";
import { type Mined, writeIndexed } from "../transaction.js";

export type WithdrawNodeParameters = L1Signer & { registry: Address; index: number };
export type WithdrawNodeReturnType = Mined;

/** Pays a left node's bond back to its operator once the unbonding delay has passed. */
export function withdrawNode(options: WithdrawNodeParameters): Promise<WithdrawNodeReturnType> {
  return writeIndexed(options, "withdraw", `withdrawing node ${options.index}'s bond`);
}
