import { setTimeout as sleep } from "node:timers/promises";
import type { Http, NodeClient } from "@cellar/client";
import type { BatchManifest } from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import { sampleBatch } from "@cellar/light";
import type { NodeRecord } from "@cellar/protocol";
import type { BatchRecord } from "./store.js";

/** Who vouched that a batch is available, at what confidence and when (PROTOCOL.md §16.1). */
export interface Availability {
  readonly confidence: number;
  /** ISO time the target was reached. */
  readonly at: string;
  /** The light node's URL, or `disperser` for the disperser's own sampler. */
  readonly by: string;
  /** Whether the vouching light client is one the disperser does not control. */
  readonly independent: boolean;
}

export interface AvailabilityOptions {
  readonly target: number;
  readonly deadlineMs: number;
  readonly lightNodes: readonly string[];
  readonly http: Http;
  readonly client: NodeClient;
  readonly nodes: readonly NodeRecord[];
  readonly replication: number;
  readonly kzg: Pick<Kzg, "verifyCellProofBatchAsync">;
  readonly manifest: BatchManifest;
  readonly signal?: AbortSignal;
}

interface LightView {
  status?: string;
  confidence?: number;
  stale?: boolean;
}

/**
 * Waits until a light client reaches `target` confidence for the batch: the configured light
 * nodes (polled; the first to vouch wins), or, when none is configured, the disperser's own
 * sampler (said plainly: `independent: false`). Resolves with who vouched, or with `undefined`
 * when the deadline passes first.
 */
export async function awaitAvailability(
  record: BatchRecord,
  options: AvailabilityOptions,
): Promise<Availability | undefined> {
  const deadline = AbortSignal.timeout(options.deadlineMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  if (options.lightNodes.length === 0) {
    try {
      const result = await sampleBatch(options.manifest.root, {
        nodes: options.nodes,
        replication: options.replication,
        client: options.client,
        kzg: options.kzg,
        target: options.target,
        manifest: options.manifest,
        deadlineMs: options.deadlineMs,
        signal,
      });
      if (!result.available) return undefined;
      return { confidence: result.confidence, at: new Date().toISOString(), by: "disperser", independent: false };
    } catch {
      return undefined;
    }
  }
  while (!signal.aborted) {
    for (const url of options.lightNodes) {
      try {
        const res = await options.http.send("GET", `${url.replace(/\/+$/, "")}/v1/batches/${record.id}/availability`, {
          attempts: 1,
          timeoutMs: 5000,
          maxResponseBytes: 64 * 1024,
          signal,
        });
        if (res.status !== 200) continue;
        const view = JSON.parse(res.body.toString()) as LightView;
        if (view.status === "available" && view.stale !== true && (view.confidence ?? 0) >= options.target) {
          return { confidence: view.confidence as number, at: new Date().toISOString(), by: url, independent: true };
        }
      } catch {
        // Unreachable, slow or garbled: ask again on the next pass, until the deadline.
      }
    }
    await sleep(250, undefined, { signal }).catch(() => {});
  }
  return undefined;
}
