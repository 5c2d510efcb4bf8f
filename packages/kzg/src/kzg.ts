import { DasContextJs } from "@crate-crypto/node-eth-kzg";
import { fromLibraryError, KzgError } from "./errors.js";
import { checkBlob, checkPoint, checkRecover, checkScalar, checkVerifyBatch } from "./validate.js";

/** A blob's 128 extended cells (2048 bytes each) and their 48-byte KZG proofs, in cell order. */
export interface CellsAndProofs {
  readonly cells: Uint8Array[];
  readonly proofs: Uint8Array[];
}

/** A KZG opening at one point: the 48-byte proof and the 32-byte evaluation y = p(z). */
export interface ProofAndEvaluation {
  readonly proof: Uint8Array;
  readonly y: Uint8Array;
}

/**
 * The KZG operations Cellar uses (EIP-4844 commitments and openings, EIP-7594 cells), each in a
 * synchronous form and an `Async` form that runs on the libuv thread pool so the event loop stays
 * free. Verification answers `false` for a proof that does not hold; malformed input throws a
 * KzgError with a stable code.
 */
export interface Kzg {
  /** Whether the context was loaded with the prover's precomputed tables. */
  readonly precompute: boolean;
  blobToCommitment(blob: Uint8Array): Uint8Array;
  blobToCommitmentAsync(blob: Uint8Array): Promise<Uint8Array>;
  computeCells(blob: Uint8Array): Uint8Array[];
  computeCellsAsync(blob: Uint8Array): Promise<Uint8Array[]>;
  computeCellsAndProofs(blob: Uint8Array): CellsAndProofs;
  computeCellsAndProofsAsync(blob: Uint8Array): Promise<CellsAndProofs>;
  verifyCellProofBatch(
    commitments: readonly Uint8Array[],
    cellIndices: readonly number[],
    cells: readonly Uint8Array[],
    proofs: readonly Uint8Array[],
  ): boolean;
  verifyCellProofBatchAsync(
    commitments: readonly Uint8Array[],
    cellIndices: readonly number[],
    cells: readonly Uint8Array[],
    proofs: readonly Uint8Array[],
  ): Promise<boolean>;
  recoverCellsAndProofs(cellIndices: readonly number[], cells: readonly Uint8Array[]): CellsAndProofs;
  recoverCellsAndProofsAsync(cellIndices: readonly number[], cells: readonly Uint8Array[]): Promise<CellsAndProofs>;
  computeProof(blob: Uint8Array, z: Uint8Array): ProofAndEvaluation;
  computeProofAsync(blob: Uint8Array, z: Uint8Array): Promise<ProofAndEvaluation>;
  verifyProof(commitment: Uint8Array, z: Uint8Array, y: Uint8Array, proof: Uint8Array): boolean;
  verifyProofAsync(commitment: Uint8Array, z: Uint8Array, y: Uint8Array, proof: Uint8Array): Promise<boolean>;
}

export interface KzgOptions {
  /**
   * Load the precomputed tables that make proving fast (about 5.7 s and 150 MB once per process).
   * Verifiers (storage nodes, light clients) do not need them (about 2.8 s and 50 MB).
   * Default: true.
   */
  readonly precompute?: boolean;
}

function wrap<T>(op: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw fromLibraryError(op, err);
  }
}

async function wrapAsync<T>(op: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw fromLibraryError(op, err);
  }
}

function toProofAndEvaluation(pair: Uint8Array[]): ProofAndEvaluation {
  const [proof, y] = pair;
  if (proof === undefined || y === undefined) {
    throw new KzgError("CELLAR_ERR_KZG_INTERNAL", "computeProof: the library returned no proof", {});
  }
  return { proof, y };
}

function toCellsAndProofs(result: { cells: Uint8Array[]; proofs: Uint8Array[] }): CellsAndProofs {
  return { cells: result.cells, proofs: result.proofs };
}

/**
 * Loads the Ethereum KZG ceremony's trusted setup and returns the operations over it. Loading is
 * expensive: create one per process and pass it to whoever needs it (see `sharedKzg`).
 */
