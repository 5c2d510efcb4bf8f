/**
 * Cellar's KZG layer: EIP-4844 commitments and single-point openings and EIP-7594 cells, proofs,
 * batch verification and recovery, over `@crate-crypto/node-eth-kzg` with the Ethereum KZG
 * ceremony's trusted setup. Inputs are validated before they reach native code; every refusal is
 * a KzgError with a stable code.
 *
 * @example
 * ```ts
 * import { sharedKzg } from "@cellar/kzg";
 * const kzg = sharedKzg(); // loads the trusted setup once per process
 * const commitment = await kzg.blobToCommitmentAsync(blob);
 * const { cells, proofs } = await kzg.computeCellsAndProofsAsync(blob);
 * const ok = kzg.verifyCellProofBatch([commitment], [5], [cells[5]], [proofs[5]]);
 * ```
 *
 * @packageDocumentation
 */
export { KZG_ERROR_CODES, KzgError, type KzgErrorCode } from "./errors.js";
export {
  type CellsAndProofs,
  createKzg,
  type Kzg,
  type KzgOptions,
  type ProofAndEvaluation,
  sharedKzg,
} from "./kzg.js";
