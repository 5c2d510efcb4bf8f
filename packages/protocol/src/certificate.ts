import { DATA_COLUMNS } from "@cellar/params";
import { fromHex, isCellarError, toHex } from "@cellar/utils";
import { aggregateSignatures, fastAggregateVerify, type PublicKey } from "@chainsafe/blst";
import { type AttestationDomain, attestationMessage } from "./attestation.js";
import { custodyTable, DEFAULT_REPLICATION } from "./custody.js";
import { ProtocolError } from "./errors.js";
import { parsePublicKey, parseSignature } from "./keys.js";
import { type NodeRecord, totalStake } from "./node-set.js";

/**
 * A quorum certificate: the batch root, the reference block of the registry snapshot it is judged
 * against, which registered nodes signed (a bitmap over registry indexes: bit i is byte i >> 3,
 * mask 1 << (i & 7)) and their aggregate BLS signature.
 */
export interface Certificate {
  readonly root: Uint8Array;
  readonly reference: bigint;
  readonly signerBitmap: Uint8Array;
  readonly signature: Uint8Array;
}

export interface CertificateJson {
  root: string;
  /** The reference block, as a decimal string. */
  reference: string;
  signerBitmap: string;
  signature: string;
  signers: number[];
}

/** Default quorum: signers holding at least two thirds of the snapshot's active stake. */
export const DEFAULT_QUORUM = 2 / 3;

/**
 * A quorum fraction as the inbox keeps it (numerator / denominator): the simplest fraction with a
 * denominator up to 1000 within 1e-9 of `quorum` (2/3 for 0.666…, 3/4 for 0.75).
 */
export function quorumFraction(quorum = DEFAULT_QUORUM): { numerator: bigint; denominator: bigint } {
  if (!(quorum > 0 && quorum <= 1))
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_CERTIFICATE", "a quorum is a fraction in (0, 1]", { quorum });
  for (let d = 1; d <= 1000; d++) {
    const n = Math.round(quorum * d);
    if (Math.abs(n / d - quorum) < 1e-9) return { numerator: BigInt(n), denominator: BigInt(d) };
  }
  return { numerator: BigInt(Math.ceil(quorum * 1e9)), denominator: 1_000_000_000n };
}

/**
 * The stake a certificate needs: `ceil(total × numerator / denominator)`, the inbox's rule
 * (`signedStake × denominator ≥ total × numerator`).
 */
export function requiredStake(total: bigint, quorum = DEFAULT_QUORUM): bigint {
  const { numerator, denominator } = quorumFraction(quorum);
  return (total * numerator + denominator - 1n) / denominator;
}

/** The stake the given signers hold in `nodes`. */
export function signedStake(nodes: readonly NodeRecord[], signers: readonly number[]): bigint {
  const set = new Set(signers);
  return nodes.reduce((sum, n) => (set.has(n.index) ? sum + n.stake : sum), 0n);
}

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

/** Signers needed for `quorum` (a fraction) of `nodeCount` nodes of equal stake. */
export function quorumSize(nodeCount: number, quorum = DEFAULT_QUORUM): number {
  return Math.max(1, Number(requiredStake(BigInt(nodeCount), quorum)));
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

/** Whether the signers hold the quorum of the stake and keep at least 64 distinct columns between them. */
export function meetsQuorum(
  nodes: readonly NodeRecord[],
  signers: readonly number[],
  quorum = DEFAULT_QUORUM,
  replication = DEFAULT_REPLICATION,
): boolean {
  const stake = signedStake(nodes, signers);
  return (
    stake > 0n &&
    stake >= requiredStake(totalStake(nodes), quorum) &&
    coveredColumns(nodes, signers, replication) >= DATA_COLUMNS
  );
}

/**
 * Aggregates attestations of `root` at `reference` (registry index → 96-byte signature) into a
 * certificate over `slots` bitmap positions.
 */
export function buildCertificate(
  root: Uint8Array,
  signatures: ReadonlyMap<number, Uint8Array>,
  slots: number,
  reference = 0n,
): Certificate {
  const indexes = [...signatures.keys()].sort((a, b) => a - b);
  if (indexes.length === 0)
    throw new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_CERTIFICATE", "no signatures to aggregate");
  const aggregate = aggregateSignatures(indexes.map((i) => parseSignature(signatures.get(i) as Uint8Array)));
  return { root, reference, signerBitmap: signerBitmap(indexes, slots), signature: aggregate.toBytes() };
}

/**
 * Checks a certificate against the node set of its snapshot (the registry's active nodes at
 * `certificate.reference`, PROTOCOL.md §15), with the inbox's rules: when `head` (the latest L1
 * block) is given, the reference is in the past and at most `window` blocks old; signer indexes
 * are in the snapshot; the signers hold the quorum of its stake and keep 64 distinct columns; the
 * aggregate signature verifies over the attestation message under the signers' keys. Returns the
 * reason it fails, or null when it holds.
 */
export function checkCertificate(
  certificate: Certificate,
  nodes: readonly NodeRecord[],
  domain: AttestationDomain,
  options: { quorum?: number; replication?: number; head?: bigint; window?: bigint } = {},
): string | null {
  const { head, window } = options;
  if (head !== undefined && certificate.reference > head)
    return `the reference block ${certificate.reference} is after the latest block ${head}`;
  if (head !== undefined && window !== undefined && head + 1n - certificate.reference > window)
    return `the certificate expired: reference block ${certificate.reference} is more than ${window} blocks old`;
  const signers = signersOf(certificate.signerBitmap);
  const byIndex = new Map(nodes.map((n) => [n.index, n]));
  if (signers.some((i) => !byIndex.has(i))) return "a signer index is not in the node set";
  const stake = signedStake(nodes, signers);
  const needed = requiredStake(totalStake(nodes), options.quorum);
  if (stake === 0n || stake < needed) return `signers hold ${stake} of the stake, quorum is ${needed}`;
  if (coveredColumns(nodes, signers, options.replication) < DATA_COLUMNS)
    return "the signers keep fewer than 64 distinct columns";
  let keys: PublicKey[];
  try {
    keys = signers.map((i) => parsePublicKey((byIndex.get(i) as NodeRecord).publicKey));
    const ok = fastAggregateVerify(
      attestationMessage(domain, certificate.root, certificate.reference),
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
    reference: certificate.reference.toString(),
    signerBitmap: toHex(certificate.signerBitmap),
    signature: toHex(certificate.signature),
    signers: signersOf(certificate.signerBitmap),
  };
}

export function parseCertificate(json: unknown): Certificate {
  const c = json as Partial<CertificateJson> | null;
  try {
    if (typeof c?.reference !== "string" || !/^\d{1,20}$/.test(c.reference))
      throw new Error("reference must be a block number as a decimal string");
    return {
      root: fromHex(c?.root, 32, "root"),
      reference: BigInt(c.reference),
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
