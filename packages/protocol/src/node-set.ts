import { bytesEqual, fromHex, isCellarError, toHex } from "@cellar/utils";
import { ProtocolError } from "./errors.js";
import { nodeIdFromPublicKey, parsePublicKey } from "./keys.js";

/** One registered storage node. `index` is its registry position (its signer-bitmap bit). */
export interface NodeRecord {
  readonly index: number;
  readonly publicKey: Uint8Array;
  readonly nodeId: Uint8Array;
  readonly url: string;
}

/** The JSON form of a node set file: registry order is list order. */
export interface NodeSetJson {
  nodes: { publicKey: string; url: string }[];
}

function invalid(message: string, context: Record<string, unknown> = {}, cause?: unknown): ProtocolError {
  return new ProtocolError("CELLAR_ERR_PROTOCOL_INVALID_NODE_SET", `invalid node set: ${message}`, context, { cause });
}

/** Builds node records from public keys and URLs, in registry order; keys must be valid and distinct. */
export function buildNodeSet(entries: readonly { publicKey: Uint8Array; url: string }[]): NodeRecord[] {
  const records: NodeRecord[] = [];
  for (const [index, { publicKey, url }] of entries.entries()) {
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
      return { publicKey, url: entry?.url as string };
    }),
  );
}

export function nodeSetToJson(nodes: readonly NodeRecord[]): NodeSetJson {
  return { nodes: nodes.map((n) => ({ publicKey: toHex(n.publicKey), url: n.url })) };
}
