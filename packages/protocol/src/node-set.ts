import { bytesEqual, fromHex, isCellarError, toHex } from "@cellar/utils";
import { ProtocolError } from "./errors.js";

/** The most registry slots (the registry contract's MAX_NODES: a signer bitmap is at most 32 bytes). */
export const MAX_NODES = 256;

import { nodeIdFromPublicKey, parsePublicKey } from "./keys.js";

/** One registered storage node. `index` is its registry position (its signer-bitmap bit). */
export interface NodeRecord {
  readonly index: number;
  readonly publicKey: Uint8Array;
  readonly nodeId: Uint8Array;
  readonly url: string;
}

/**
 * The JSON form of a node set file: registry order is list order; `index` (the registry slot) may
 * be given, and must then increase, so a set read from the L1 registry keeps the slots of nodes
 * that left empty.
 */
export interface NodeSetJson {
  nodes: { publicKey: string; url: string; index?: number }[];
}

function invalid(message: string, context: Record<string, unknown> = {}, cause?: unknown): ProtocolError {
  return new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_NODE_SET", `invalid node set: ${message}`, context, { cause });
}

/**
 * Builds node records from public keys and URLs, in registry order; keys must be valid and
 * distinct. A node's index is its position unless given (increasing: slots of nodes that left the
 * registry stay unused).
 */
export function buildNodeSet(
  entries: readonly { publicKey: Uint8Array; url: string; index?: number | undefined }[],
): NodeRecord[] {
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
    records.push({ index, publicKey, nodeId: nodeIdFromPublicKey(publicKey), url: url.replace(/\/+$/, "") });
  }
  return records;
}

/** Parses `{nodes: [{publicKey, url}]}` (the file `cellar node --nodes` reads). */
export function parseNodeSet(json: unknown): NodeRecord[] {
  const nodes = (json as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes) || nodes.length === 0)
    throw invalid("expected {nodes: [{publicKey, url}, …]} with at least one node");
  return buildNodeSet(
    nodes.map((n: unknown, i: number) => {
      const entry = n as { publicKey?: unknown; url?: unknown } | null;
      let publicKey: Uint8Array;
      try {
        publicKey = fromHex(entry?.publicKey, 48, `nodes[${i}].publicKey`);
      } catch (err) {
        throw isCellarError(err) ? invalid(err.message, { index: i }, err) : err;
      }
      const index = (entry as { index?: unknown }).index;
      if (index !== undefined && typeof index !== "number")
        throw invalid(`nodes[${i}].index is not a number`, { index: i });
      return { publicKey, url: entry?.url as string, index };
    }),
  );
}

export function nodeSetToJson(nodes: readonly NodeRecord[]): NodeSetJson {
  return { nodes: nodes.map((n) => ({ publicKey: toHex(n.publicKey), url: n.url, index: n.index })) };
}

/** Bitmap positions a node set spans: its highest index + 1. */
export function registrySlots(nodes: readonly NodeRecord[]): number {
  return nodes.reduce((max, n) => Math.max(max, n.index + 1), 0);
}
