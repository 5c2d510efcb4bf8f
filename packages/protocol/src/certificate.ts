import { DATA_COLUMNS } from "@cellar/params";
import { fromHex, isCellarError, toHex } from "@cellar/utils";
import { aggregateSignatures, fastAggregateVerify, type PublicKey } from "@chainsafe/blst";
import { type AttestationDomain, attestationMessage } from "./attestation.js";
import { custodyTable, DEFAULT_REPLICATION } from "./custody.js";
import { ProtocolError } from "./errors.js";
import { parsePublicKey, parseSignature } from "./keys.js";
import type { NodeRecord } from "./node-set.js";

/**
 * A quorum certificate: the batch root, which registered nodes signed (a bitmap over registry
 * indexes: bit i is byte i >> 3, mask 1 << (i & 7)) and their aggregate BLS signature.
 */
export interface Certificate {
  readonly root: Uint8Array;
  readonly signerBitmap: Uint8Array;
  readonly signature: Uint8Array;
}

export interface CertificateJson {
  root: string;
  signerBitmap: string;
  signature: string;
  signers: number[];
}

/** Default quorum: at least two thirds of the registered nodes. */
export const DEFAULT_QUORUM = 2 / 3;

/** The bitmap of `indexes`, at least ceil(slots / 8) bytes long (longer if an index needs it). */
export function signerBitmap(indexes: readonly number[], slots: number): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(Math.max(slots, ...indexes.map((i) => i + 1)) / 8));
  for (const i of indexes) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  return bitmap;
}

export function signersOf(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  bitmap.forEach((byte, b) => {
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) out.push(b * 8 + bit);
  });
  return out;
}

/** Signers needed for `quorum` (a fraction) of `nodeCount` nodes. */
export function quorumSize(nodeCount: number, quorum = DEFAULT_QUORUM): number {
  return Math.max(1, Math.ceil(nodeCount * quorum - 1e-9));
}

/** Distinct columns the given nodes keep between them. */
export function coveredColumns(
  nodes: readonly NodeRecord[],
  signers: readonly number[],
  replication = DEFAULT_REPLICATION,
): number {
  const set = new Set(signers);
  return custodyTable(nodes, replication).filter((holders) => holders.some((n) => set.has(n.index))).length;
}

/** Whether the signers reach the quorum and keep at least 64 distinct columns between them. */
export function meetsQuorum(
  nodes: readonly NodeRecord[],
  signers: readonly number[],
  quorum = DEFAULT_QUORUM,
  replication = DEFAULT_REPLICATION,
): boolean {
  return (
    signers.length >= quorumSize(nodes.length, quorum) && coveredColumns(nodes, signers, replication) >= DATA_COLUMNS
  );
}

/** Aggregates attestations (registry index → 96-byte signature) into a certificate over `slots` bitmap positions. */
export function buildCertificate(
  root: Uint8Array,
  signatures: ReadonlyMap<number, Uint8Array>,
  slots: number,
): Certificate {
  const indexes = [...signatures.keys()].sort((a, b) => a - b);
  if (indexes.length === 0)
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_CERTIFICATE", "no signatures to aggregate");
  const aggregate = aggregateSignatures(indexes.map((i) => parseSignature(signatures.get(i) as Uint8Array)));
  return { root, signerBitmap: signerBitmap(indexes, slots), signature: aggregate.toBytes() };
}

/**
 * Checks a certificate against a node set: signer indexes exist, the quorum and the 64-column
 * coverage are met, and the aggregate signature verifies over the attestation message under the
 * signers' keys. Returns the reason it fails, or null when it holds.
 */
export function checkCertificate(
  certificate: Certificate,
  nodes: readonly NodeRecord[],
  domain: AttestationDomain,
  options: { quorum?: number; replication?: number } = {},
): string | null {
  const signers = signersOf(certificate.signerBitmap);
  const byIndex = new Map(nodes.map((n) => [n.index, n]));
  if (signers.some((i) => !byIndex.has(i))) return "a signer index is not in the node set";
  if (signers.length < quorumSize(nodes.length, options.quorum))
    return `${signers.length} signers, quorum is ${quorumSize(nodes.length, options.quorum)}`;
  if (coveredColumns(nodes, signers, options.replication) < DATA_COLUMNS)
    return "the signers keep fewer than 64 distinct columns";
  let keys: PublicKey[];
  try {
    keys = signers.map((i) => parsePublicKey((byIndex.get(i) as NodeRecord).publicKey));
    const ok = fastAggregateVerify(
      attestationMessage(domain, certificate.root),
      keys,
      parseSignature(certificate.signature),
    );
    return ok ? null : "the aggregate signature does not verify";
  } catch (err) {
    return isCellarError(err) ? err.message : "the aggregate signature does not parse";
  }
}

export function certificateToJson(certificate: Certificate): CertificateJson {
  return {
    root: toHex(certificate.root),
    signerBitmap: toHex(certificate.signerBitmap),
    signature: toHex(certificate.signature),
    signers: signersOf(certificate.signerBitmap),
  };
}

export function parseCertificate(json: unknown): Certificate {
  const c = json as Partial<CertificateJson> | null;
  try {
    return {
      root: fromHex(c?.root, 32, "root"),
      signerBitmap: fromHex(c?.signerBitmap, undefined, "signerBitmap"),
      signature: fromHex(c?.signature, 96, "signature"),
    };
  } catch (err) {
    throw new ProtocolError(
      "CELLAR_ERR_PROTOCOL_INVALID_CERTIFICATE",
      `invalid certificate: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}
