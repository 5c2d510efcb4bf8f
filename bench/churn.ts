// Benchmark (reliability): self-healing custody under churn on a real network of processes. A
// devnet (anvil, N storage nodes, a disperser, a light node) takes batches; then a bounded script
// deregisters one node on L1 and kills it, SIGKILLs another and wipes its data directory (key
// kept) before restarting it, registers and starts a new node, and flips a bit of a stored cell on
// a third node's disk. Printed: the time until every column of every batch is back to r verified
// holders, beside the time the same batches took to post (the reference, as a ratio), and the
// bytes repair moved beside the bytes the churn took away (ratio); then whether retrieval is
// exact, sampling available and every served cell verified.
//
//   npm run bench:churn
//   npm run bench:churn -- --nodes 8 --batches 4 --kib 512 --grace 2 --json
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runChurn } from "@cellar/test-utils/churn";

const { values: args } = parseArgs({
  options: {
    nodes: { type: "string", default: "8" },
    batches: { type: "string", default: "4" },
    kib: { type: "string", default: "512" },
    deadline: { type: "string", default: "300" },
    grace: { type: "string", default: "60" },
    json: { type: "boolean", default: false },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);
const dir = mkdtempSync(join(tmpdir(), "cellar-bench-churn-"));
try {
  const report = await runChurn({
    dir,
    nodes: Number(args.nodes),
    batchBytes: Array.from({ length: Number(args.batches) }, () => Number(args.kib) * 1024),
    repairDeadlineMs: Number(args.deadline) * 1000,
    graceSeconds: Number(args.grace),
    log: (line) => log(`  ${line}`),
  });
  if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  const mib = (b: number) => (b / 2 ** 20).toFixed(2);
  log(
    `churn on ${report.nodes} nodes, ${report.batches} batches (${report.blobs} blobs), r = 2, ` +
      `repair grace ${report.graceSeconds} s:`,
  );
  log(`  posting the batches (reference): ${report.postSeconds.toFixed(2)} s`);
  log(`  the churn script (L1 transactions, kills, two node starts): ${report.churnSeconds.toFixed(2)} s`);
  log(
    `  repair back to r verified holders, from the first churn event: ${report.repairSeconds.toFixed(2)} s ` +
      `(ratio ${(report.repairSeconds / report.postSeconds).toFixed(2)})`,
  );
  log(
    `  bytes moved by repair: ${mib(report.movedBytes)} MiB for ${mib(report.lostBytes)} MiB lost ` +
      `(ratio ${(report.movedBytes / report.lostBytes).toFixed(2)}); cells repaired ${report.repaired}, ` +
      `rebuilt ${report.rebuilt}, rejected ${report.rejected}`,
  );
  log(
    `  after repair: retrieval exact ${report.retrievedExact}, sampling available ${report.sampledAvailable}, ` +
      `cells served failing their proof ${report.badCellsServed}, columns with stand-ins ${report.columnsWithStandIns}`,
  );
  const ok =
    Number.isFinite(report.repairSeconds) &&
    report.retrievedExact &&
    report.sampledAvailable &&
    report.badCellsServed === 0;
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
