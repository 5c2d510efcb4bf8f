import { CellarError } from "@cellar/utils";

/** Failures on the L1 side: the local Ethereum node, the RPC, and contract reverts. */
export const L1_ERROR_CODES = [
  "CELLAR_ERR_L1_ANVIL",
  "CELLAR_ERR_L1_RPC",
  "CELLAR_ERR_L1_REVERTED",
  "CELLAR_ERR_L1_INVALID_INPUT",
] as const;

export type L1ErrorCode = (typeof L1_ERROR_CODES)[number];

export class L1Error extends CellarError<L1ErrorCode> {}
