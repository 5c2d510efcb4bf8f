import type { NodeClient } from "@cellar/client";
import { fetchManifest } from "@cellar/client";
import { type BatchManifest, type Column, verifyColumns } from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import { CELLS_PER_EXT_BLOB } from "@cellar/params";
import {
  type AttestationDomain,
  type Certificate,
  checkCertificate,
  DEFAULT_REPLICATION,
  holdersTable,
  type NodeRecord,
  readerView,
} from "@cellar/protocol";
import { bytesEqual, isCellarError, toHex } from "@cellar/utils";
import { confidenceOf, DEFAULT_TARGET, samplesFor } from "./confidence.js";
import { LightError } from "./errors.js";

export interface SampleOptions {
  /** The batch's registry snapshot: its custodians are asked first (§10). */
  readonly nodes: readonly NodeRecord[];
  /** The registry's active nodes now: stand-ins for departed custodians come from it (§10.1). Default `nodes`. */
  readonly current?: readonly NodeRecord[];
  readonly replication?: number;
  readonly client: NodeClient;
  readonly kzg: Pick<Kzg, "verifyCellProofBatchAsync">;
  /** Target confidence; S is derived from it. Default 1 - 1e-6. */
  readonly target?: number;
  /** A manifest already checked against the root; otherwise one is fetched and checked. */
  readonly manifest?: BatchManifest;
  /** Random source for column choice; default the CSPRNG. For tests of the statistics only. */
  readonly random?: (bound: number) => number;
  readonly onProgress?: (done: number, total: number) => void;
  /** Total time for the round; past it, CELLAR_ERR_LIGHT_DEADLINE. Default 60 s. */
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
  /** Each sampled column as it is asked for (`fetching`) and once it is decided. */
  readonly onColumn?: (outcome: ColumnOutcome) => void;
}

/** What became of one sampled column; `node` is the registry index whose answer decided it. */
export interface ColumnOutcome {
  readonly column: number;
  readonly state: "fetching" | "verified" | "failed" | "missing";
  readonly node?: number;
}

/** The verdict of one sampling round. */
export interface SampleResult {
  readonly root: string;
  readonly available: boolean;
  readonly confidence: number;
  readonly target: number;
  /** Columns sampled (S). */
  readonly samples: number;
  /** Cells whose proofs verified. */
  readonly verified: number;
  /** The columns sampled, in the order chosen. */
  readonly columns: readonly number[];
  /** Blobs in the batch (0 when no manifest was found). */
  readonly blobs: number;
  /** Sampled columns no custodian could serve with valid proofs. */
  readonly failed: number[];
  /** Answers held against nodes: node index, column, reason. */
  readonly strikes: { node: number; column: number; reason: string }[];
  /** How many sampled columns each node (by registry index) was asked for. */
  readonly asked: Record<number, number>;
}

/** A node's refusal saying it holds no such column: an HTTP 404 (the node's NOT_FOUND). */
function notHeld(err: unknown): boolean {
  return isCellarError(err, "CELLAR_ERR_CLIENT_HTTP") && err.context.status === 404;
}

/** A uniform integer in [0, bound) from `crypto.getRandomValues`, without modulo bias. */
export function secureRandom(bound: number): number {
  const limit = Math.floor(0x1_0000_0000 / bound) * bound;
  const buf = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    if ((buf[0] as number) < limit) return (buf[0] as number) % bound;
  }
}

/** S distinct column indexes, uniformly (partial Fisher–Yates). */
export function chooseSampleColumns(samples: number, random: (bound: number) => number = secureRandom): number[] {
  const pool = Array.from({ length: CELLS_PER_EXT_BLOB }, (_, i) => i);
  for (let i = 0; i < samples; i++) {
    const j = i + random(CELLS_PER_EXT_BLOB - i);
    [pool[i], pool[j]] = [pool[j] as number, pool[i] as number];
  }
  return pool.slice(0, samples);
}

/**
 * Checks that a root is one the node set certified; throws CELLAR_ERR_LIGHT_UNTRUSTED_ROOT if not.
 * (Until the L1 inbox is the source of roots, a certificate is how a light client trusts one.)
 */
export function trustCertificate(
  certificate: Certificate,
  nodes: readonly NodeRecord[],
  domain: AttestationDomain,
  options: { quorum?: number; replication?: number } = {},
): Uint8Array {
  const why = checkCertificate(certificate, nodes, domain, options);
  if (why !== null)
    throw new LightError("CELLAR_ERR_LIGHT_UNTRUSTED_ROOT", `the certificate does not hold: ${why}`, {});
  return certificate.root;
}

/**
 * One sampling round for a batch whose root the caller trusts: S random columns (S from the
 * target), each asked of its custodians, spreading the columns so that no node learns more of
 * this client's choices than it must; every cell of every sampled column (all blobs) verified in
 * one batch call, failures located per column and asked of the next custodian. Available only if
 * every sampled column verified; a node that times out, answers garbage or serves a cell that
 * fails is recorded and never believed.
 */
