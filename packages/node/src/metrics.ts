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
  readonly repairMissing: Gauge;
  readonly repairRepaired: Counter;
  readonly repairRebuilt: Counter;
  readonly repairRejected: Counter;
  readonly repairBytes: Counter;
  readonly repairPasses: Counter;
}

export function createNodeMetrics(
  collectStore: () => { bytes: number; batches: number },
  secondsBehind: () => number = () => 0,
): NodeMetrics {
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
  const metrics: NodeMetrics = {
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
    repairMissing: new Gauge({
      name: "cellar_node_repair_cells_missing",
      help: "Cells this node must hold (custody and stand-in columns) but does not yet",
      registers: [registry],
    }),
    repairRepaired: new Counter({
      name: "cellar_node_repair_cells_repaired_total",
      help: "Cells fetched from another holder, verified and stored by repair",
      registers: [registry],
    }),
    repairRebuilt: new Counter({
      name: "cellar_node_repair_cells_rebuilt_total",
      help: "Cells rebuilt from 64 verified columns, verified and stored by repair",
      registers: [registry],
    }),
    repairRejected: new Counter({
      name: "cellar_node_repair_cells_rejected_total",
      help: "Cells a peer served to repair that failed their proofs (never stored)",
      registers: [registry],
    }),
    repairBytes: new Counter({
      name: "cellar_node_repair_received_bytes_total",
      help: "Bytes of cells and proofs received from peers by repair",
      registers: [registry],
    }),
    repairPasses: new Counter({
      name: "cellar_node_repair_passes_total",
      help: "Repair passes completed",
      registers: [registry],
    }),
  };
  const behind = new Gauge({
    name: "cellar_node_repair_seconds_behind",
    help: "Seconds since this node last held every cell it is responsible for (0: it does)",
    registers: [registry],
    collect() {
      behind.set(secondsBehind());
    },
  });
  return metrics;
}
