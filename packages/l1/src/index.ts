/**
 * Cellar on Ethereum: the node registry and batch inbox contracts (compiled from `contracts/` at
 * build time), and the viem-based client that deploys them, registers nodes, reads the node set,
 * settles certified batches, watches recorded ones and checks KZG openings on chain. Each action
 * lives in its own file under `actions/`, with its `XParameters` and `XReturnType` types.
 * `startAnvil` runs a local L1 for tests and devnets.
 *
 * @packageDocumentation
 */
export {
  DEFAULT_MINIMUM_STAKE,
  DEFAULT_REFERENCE_WINDOW,
  DEFAULT_UNBONDING_BLOCKS,
  type DeployContractsParameters,
  type DeployContractsReturnType,
  type Deployment,
  type DeployOptions,
  deployContracts,
} from "./actions/deploy-contracts.js";
export {
  type DeregisterDisperserParameters,
  type DeregisterDisperserReturnType,
  deregisterDisperser,
} from "./actions/deregister-disperser.js";
export {
  type DeregisterNodeParameters,
  type DeregisterNodeReturnType,
  deregisterNode,
} from "./actions/deregister-node.js";
export { type IsRecordedParameters, type IsRecordedReturnType, isRecorded } from "./actions/is-recorded.js";
export { type LatestBlockParameters, type LatestBlockReturnType, latestBlock } from "./actions/latest-block.js";
export {
  type PostedBatch,
  type PostedBatchesParameters,
  type PostedBatchesReturnType,
  postedBatches,
} from "./actions/posted-batches.js";
export {
  type DisperserRecord,
  type ReadDispersersParameters,
  type ReadDispersersReturnType,
  readDispersers,
} from "./actions/read-dispersers.js";
export { type ReadNodeSetParameters, type ReadNodeSetReturnType, readNodeSet } from "./actions/read-node-set.js";
export {
  type ReadParametersParameters,
  type ReadParametersReturnType,
  readParameters,
} from "./actions/read-parameters.js";
export {
  type ReadRegistryParameters,
  type ReadRegistryReturnType,
  type RegistrySlot,
  readRegistry,
} from "./actions/read-registry.js";
export {
  type RecordedBatch,
  type RecordedBatchParameters,
  type RecordedBatchReturnType,
  recordedBatch,
} from "./actions/recorded-batch.js";
export {
  type RegisterDisperserParameters,
  type RegisterDisperserReturnType,
  registerDisperser,
} from "./actions/register-disperser.js";
export { type RegisterNodeParameters, type RegisterNodeReturnType, registerNode } from "./actions/register-node.js";
export { type SetAllowedParameters, type SetAllowedReturnType, setAllowed } from "./actions/set-allowed.js";
export { type SetNodeUrlParameters, type SetNodeUrlReturnType, setNodeUrl } from "./actions/set-node-url.js";
export {
  type SettleBatchParameters,
  type SettleBatchReturnType,
  type Settlement,
  settleBatch,
} from "./actions/settle-batch.js";
export {
  type Opening,
  type VerifyOpeningOnChainParameters,
  type VerifyOpeningOnChainReturnType,
  verifyOpeningOnChain,
} from "./actions/verify-opening.js";
export { type WatchBatchesParameters, type WatchBatchesReturnType, watchBatches } from "./actions/watch-batches.js";
export {
  type WithdrawDisperserParameters,
  type WithdrawDisperserReturnType,
  withdrawDisperser,
} from "./actions/withdraw-disperser.js";
export { type WithdrawNodeParameters, type WithdrawNodeReturnType, withdrawNode } from "./actions/withdraw-node.js";
export { type Anvil, type AnvilOptions, anvilBinary, startAnvil } from "./anvil.js";
export { bitmapToUint, uintToBitmap } from "./bitmap.js";
export { type Address, type L1Connection, type L1Signer, publicClient, revertReason } from "./chain.js";
export { L1_ERROR_CODES, L1Error, type L1ErrorCode } from "./errors.js";
export { inboxFeed, registryDisperserFeed, registryNodeFeed } from "./feeds.js";
export { cellarInboxAbi, cellarRegistryAbi, SOLC_VERSION } from "./generated/contracts.js";
export { type NodeKey, operatorOf } from "./keys.js";
export { compressedPublicKey, uncompressedPublicKey, uncompressedSignature } from "./points.js";
export { registrySnapshots } from "./snapshots.js";
export type { Mined } from "./transaction.js";