export async function sampleBatch(root: Uint8Array, options: SampleOptions): Promise<SampleResult> {
  const deadlineMs = options.deadlineMs ?? 60_000;
  const deadline = AbortSignal.timeout(deadlineMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  try {
    const result = await sampleWithin(root, options, signal);
    if (deadline.aborted) throw new Error("deadline");
    return result;
  } catch (err) {
    if (!deadline.aborted) throw err;
    throw new LightError(
      "CELLAR_ERR_LIGHT_DEADLINE",
      `sampling batch ${toHex(root)} took longer than ${deadlineMs} ms`,
      { deadlineMs },
      { cause: err },
    );
  }
}

async function sampleWithin(root: Uint8Array, options: SampleOptions, signal: AbortSignal): Promise<SampleResult> {
  const target = options.target ?? DEFAULT_TARGET;
  const samples = samplesFor(target);
  const { nodes, client } = options;
  let manifest = options.manifest;
  if (manifest === undefined) {
    try {
      manifest = await fetchManifest(root, nodes, client, signal);
    } catch (err) {
      throw new LightError(
        "CELLAR_ERR_LIGHT_NO_MANIFEST",
        `no node serves a manifest matching batch ${toHex(root)}`,
        {},
        { cause: err },
      );
    }
  } else if (!bytesEqual(manifest.root, root)) {
    throw new LightError("CELLAR_ERR_LIGHT_UNTRUSTED_ROOT", "the manifest given is for another root", {});
  }
  // [§10.1] A column's originals first, then its stand-ins and spares (as `readOrder` gives them).
  const table = holdersTable(readerView(nodes, options.current, options.replication ?? DEFAULT_REPLICATION));
  const columns = chooseSampleColumns(samples, options.random);
  const load = new Map<number, number>();
  const strikes: SampleResult["strikes"] = [];
  const tried = new Map<number, Set<number>>(columns.map((c) => [c, new Set()]));

  /**
   * The least-loaded original custodian of `c` not yet tried for it (random among equals); once
   * every original was tried, the stand-ins in their order.
   */
  const pick = (c: number): NodeRecord | undefined => {
    const untried = (list: readonly NodeRecord[] = []) => list.filter((n) => !tried.get(c)?.has(n.index));
    const originals = untried(table[c]?.originals);
    if (originals.length === 0) {
      const next = untried(table[c]?.standIns)[0];
      if (next) {
        tried.get(c)?.add(next.index);
        load.set(next.index, (load.get(next.index) ?? 0) + 1);
      }
      return next;
    }
    const options_ = originals;
    const least = Math.min(...options_.map((n) => load.get(n.index) ?? 0));
    const best = options_.filter((n) => (load.get(n.index) ?? 0) === least);
    const node = best[secureRandom(best.length)] as NodeRecord;
    tried.get(c)?.add(node.index);
    load.set(node.index, least + 1);
    return node;
  };

  const isOriginal = (c: number, node: NodeRecord) => (table[c]?.originals ?? []).some((n) => n.index === node.index);

  const fetchOne = async (
    c: number,
  ): Promise<{ column: number; node: NodeRecord; data: Column } | { column: number; failed: true }> => {
    for (let node = pick(c); node !== undefined && !signal.aborted; node = pick(c)) {
      options.onColumn?.({ column: c, state: "fetching", node: node.index });
      try {
        return { column: c, node, data: await client.column(node, manifest as BatchManifest, c, signal) };
      } catch (err) {
        // A stand-in that says it does not hold the column (404) has not been given it yet: that
        // is not an answer to hold against it (§10.1). An original custodian saying so is.
        if (!isOriginal(c, node) && notHeld(err)) continue;
        strikes.push({ node: node.index, column: c, reason: (err as { code?: string }).code ?? "error" });
      }
    }
    return { column: c, failed: true };
  };

  const verified = new Set<number>();
  const failed: number[] = [];
  let pending = columns;
  let done = 0;
  while (pending.length > 0) {
    const fetched = await Promise.all(pending.map(fetchOne));
    const got = fetched.filter((f): f is { column: number; node: NodeRecord; data: Column } => !("failed" in f));
    for (const f of fetched) {
      if (!("failed" in f)) continue;
      failed.push(f.column);
      // Failed if some custodian served cells that do not verify; missing if none served any.
      const lied = strikes.some((s) => s.column === f.column && s.reason === "invalid-cells");
      options.onColumn?.({ column: f.column, state: lied ? "failed" : "missing" });
    }
    const retry: number[] = [];
    if (got.length > 0) {
      // All cells of all fetched columns in one batch verification; a failing batch is searched.
      const bad = new Set(
        (
          await verifyColumns(
            manifest,
            got.map((g) => g.data),
            { kzg: options.kzg, chunkBlobs: manifest.blobs.length },
          )
        ).map((b) => b.column),
      );
      for (const g of got) {
        if (bad.has(g.column)) {
          strikes.push({ node: g.node.index, column: g.column, reason: "invalid-cells" });
          retry.push(g.column);
        } else {
          verified.add(g.column);
          options.onColumn?.({ column: g.column, state: "verified", node: g.node.index });
        }
      }
    }
    done += got.length - retry.length + (fetched.length - got.length);
    options.onProgress?.(done, samples);
    pending = retry;
  }
  const available = failed.length === 0 && verified.size === samples && samples > 0;
  return {
    root: toHex(root),
    available,
    confidence: available ? confidenceOf(verified.size) : 0,
    target,
    samples,
    verified: verified.size * manifest.blobs.length,
    columns,
    blobs: manifest.blobs.length,
    failed: failed.sort((a, b) => a - b),
    strikes,
    asked: Object.fromEntries(load),
  };
}
