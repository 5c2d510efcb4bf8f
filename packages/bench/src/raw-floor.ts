import { DasContextJs } from "@crate-crypto/node-eth-kzg";

/**
 * The node-eth-kzg calls the raw floor makes, with nothing of Cellar's around them: what a bare
 * user of the library gets on this machine, measured exactly as bench/encode.ts does.
 */
export interface RawKzg {
  asyncBlobToKzgCommitment(blob: Uint8Array): Promise<Uint8Array>;
  asyncComputeCellsAndKzgProofs(blob: Uint8Array): Promise<unknown>;
}

/** A prover context of its own (about 6 s and 150 MB to load), separate from Cellar's. */
export function createRawKzg(): RawKzg {
  return DasContextJs.create({ usePrecomp: true });
}

let shared: RawKzg | undefined;

/** The process-wide raw floor context: loaded on first use, so repeated runs in one process load it once. */
export function sharedRawKzg(): RawKzg {
  shared ??= createRawKzg();
  return shared;
}
