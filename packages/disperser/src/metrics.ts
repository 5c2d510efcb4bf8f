import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** The disperser's Prometheus metrics, on a registry of its own. */
export interface DisperserMetrics {
  readonly registry: Registry;
  readonly batches: Counter<"result">;
  readonly bytes: Counter;
  readonly encodeSeconds: Histogram;
  readonly dispersalSeconds: Histogram<"node">;
  readonly attestationsFailed: Counter<"reason">;
  readonly certificates: Counter;
  readonly retrievals: Counter<"result">;
  readonly badNodes: Counter<"reason">;
  readonly availability: Counter<"result">;
  readonly availabilitySeconds: Histogram;
}

const SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createDisperserMetrics(): DisperserMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "cellar_disperser_" });
  const r = [registry];
  return {
    registry,
    batches: new Counter({
      name: "cellar_disperser_batches_total",
      help: "Batches posted, by result (certified, failed, repeat)",
      labelNames: ["result"],
      registers: r,
    }),
    bytes: new Counter({ name: "cellar_disperser_bytes_posted_total", help: "Payload bytes posted", registers: r }),
    encodeSeconds: new Histogram({
      name: "cellar_disperser_encode_seconds",
      help: "Time to encode one batch",
      buckets: SECONDS,
      registers: r,
    }),
    dispersalSeconds: new Histogram({
      name: "cellar_disperser_dispersal_seconds",
      help: "Time for one node to answer a dispersal, by node index",
      labelNames: ["node"],
      buckets: SECONDS,
      registers: r,
    }),
    attestationsFailed: new Counter({
      name: "cellar_disperser_attestations_failed_total",
      help: "Dispersals that yielded no valid attestation, by reason",
      labelNames: ["reason"],
      registers: r,
    }),
    certificates: new Counter({
      name: "cellar_disperser_certificates_total",
      help: "Certificates issued",
      registers: r,
    }),
    retrievals: new Counter({
      name: "cellar_disperser_retrievals_total",
      help: "Batches rebuilt for readers, by result",
      labelNames: ["result"],
      registers: r,
    }),
    availability: new Counter({
      name: "cellar_disperser_availability_total",
      help: "Certified batches sampled before commit, by result (light-node, own-sampler, timeout)",
      labelNames: ["result"],
      registers: r,
    }),
    availabilitySeconds: new Histogram({
      name: "cellar_disperser_availability_seconds",
      help: "Time from certificate to a light client's verdict that the batch is available",
      buckets: SECONDS,
      registers: r,
    }),
    badNodes: new Counter({
      name: "cellar_disperser_bad_node_answers_total",
      help: "Columns from nodes that were unreachable, malformed or failed verification during retrieval",
      labelNames: ["reason"],
      registers: r,
    }),
  };
}