export function createKzg(options: KzgOptions = {}): Kzg {
  const precompute = options.precompute ?? true;
  let ctx: DasContextJs;
  try {
    ctx = DasContextJs.create({ usePrecomp: precompute });
  } catch (err) {
    throw new KzgError("CELLAR_ERR_KZG_SETUP", "could not load the KZG trusted setup", { precompute }, { cause: err });
  }

  return {
    precompute,
    blobToCommitment(blob) {
      checkBlob("blobToCommitment", blob);
      return wrap("blobToCommitment", () => ctx.blobToKzgCommitment(blob));
    },
    async blobToCommitmentAsync(blob) {
      checkBlob("blobToCommitment", blob);
      return wrapAsync("blobToCommitment", () => ctx.asyncBlobToKzgCommitment(blob));
    },
    computeCells(blob) {
      checkBlob("computeCells", blob);
      return wrap("computeCells", () => ctx.computeCells(blob));
    },
    async computeCellsAsync(blob) {
      checkBlob("computeCells", blob);
      return wrapAsync("computeCells", () => ctx.asyncComputeCells(blob));
    },
    computeCellsAndProofs(blob) {
      checkBlob("computeCellsAndProofs", blob);
      return toCellsAndProofs(wrap("computeCellsAndProofs", () => ctx.computeCellsAndKzgProofs(blob)));
    },
    async computeCellsAndProofsAsync(blob) {
      checkBlob("computeCellsAndProofs", blob);
      return toCellsAndProofs(await wrapAsync("computeCellsAndProofs", () => ctx.asyncComputeCellsAndKzgProofs(blob)));
    },
    verifyCellProofBatch(commitments, cellIndices, cells, proofs) {
      checkVerifyBatch("verifyCellProofBatch", commitments, cellIndices, cells, proofs);
      return wrap("verifyCellProofBatch", () =>
        ctx.verifyCellKzgProofBatch([...commitments], [...cellIndices], [...cells], [...proofs]),
      );
    },
    async verifyCellProofBatchAsync(commitments, cellIndices, cells, proofs) {
      checkVerifyBatch("verifyCellProofBatch", commitments, cellIndices, cells, proofs);
      return wrapAsync("verifyCellProofBatch", () =>
        ctx.asyncVerifyCellKzgProofBatch([...commitments], [...cellIndices], [...cells], [...proofs]),
      );
    },
    recoverCellsAndProofs(cellIndices, cells) {
      checkRecover("recoverCellsAndProofs", cellIndices, cells);
      return toCellsAndProofs(
        wrap("recoverCellsAndProofs", () => ctx.recoverCellsAndKzgProofs([...cellIndices], [...cells])),
      );
    },
    async recoverCellsAndProofsAsync(cellIndices, cells) {
      checkRecover("recoverCellsAndProofs", cellIndices, cells);
      return toCellsAndProofs(
        await wrapAsync("recoverCellsAndProofs", () => ctx.asyncRecoverCellsAndKzgProofs([...cellIndices], [...cells])),
      );
    },
    computeProof(blob, z) {
      checkBlob("computeProof", blob);
      checkScalar("computeProof", "z", z);
      return toProofAndEvaluation(wrap("computeProof", () => ctx.computeKzgProof(blob, z)));
    },
    async computeProofAsync(blob, z) {
      checkBlob("computeProof", blob);
      checkScalar("computeProof", "z", z);
      return toProofAndEvaluation(await wrapAsync("computeProof", () => ctx.asyncComputeKzgProof(blob, z)));
    },
    verifyProof(commitment, z, y, proof) {
      checkPoint("verifyProof", "commitment", commitment);
      checkScalar("verifyProof", "z", z);
      checkScalar("verifyProof", "y", y);
      checkPoint("verifyProof", "proof", proof);
      return wrap("verifyProof", () => ctx.verifyKzgProof(commitment, z, y, proof));
    },
    async verifyProofAsync(commitment, z, y, proof) {
      checkPoint("verifyProof", "commitment", commitment);
      checkScalar("verifyProof", "z", z);
      checkScalar("verifyProof", "y", y);
      checkPoint("verifyProof", "proof", proof);
      return wrapAsync("verifyProof", () => ctx.asyncVerifyKzgProof(commitment, z, y, proof));
    },
  };
}

let prover: Kzg | undefined;
let verifier: Kzg | undefined;

/**
 * The process-wide KZG context: loaded on first use and shared after. A verifier-only request
 * is served by the prover context when one is already loaded, so a process never loads twice.
 */
export function sharedKzg(options: KzgOptions = {}): Kzg {
  if (options.precompute ?? true) {
    prover ??= createKzg({ precompute: true });
    return prover;
  }
  verifier ??= prover ?? createKzg({ precompute: false });
  return verifier;
}
