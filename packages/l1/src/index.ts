/**
 * Cellar on Ethereum: the node registry and batch inbox contracts (compiled from `contracts/` at
 * build time), and the viem-based client that deploys them, registers nodes, reads the node set,
 * settles certified batches, watches recorded ones and checks KZG openings on chain. `startAnvil`
 * runs a local L1 for tests and devnets.
 *
 * @packageDocumentation
 */
export { type Anvil, type AnvilOptions, anvilBinary, startAnvil } from "./anvil.js";
export { type Address, type L1Connection, type L1Signer, publicClient, revertReason } from "./chain.js";
export {
  bitmapToUint,
  cellarInboxAbi,
  cellarRegistryAbi,
  DEFAULT_MINIMUM_STAKE,
  DEFAULT_REFERENCE_WINDOW,
  DEFAULT_UNBONDING_BLOCKS,
  type Deployment,
  type DeployOptions,
  type DisperserRecord,
  deployContracts,
  deregisterDisperser,
  deregisterNode,
  isRecorded,
  latestBlock,
  type Mined,
  type NodeKey,
  type Opening,
  operatorOf,
  type PostedBatch,
  postedBatches,
  type RegistrySlot,
  readDispersers,
  readNodeSet,
  readParameters,
  readRegistry,
  recordedBatch,
  registerDisperser,
  registerNode,
  type Settlement,
  setAllowed,
  settleBatch,
  uintToBitmap,
  verifyOpeningOnChain,
  watchBatches,
  withdrawDisperser,
  withdrawNode,
} from "./contracts.js";
export { L1_ERROR_CODES, L1Error, type L1ErrorCode } from "./errors.js";
export { inboxFeed, registryDisperserFeed, registryNodeFeed } from "./feeds.js";
export { SOLC_VERSION } from "./generated/contracts.js";
export { compressedPublicKey, uncompressedPublicKey, uncompressedSignature } from "./points.js";
export { registrySnapshots } from "./snapshots.js";
