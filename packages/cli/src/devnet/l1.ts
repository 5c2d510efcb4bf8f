import * as l1 from "@cellar/l1";

/**
 * What the devnet and the demo use of `@cellar/l1`: start anvil, deploy, register the nodes and
 * the disperser, read
 * the node set back, settle a batch and check that the inbox recorded it. Passed in as one object
 * so that a test can wrap or replace a call.
 */
export type L1 = Pick<
  typeof l1,
  "startAnvil" | "deployContracts" | "registerNode" | "registerDisperser" | "readNodeSet" | "settleBatch" | "isRecorded"
>;

export type { Anvil } from "@cellar/l1";

/** The real L1 library. */
export const cellarL1: L1 = l1;
