import { bytesEqual, fromHex, isCellarError, toHex } from "@cellar/utils";
import { ProtocolError } from "./errors.js";

/** The most registry slots (the registry contract's MAX_NODES: a signer bitmap is at most 32 bytes). */
export const MAX_NODES = 256;

import { nodeIdFromPublicKey, type PopBinding, parsePublicKey, verifyProofOfPossession } from "./keys.js";

/**
 * One registered storage node. `index` is its registry position (its signer-bitmap bit), `stake`
 * its bond in wei (what it weighs in a quorum).
 */
export interface NodeRecord {
  readonly index: number;
  readonly publicKey: Uint8Array;
  readonly nodeId: Uint8Array;
  readonly url: string;
  readonly stake: bigint;
  /** The operator account and its bound proof of possession, when known (node-set files carry both). */
  readonly operator?: Uint8Array;
  readonly proofOfPossession?: Uint8Array;
}

/**
 * The JSON form of a node set file: registry order is list order; `index` (the registry slot) may
 * be given, and must then increase, so a set read from the L1 registry keeps the slots of nodes
 * that left empty. Every node carries its operator and a proof of possession bound to that
 * operator, `chainId` and `registry` (§9), checked on reading, as the registry checks it on chain.
 */
export interface NodeSetJson {
  chainId: string;
  registry: string;
  nodes: {
    publicKey: string;
    url: string;
    index?: number;
    stake?: string;
    operator?: string;
    proofOfPossession?: string;
  }[];
}

/** An entry of `buildNodeSet`. */
export interface NodeEntry {
  readonly publicKey: Uint8Array;
  readonly url: string;
  readonly index?: number | undefined;
  /** Bond in wei; default 1 (every node weighs the same). */
  readonly stake?: bigint | undefined;
  readonly operator?: Uint8Array | undefined;
  readonly proofOfPossession?: Uint8Array | undefined;
}

function invalid(message: string, context: Record<string, unknown> = {}, cause?: unknown): ProtocolError {
  return new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_NODE_SET", `invalid node set: ${message}`, context, { cause });
}

/**
 * Builds node records from public keys and URLs, in registry order; keys must be valid and
 * distinct. A node's index is its position unless given (increasing: slots of nodes that left the
 * registry stay unused).
 */
export function buildNodeSet(entries: readonly NodeEntry[]): NodeRecord[] {
  const records: NodeRecord[] = [];
  for (const [position, entry] of entries.entries()) {
    const { publicKey, url } = entry;
    const index = entry.index ?? position;
    const previous = records[records.length - 1];
    if (!Number.isInteger(index) || index < 0 || index >= MAX_NODES || (previous && index <= previous.index))
      throw invalid(`node ${position} has index ${index}: indexes increase from 0 and stay below ${MAX_NODES}`, {
        index: position,
      });
    try {
      parsePublicKey(publicKey);
    } catch (err) {
      throw invalid(`node ${index} has an invalid public key`, { index }, err);
    }
    if (records.some((r) => bytesEqual(r.publicKey, publicKey)))
      throw invalid(`node ${index} repeats a public key`, { index });
    if (typeof url !== "string" || !/^https?:\/\/[^\s]+$/.test(url))
      throw invalid(`node ${index} has no http(s) URL`, { index });
    const stake = entry.stake ?? 1n;
    if (typeof stake !== "bigint" || stake <= 0n) throw invalid(`node ${index} has no positive stake`, { index });
    records.push({
      index,
      publicKey,
      nodeId: nodeIdFromPublicKey(publicKey),
      url: url.replace(/\/+$/, ""),
      stake,
      ...(entry.operator ? { operator: entry.operator } : {}),
      ...(entry.proofOfPossession ? { proofOfPossession: entry.proofOfPossession } : {}),
    });
  }
  return records;
}

