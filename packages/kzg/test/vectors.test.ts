// Every case of the official Ethereum KZG vectors (../shared/vectors/kzg-mainnet) against the KZG
// layer, in both its synchronous and its async form: a value must match `output` exactly, and
// `output: null` must be a thrown KzgError (never a value, never another kind of error).

import { type Kzg, KzgError, sharedKzg } from "@cellar/kzg";
import { bytes, hex, loadSuite } from "@cellar/test-utils/vectors";
import t from "tap";

const kzg = sharedKzg();

type Run = (input: Record<string, unknown>) => unknown;
const list = (value: unknown): Uint8Array[] => (value as unknown[]).map(bytes);
const indices = (value: unknown): number[] => value as number[];

// Each suite: how to call it synchronously and asynchronously, and how to show the result.
const suites: Record<string, { sync: Run; async: (input: Record<string, unknown>) => Promise<unknown> }> = {
  blob_to_kzg_commitment: {
    sync: (i) => hex(kzg.blobToCommitment(bytes(i.blob))),
    async: async (i) => hex(await kzg.blobToCommitmentAsync(bytes(i.blob))),
  },
  compute_cells: {
    sync: (i) => kzg.computeCells(bytes(i.blob)).map(hex),
    async: async (i) => (await kzg.computeCellsAsync(bytes(i.blob))).map(hex),
  },
  compute_cells_and_kzg_proofs: {
    sync: (i) => showCells(kzg.computeCellsAndProofs(bytes(i.blob))),
    async: async (i) => showCells(await kzg.computeCellsAndProofsAsync(bytes(i.blob))),
  },
  verify_cell_kzg_proof_batch: {
    sync: (i) => kzg.verifyCellProofBatch(list(i.commitments), indices(i.cell_indices), list(i.cells), list(i.proofs)),
    async: (i) =>
      kzg.verifyCellProofBatchAsync(list(i.commitments), indices(i.cell_indices), list(i.cells), list(i.proofs)),
  },
  recover_cells_and_kzg_proofs: {
    sync: (i) => showCells(kzg.recoverCellsAndProofs(indices(i.cell_indices), list(i.cells))),
    async: async (i) => showCells(await kzg.recoverCellsAndProofsAsync(indices(i.cell_indices), list(i.cells))),
  },
  compute_kzg_proof: {
    sync: (i) => showOpening(kzg.computeProof(bytes(i.blob), bytes(i.z))),
    async: async (i) => showOpening(await kzg.computeProofAsync(bytes(i.blob), bytes(i.z))),
  },
  verify_kzg_proof: {
    sync: (i) => kzg.verifyProof(bytes(i.commitment), bytes(i.z), bytes(i.y), bytes(i.proof)),
    async: (i) => kzg.verifyProofAsync(bytes(i.commitment), bytes(i.z), bytes(i.y), bytes(i.proof)),
  },
};

function showCells(r: ReturnType<Kzg["computeCellsAndProofs"]>): string[][] {
  return [r.cells.map(hex), r.proofs.map(hex)];
}

function showOpening(r: ReturnType<Kzg["computeProof"]>): string[] {
  return [hex(r.proof), hex(r.y)];
}

const expected = {
  blob_to_kzg_commitment: 11,
  compute_cells: 11,
  compute_cells_and_kzg_proofs: 11,
  verify_cell_kzg_proof_batch: 32,
  recover_cells_and_kzg_proofs: 18,
  compute_kzg_proof: 52,
  verify_kzg_proof: 122,
};

let total = 0;
for (const [suite, run] of Object.entries(suites)) {
  const cases = loadSuite(suite);
  total += cases.length;
  t.equal(cases.length, expected[suite as keyof typeof expected], `${suite}: all cases present`);
  t.test(suite, async (t) => {
    for (const c of cases) {
      if (c.output === null) {
        t.throws(() => run.sync(c.input), KzgError, `${c.name}: sync call fails with a KzgError`);
        await t.rejects(run.async(c.input), KzgError, `${c.name}: async call fails with a KzgError`);
      } else {
        t.same(run.sync(c.input), c.output, `${c.name}: sync result matches`);
        t.same(await run.async(c.input), c.output, `${c.name}: async result matches`);
      }
    }
  });
}
t.equal(total, 257, "257 official cases in all");

t.test("one context per process: the prover also serves verifiers", async (t) => {
  t.equal(sharedKzg(), kzg, "the prover context is created once");
  t.equal(sharedKzg({ precompute: false }), kzg, "a verifier request reuses the loaded prover");
  t.equal(kzg.precompute, true);
});
