/**
 * Cellar's light client: it convinces itself, by random sampling and without downloading a batch,
 * that the batch can be rebuilt. `sampleBatch` runs one round; `LightNode` keeps sampling the
 * batches registered with it and serves its verdicts over HTTP.
 *
 * @example
 * ```ts
 * import { NodeClient } from "@cellar/client";
 * import { sampleBatch } from "@cellar/light";
 * const verdict = await sampleBatch(root, { nodes, client: new NodeClient(), kzg });
 * if (verdict.available) console.log(`available with confidence ${verdict.confidence}`);
 * ```
 *
 * @packageDocumentation
 */
export { confidenceOf, DEFAULT_TARGET, missProbability, samplesFor } from "./confidence.js";
export { LIGHT_ERROR_CODES, LIGHT_STATUS, LightError, type LightErrorCode } from "./errors.js";
export {
  LIGHT_DEFAULTS,
  LightNode,
  type LightNodeModules,
  type LightNodeOptions,
  type SettledOnL1,
} from "./light-node.js";
export {
  type ColumnOutcome,
  chooseSampleColumns,
  type SampleOptions,
  type SampleResult,
  sampleBatch,
  secureRandom,
  trustCertificate,
} from "./sampler.js";
