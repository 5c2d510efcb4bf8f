// Self-healing custody on a real network of processes (PROTOCOL.md §10.1, §14.1): after a node
// leaves the registry, another loses its disk, a new one joins and a stored bit flips, the
// storage nodes' own repair brings every column of every batch back to r verified holders;
// retrieval is then exact, sampling finds the batches available, and no holder serves a cell
// that fails its proof. The longer run with its figures is `npm run bench:churn`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runChurn } from "@cellar/test-utils/churn";
import t from "tap";

const dir = mkdtempSync(join(tmpdir(), "cellar-churn-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const report = await runChurn({
  dir,
  nodes: 4,
  batchBytes: [150_000, 300_000],
  repairDeadlineMs: 90_000,
  log: (line) => t.comment(line),
});
t.comment(JSON.stringify(report));
t.ok(Number.isFinite(report.repairSeconds), "every column of every batch is back to r verified holders");
t.ok(report.repairSeconds < 90, `repaired in ${report.repairSeconds} s`);
t.ok(report.rebuilt + report.repaired > 0, "repair moved cells");
t.ok(report.movedBytes >= report.lostBytes / 2, "repair moved bytes");
t.equal(report.badCellsServed, 0, "no holder serves a cell that fails its proof");
t.ok(report.retrievedExact, "every batch retrieved byte for byte");
t.ok(report.sampledAvailable, "every batch sampled available");
t.ok(report.columnsWithStandIns > 0, "the light node lists stand-ins for the departed node's columns");
