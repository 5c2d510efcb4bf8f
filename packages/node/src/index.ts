/**
 * The Cellar storage node: it keeps the columns it custodies, verifies every cell before it
 * stores anything, stores durably in LMDB, signs an attestation only after the data is on disk,
 * serves cells and columns to samplers and rebuilders, scrubs what it holds, repairs what it
 * must hold (its custody and the columns it stands in for after churn), and prunes old batches.
 *
 * @example
 * ```ts
 * import { sharedKzg } from "@cellar/kzg";
 * import { StorageNode } from "@cellar/node";
 * const node = new StorageNode(
 *   { dataDir: "./node-1", port: 7001, domain: { chainId: 1n, inbox } },
 *   { kzg: sharedKzg({ precompute: false }) },
 * );
 * const url = await node.start();
 * ```
 *
 * @packageDocumentation
 */

export { DispersalGuard, type DispersalGuardOptions } from "./dispersal-guard.js";
export { NODE_ERROR_CODES, NodeError, type NodeErrorCode } from "./errors.js";
export { NODE_STATUS } from "./http-errors.js";
export {
  createKeyFile,
  identityFromSecretKey,
  KEY_FILE,
  loadIdentity,
  type NodeIdentity,
  readKeyFile,
} from "./identity.js";
export { createNodeMetrics, type NodeMetrics } from "./metrics.js";
export { NODE_DEFAULTS, StorageNode, type StorageNodeModules, type StorageNodeOptions } from "./node.js";
export { discoverBatches, type ListedBatch, Liveness } from "./peers.js";
export { Repairer, type RepairModules, type RepairOptions, type RepairPass } from "./repair.js";
export { type ScrubOptions, type ScrubResult, scrubOnce } from "./scrub.js";
export { bodyLimit, buildNodeApp, MAX_LISTING, NODE_LIMITS, NODE_VERSION, type NodeContext } from "./server.js";
export { type BatchListing, type BatchRecord, type CellRead, CellStore } from "./store.js";
