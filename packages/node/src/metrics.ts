import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The storage node's Prometheus metrics, on a registry of its own (never the global one). */
export interface NodeMetrics {
  readonly registry: Registry;
  readonly dispersals: Counter<"result">;
  readonly cellsServed: Counter;
  readonly verifySeconds: Histogram;
  readonly scrubChecked: Counter;
  readonly scrubDropped: Counter;
  readonly pruned: Counter;
}

export function createNodeMetrics(collectStore: () => { bytes: number; batches: number }): NodeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "cellar_node_" });
  const storedBytes = new Gauge({
    name: "cellar_node_stored_bytes",
    help: "Bytes of cells and proofs held",
    registers: [registry],
    collect() {
      storedBytes.set(collectStore().bytes);
    },
  });
  const batches = new Gauge({
    name: "cellar_node_batches",
    help: "Batches held",
    registers: [registry],
    collect() {
      batches.set(collectStore().batches);
    },
  });
  return {
    registry,
    dispersals: new Counter({
      name: "cellar_node_dispersals_total",
      help: "Dispersals answered, by result (stored, repeat)",
      labelNames: ["result"],
      registers: [registry],
    }),
    cellsServed: new Counter({
      name: "cellar_node_cells_served_total",
      help: "Cells served (single or in columns)",
      registers: [registry],
    }),
    verifySeconds: new Histogram({
      name: "cellar_node_verify_seconds",
      help: "Time to batch-verify the cells of one dispersal",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    scrubChecked: new Counter({
      name: "cellar_node_scrub_cells_checked_total",
      help: "Cells re-verified by the scrub",
      registers: [registry],
    }),
    scrubDropped: new Counter({
      name: "cellar_node_scrub_cells_dropped_total",
      help: "Stored cells dropped because they failed a checksum or their proof",
      registers: [registry],
    }),
    pruned: new Counter({
      name: "cellar_node_pruned_batches_total",
      help: "Batches removed by retention",
      registers: [registry],
    }),
  };
}
