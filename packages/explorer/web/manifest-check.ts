// The page checks a manifest fetched from a storage node against the batch root itself, as the
// Node client does (`parseManifest` in @cellar/codec, which the tests cross-check): the versioned
// hash of each commitment, the keccak Merkle root over them bound with blob count and size.
import { sha256 } from "@noble/hashes/sha2";
import { keccak_256 } from "@noble/hashes/sha3";

export interface CheckedManifest {
  readonly root: string;
  readonly size: number;
  readonly commitments: readonly Uint8Array[];
}

export function hexToBytes(hex: string): Uint8Array {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`not 0x-hex: ${hex.slice(0, 20)}`);
  const out = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function bytesToHex(bytes: Uint8Array): string {
  let s = "0x";
  for (const b of bytes) s += HEX[b];
  return s;
}

function versionedHash(commitment: Uint8Array): Uint8Array {
  const h = sha256(commitment);
  h[0] = 0x01;
  return h;
}

function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(64);
  buf.set(left, 0);
  buf.set(right, 32);
  return keccak_256(buf);
}

/** `keccak256(blobsRoot || uint256(blobCount) || uint256(size))` over the versioned hashes. */
export function batchRootOf(versionedHashes: readonly Uint8Array[], size: number): Uint8Array {
  let width = 1;
  while (width < versionedHashes.length) width *= 2;
  let level = [...versionedHashes, ...Array<Uint8Array>(width - versionedHashes.length).fill(new Uint8Array(32))];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(hashPair(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    level = next;
  }
  const pre = new Uint8Array(96);
  const view = new DataView(pre.buffer);
  pre.set(level[0] as Uint8Array, 0);
  view.setBigUint64(56, BigInt(versionedHashes.length));
  view.setBigUint64(88, BigInt(size));
  return keccak_256(pre);
}

/** Checks a manifest's JSON against the trusted root; throws with the reason if it does not hold. */
export function checkManifest(json: unknown, root: string): CheckedManifest {
  const m = json as { root?: unknown; size?: unknown; blobs?: unknown };
  if (typeof m !== "object" || m === null || !Array.isArray(m.blobs) || m.blobs.length === 0)
    throw new Error("the manifest has no blobs");
  if (typeof m.size !== "number" || !Number.isSafeInteger(m.size) || m.size < 0)
    throw new Error("the manifest has no valid size");
  const commitments: Uint8Array[] = [];
  const hashes: Uint8Array[] = [];
  for (const [i, blob] of (m.blobs as { commitment?: unknown; versionedHash?: unknown }[]).entries()) {
    const commitment = hexToBytes(String(blob?.commitment));
    if (commitment.length !== 48) throw new Error(`blob ${i}'s commitment is not 48 bytes`);
    const hash = versionedHash(commitment);
    if (bytesToHex(hash) !== String(blob?.versionedHash).toLowerCase())
      throw new Error(`blob ${i}'s versioned hash does not match its commitment`);
    commitments.push(commitment);
    hashes.push(hash);
  }
  const computed = bytesToHex(batchRootOf(hashes, m.size));
  if (computed !== root.toLowerCase()) throw new Error("the manifest does not hash to the batch root");
  return { root: computed, size: m.size, commitments };
}
