import { MAX_BLOBS_PER_BATCH } from "@cellar/params";
import { keccak_256 } from "@noble/hashes/sha3";
import { CodecError } from "./errors.js";

const ZERO_LEAF = new Uint8Array(32);

function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(64);
  buf.set(left, 0);
  buf.set(right, 32);
  return keccak_256(buf);
}

function checkLeaves(leaves: readonly Uint8Array[]): void {
  if (leaves.length === 0 || leaves.length > MAX_BLOBS_PER_BATCH) {
    throw new CodecError(
      "CELLAR_ERR_CODEC_INVALID_MANIFEST",
      `a batch has 1 to ${MAX_BLOBS_PER_BATCH} blobs, got ${leaves.length}`,
      { blobs: leaves.length },
    );
  }
  for (const [i, leaf] of leaves.entries()) {
    if (leaf.length !== 32) {
      throw new CodecError("CELLAR_ERR_CODEC_INVALID_MANIFEST", `versioned hash ${i} is not 32 bytes`, { blob: i });
    }
  }
}

/** The tree's levels from the padded leaves (level 0) up to the single root. */
function levels(leaves: readonly Uint8Array[]): Uint8Array[][] {
  checkLeaves(leaves);
  let width = 1;
  while (width < leaves.length) width *= 2;
  const out: Uint8Array[][] = [[...leaves, ...Array<Uint8Array>(width - leaves.length).fill(ZERO_LEAF)]];
  for (let level = out[0] as Uint8Array[]; level.length > 1; ) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(hashPair(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    out.push(next);
    level = next;
  }
  return out;
}

/**
 * keccak-256 binary Merkle root over the blobs' versioned hashes, padded with zero leaves to a
 * power of two. With one blob, the root is its versioned hash.
 */
export function blobsRoot(versionedHashes: readonly Uint8Array[]): Uint8Array {
  const all = levels(versionedHashes);
  return (all[all.length - 1] as Uint8Array[])[0] as Uint8Array;
}

/** The sibling hashes from leaf `index` up to the blobs root (log2 of the padded width). */
export function blobProof(versionedHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= versionedHashes.length) {
    throw new CodecError("CELLAR_ERR_CODEC_INVALID_MANIFEST", `blob index ${index} is out of range`, { index });
  }
  const all = levels(versionedHashes);
  const proof: Uint8Array[] = [];
  let i = index;
  for (const level of all.slice(0, -1)) {
    proof.push(level[i ^ 1] as Uint8Array);
    i >>= 1;
  }
  return proof;
}

/** Folds a leaf and its proof up to the blobs root it implies. */
export function blobsRootFromProof(leaf: Uint8Array, index: number, proof: readonly Uint8Array[]): Uint8Array {
  let node = leaf;
  let i = index;
  for (const sibling of proof) {
    node = i & 1 ? hashPair(sibling, node) : hashPair(node, sibling);
    i >>= 1;
  }
  return node;
}

/** The 96 bytes the batch root hashes: blobs root, blob count and payload size as uint256 words. */
export function rootPreimage(blobs: Uint8Array, blobCount: number, size: number): Uint8Array {
  const pre = new Uint8Array(96);
  const view = new DataView(pre.buffer);
  pre.set(blobs, 0);
  view.setBigUint64(56, BigInt(blobCount));
  view.setBigUint64(88, BigInt(size));
  return pre;
}

/**
 * The batch root: `keccak256(blobsRoot || uint256(blobCount) || uint256(size))`, which is
 * `keccak256(abi.encode(blobsRoot, blobCount, size))` in Solidity.
 */
export function batchRoot(versionedHashes: readonly Uint8Array[], size: number): Uint8Array {
  return keccak_256(rootPreimage(blobsRoot(versionedHashes), versionedHashes.length, size));
}
