/**
 * The Cellar disperser: rollups post batches here. It encodes each batch on all cores, sends every
 * storage node exactly the columns it custodies, checks each attestation against the node's
 * registered key, aggregates a quorum certificate, and rebuilds batches from the nodes for
 * readers. It also serves the OP Stack alt-DA `/put` and `/get` routes.
 *
 * @example
 * ```ts
 * import { sharedKzg } from "@cellar/kzg";
 * import { sharedErasure } from "@cellar/native";
 * import { buildDisperserApp, Disperser } from "@cellar/disperser";
 * const disperser = new Disperser({ nodes, domain }, { kzg: sharedKzg(), erasure: sharedErasure() });
 * const app = buildDisperserApp(disperser);
 * await app.listen({ host: "127.0.0.1", port: 7000 });
 * ```
 *
 * @packageDocumentation
 */
export {
  DEFAULT_DA_LAYER_BYTE,
  decodeAltDaCommitment,
  encodeAltDaCommitment,
  GENERIC_COMMITMENT_TYPE,
} from "./alt-da.js";
export { type Availability, type AvailabilityOptions, awaitAvailability } from "./availability.js";
export { type Dispersed, type DisperseOptions, disperse } from "./disperse.js";
export {
  type BatchStatusName,
  type BatchView,
  type BlobEncoder,
  DISPERSER_DEFAULTS,
  Disperser,
  type DisperserModules,
  type DisperserOptions,
} from "./disperser.js";
export { buildEncoderApp, Encoder, type EncoderModules, type EncoderOptions } from "./encoder.js";
export {
  DISPERSER_ERROR_CODES,
  DISPERSER_STATUS,
  DisperserError,
  type DisperserErrorCode,
} from "./errors.js";
export {
  ENCODE_RESULT_BYTES,
  EncoderFleet,
  type EncoderFleetModules,
  type EncoderFleetOptions,
  parseEncoded,
  serializeEncoded,
} from "./fleet.js";
export { createDisperserMetrics, type DisperserMetrics } from "./metrics.js";
export { PayloadCache } from "./payload-cache.js";
export {
  createPool,
  isConnectionError,
  MIGRATIONS_DIR,
  migrate,
  PostgresDisperserStore,
  type PostgresStoreOptions,
} from "./pg-store.js";
export { buildDisperserApp, type DisperserAppOptions, DisperserService } from "./server.js";
export {
  type BatchRecord,
  type DisperserStore,
  keepsStored,
  LmdbDisperserStore,
  MemoryDisperserStore,
} from "./store.js";
