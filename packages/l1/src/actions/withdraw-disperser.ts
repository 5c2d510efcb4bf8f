import type { Address, L1Signer } from "../chain.js";
import { type Mined, writeIndexed } from "../transaction.js";

export type WithdrawDisperserParameters = L1Signer & { registry: Address; index: number };
export type WithdrawDisperserReturnType = Mined;

/** Pays a left disperser's bond back once the unbonding delay has passed. */
export function withdrawDisperser(options: WithdrawDisperserParameters): Promise<WithdrawDisperserReturnType> {
  return writeIndexed(options, "withdrawDisperser", `withdrawing disperser ${options.index}'s bond`);
}
