import { setTimeout as sleep } from "node:timers/promises";
import { Http, NodeClient } from "@cellar/client";
import { sharedKzg } from "@cellar/kzg";
import { sampleBatch } from "@cellar/light";
import type { NodeRecord } from "@cellar/protocol";
import { CliError } from "./errors.js";

/**
 * Who found a batch available before it was settled, at what confidence and when (PROTOCOL.md
 * §16.2): a light node asked by URL, or this command's own sampler (`by: "cellar settle"`). Both
 * are light clients the disperser does not control.
 */
export interface Vouch {
  readonly by: string;
  readonly confidence: number;
  readonly target: number;
  readonly samples: number;
  readonly verified: number;
  /** ISO time of the verdict. */
  readonly at: string;
}

export interface LightVouchOptions {
  /** The light node's base URL. */
  readonly light: string;
  /** Batch id and its certificate (JSON as the disperser serves it): the light node checks it. */
  readonly id: string;
  readonly certificate: unknown;
  readonly target: number;
  /** How long to wait for the light node's verdict in all. */
  readonly deadlineMs: number;
  readonly pollMs?: number;
}

interface LightView {
  status?: string;
  stale?: boolean;
  roundInProgress?: boolean;
  confidence?: number;
  samples?: number;
  verified?: number;
  failed?: number[];
  checkedAt?: string | null;
}

function notAvailable(message: string, context: Record<string, unknown>): CliError {
  return new CliError("CELLAR_ERR_CLI_NOT_AVAILABLE", message, context);
}

/**
 * Asks a light node to vouch for a batch: registers it with its certificate (idempotent; the light
 * node checks the certificate against its registry snapshot), then polls its verdict until it is
 * current and at `target` or better. A completed round that found the batch unavailable fails at
 * once; no verdict before the deadline fails too (CELLAR_ERR_CLI_NOT_AVAILABLE). Every request is
 * bounded in time and size.
 */
export async function vouchByLightNode(options: LightVouchOptions): Promise<Vouch> {
  const base = options.light.replace(/\/+$/, "");
  const http = new Http({ timeoutMs: 10_000, maxResponseBytes: 64 * 1024, attempts: 1 });
  const signal = AbortSignal.timeout(options.deadlineMs);
  const url = `${base}/v1/batches/${encodeURIComponent(options.id)}`;
  let last: LightView | undefined;
  try {
    const put = await http.send("PUT", url, {
      body: Buffer.from(JSON.stringify({ certificate: options.certificate })),
      contentType: "application/json",
      signal,
    });
    if (put.status !== 200)
      throw notAvailable(
        `the light node ${base} refused the batch: ${put.status} ${put.body.toString().slice(0, 300)}`,
        {
          light: base,
          status: put.status,
        },
      );
    while (!signal.aborted) {
      const res = await http.send("GET", `${url}/availability`, { signal });
      if (res.status === 200) {
        last = JSON.parse(res.body.toString()) as LightView;
        const current = last.stale !== true && typeof last.checkedAt === "string";
        if (current && last.status === "available" && (last.confidence ?? 0) >= options.target)
          return {
            by: base,
            confidence: last.confidence as number,
            target: options.target,
            samples: last.samples ?? 0,
            verified: last.verified ?? 0,
            at: last.checkedAt as string,
          };
        if (current && last.status === "unavailable" && last.roundInProgress !== true)
          throw notAvailable(
            `the light node ${base} found batch ${options.id} unavailable (columns ${(last.failed ?? []).join(", ")} could not be had)`,
            { light: base, failed: last.failed ?? [] },
          );
      }
      await sleep(options.pollMs ?? 250, undefined, { signal }).catch(() => {});
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (!signal.aborted)
      throw notAvailable(`the light node ${base} could not be asked: ${(err as Error).message}`, { light: base });
  } finally {
    await http.close();
  }
  throw notAvailable(
    `the light node ${base} did not find batch ${options.id} available at ${options.target} within ${options.deadlineMs / 1000} s` +
      (last ? ` (last verdict: ${last.status}, confidence ${last.confidence})` : ""),
    { light: base, deadlineMs: options.deadlineMs },
  );
}

export interface OwnVouchOptions {
  readonly root: Uint8Array;
  /** The node set custody is computed from: the certificate's registry snapshot. */
  readonly nodes: readonly NodeRecord[];
  readonly replication: number;
  readonly target: number;
  readonly deadlineMs: number;
  readonly timeoutMs: number;
  /** Reported as `by`. */
  readonly by: string;
}

/** Samples a trusted root with this process's own light client (CELLAR_ERR_CLI_NOT_AVAILABLE below target). */
export async function vouchBySampling(options: OwnVouchOptions): Promise<Vouch> {
  const client = new NodeClient({ timeoutMs: options.timeoutMs, attempts: 1 });
  try {
    const verdict = await sampleBatch(options.root, {
      nodes: options.nodes,
      replication: options.replication,
      client,
      kzg: sharedKzg({ precompute: false }),
      target: options.target,
      deadlineMs: options.deadlineMs,
    });
    if (!verdict.available)
      throw notAvailable(
        `sampling found the batch unavailable: ${verdict.failed.length} of ${verdict.samples} columns could not be had with valid proofs`,
        { failed: verdict.failed },
      );
    return {
      by: options.by,
      confidence: verdict.confidence,
      target: options.target,
      samples: verdict.samples,
      verified: verdict.verified,
      at: new Date().toISOString(),
    };
  } finally {
    await client.close();
  }
}
