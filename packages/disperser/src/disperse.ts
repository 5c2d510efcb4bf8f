import { setTimeout as sleep } from "node:timers/promises";
import type { DispersalResult, NodeClient } from "@cellar/client";
import { columnOf, type EncodedBatch } from "@cellar/codec";
import {
  type AttestationDomain,
  buildCertificate,
  type Certificate,
  custodyTable,
  meetsQuorum,
  type NodeRecord,
  registrySlots,
  requiredStake,
  signedStake,
  totalStake,
} from "@cellar/protocol";
import { DisperserError } from "./errors.js";

export interface DisperseOptions {
  /** The node set of the registry snapshot at `reference`. */
  readonly nodes: readonly NodeRecord[];
  /** The reference block the nodes attest under (0 with a static node set). */
  readonly reference?: bigint;
  readonly replication: number;
  readonly domain: AttestationDomain;
  readonly client: NodeClient;
  /** Fraction of the snapshot's stake whose attestations a certificate needs. */
  readonly quorum: number;
  /** Node requests in flight at once. */
  readonly concurrency: number;
  /** Once the quorum is met, how long to wait for the remaining nodes before certifying. */
  readonly lingerMs: number;
  /** How long to wait for a quorum at all. */
  readonly deadlineMs: number;
  readonly onResult?: (result: DispersalResult, seconds: number) => void;
}

export interface Dispersed {
  readonly certificate: Certificate;
  readonly results: DispersalResult[];
  /** Settles when every node request has ended, including those still running after certifying. */
  readonly settled: Promise<void>;
}

/**
 * Sends every node exactly the columns it custodies and gathers the attestations that verify.
 * Certifies once the quorum and the 64-column coverage are met (after `lingerMs` for stragglers,
 * whose dispersals carry on in the background), or as soon as every node has answered. Without a
 * quorum by then, or by the deadline: CELLAR_ERR_DISPERSER_NO_QUORUM listing each node's failure.
 */
export async function disperse(batch: EncodedBatch, options: DisperseOptions): Promise<Dispersed> {
  const { nodes, client, domain, manifest } = { ...options, manifest: batch.manifest };
  const reference = options.reference ?? 0n;
  const table = custodyTable(nodes, options.replication);
  const work = nodes
    .map((node) => ({
      node,
      columns: table.flatMap((holders, c) => (holders.some((n) => n.index === node.index) ? [c] : [])),
    }))
    .filter((w) => w.columns.length > 0);
  const results: DispersalResult[] = [];
  const signatures = new Map<number, Uint8Array>();
  let quorumMet: () => void = () => {};
  const quorum = new Promise<void>((resolve) => {
    quorumMet = resolve;
  });

  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const { node, columns } = work[next++] as (typeof work)[number];
      const started = performance.now();
      const result = await client.disperse(
        node,
        manifest,
        columns.map((c) => columnOf(batch, c)),
        domain,
        { reference },
      );
      results.push(result);
      options.onResult?.(result, (performance.now() - started) / 1000);
      if (result.ok) {
        signatures.set(node.index, result.signature);
        if (meetsQuorum(nodes, [...signatures.keys()], options.quorum, options.replication)) quorumMet();
      }
    }
  };
  const settled = Promise.all(Array.from({ length: Math.min(options.concurrency, work.length) }, worker)).then(
    () => {},
  );
  const deadline = new AbortController();
  await Promise.race([
    settled,
    quorum.then(() => sleep(options.lingerMs, undefined, { signal: deadline.signal })),
    sleep(options.deadlineMs, undefined, { signal: deadline.signal }),
  ]).catch(() => {});
  deadline.abort();

  if (!meetsQuorum(nodes, [...signatures.keys()], options.quorum, options.replication)) {
    const failures = results.filter((r): r is Extract<DispersalResult, { ok: false }> => !r.ok);
    throw new DisperserError(
      "CELLAR_ERR_DISPERSER_NO_QUORUM",
      `no certificate: ${signatures.size} of ${nodes.length} nodes attested holding ${signedStake(nodes, [...signatures.keys()])} of ${totalStake(nodes)} stake, ${requiredStake(totalStake(nodes), options.quorum)} needed with 64 columns covered` +
        (failures.length > 0 ? ` (${failures.map((f) => `node ${f.node.index}: ${f.reason}`).join(", ")})` : ""),
      {
        attested: [...signatures.keys()].sort((a, b) => a - b),
        needed: requiredStake(totalStake(nodes), options.quorum).toString(),
        failures: failures.map((f) => ({ node: f.node.index, reason: f.reason })),
      },
    );
  }
  return {
    certificate: buildCertificate(manifest.root, signatures, registrySlots(nodes), reference),
    results: [...results],
    settled,
  };
}