/**
 * Parses a node set file (`{chainId, registry, nodes: [{publicKey, url, operator,
 * proofOfPossession, index?, stake?}]}`, the file `cellar node --nodes` reads), checking every
 * node's proof of possession against its operator, the chain and the registry (§9): a file
 * without them, or with a proof made for anyone or anywhere else, is refused.
 */
export function parseNodeSet(json: unknown): NodeRecord[] {
  const file = json as { nodes?: unknown; chainId?: unknown; registry?: unknown } | null;
  const nodes = file?.nodes;
  if (!Array.isArray(nodes) || nodes.length === 0)
    throw invalid("expected {chainId, registry, nodes: [{publicKey, url, operator, proofOfPossession}, …]}");
  let chainId: bigint;
  let registry: Uint8Array;
  try {
    if (typeof file?.chainId !== "string" && typeof file?.chainId !== "number") throw new Error("no chainId");
    chainId = BigInt(file.chainId);
    registry = fromHex(file?.registry, 20, "registry");
  } catch (err) {
    throw invalid("a node set names its chainId and registry (the proofs of possession are bound to them)", {}, err);
  }
  const records = buildNodeSet(
    nodes.map((n: unknown, i: number) => {
      const entry = n as Record<string, unknown> | null;
      let publicKey: Uint8Array;
      let operator: Uint8Array;
      let proofOfPossession: Uint8Array;
      let stake: bigint | undefined;
      try {
        publicKey = fromHex(entry?.publicKey, 48, `nodes[${i}].publicKey`);
        operator = fromHex(entry?.operator, 20, `nodes[${i}].operator`);
        proofOfPossession = fromHex(entry?.proofOfPossession, 96, `nodes[${i}].proofOfPossession`);
        if (entry?.stake !== undefined && (typeof entry.stake !== "string" || !/^\d+$/.test(entry.stake)))
          throw invalid(`nodes[${i}].stake is not a decimal string of wei`, { index: i });
        stake = entry?.stake === undefined ? undefined : BigInt(entry.stake as string);
      } catch (err) {
        throw isCellarError(err) ? invalid(err.message.replace(/^invalid node set: /, ""), { index: i }, err) : err;
      }
      const index = entry?.index;
      if (index !== undefined && typeof index !== "number")
        throw invalid(`nodes[${i}].index is not a number`, { index: i });
      return { publicKey, url: entry?.url as string, index, stake, operator, proofOfPossession };
    }),
  );
  for (const r of records) {
    const binding: PopBinding = { operator: r.operator as Uint8Array, chainId, registry };
    if (!verifyProofOfPossession(r.publicKey, r.proofOfPossession as Uint8Array, binding))
      throw invalid(`node ${r.index}'s proof of possession does not hold for its operator, chain and registry`, {
        index: r.index,
      });
  }
  return records;
}

/** The file form of a node set; `binding` names the chain and registry its proofs are bound to. */
export function nodeSetToJson(
  nodes: readonly NodeRecord[],
  binding: { chainId: bigint; registry: Uint8Array } = { chainId: 0n, registry: new Uint8Array(20) },
): NodeSetJson {
  return {
    chainId: binding.chainId.toString(),
    registry: toHex(binding.registry),
    nodes: nodes.map((n) => ({
      publicKey: toHex(n.publicKey),
      url: n.url,
      index: n.index,
      stake: n.stake.toString(),
      ...(n.operator ? { operator: toHex(n.operator) } : {}),
      ...(n.proofOfPossession ? { proofOfPossession: toHex(n.proofOfPossession) } : {}),
    })),
  };
}

/** The active stake of a node set (its quorum base). */
export function totalStake(nodes: readonly NodeRecord[]): bigint {
  return nodes.reduce((sum, n) => sum + n.stake, 0n);
}

/** Bitmap positions a node set spans: its highest index + 1. */
export function registrySlots(nodes: readonly NodeRecord[]): number {
  return nodes.reduce((max, n) => Math.max(max, n.index + 1), 0);
}
