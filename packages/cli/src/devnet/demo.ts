import { randomBytes, randomInt } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DisperserClient, NodeClient, retrieveBatch } from "@cellar/client";
import { blobsRoot } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import { checkCertificate, parseCertificate, quorumSize } from "@cellar/protocol";
import { fromHex } from "@cellar/utils";
import { CliError } from "../errors.js";
import { vouchByLightNode } from "../vouch.js";
import { type Devnet, startDevnet } from "./devnet.js";
import { cellarL1, type L1 } from "./l1.js";

export interface DemoOptions {
  /** Storage nodes (default 8); a third of them are killed before the read. */
  readonly nodes?: number;
  /** Batch size in bytes (default 3 MiB). */
  readonly bytes?: number;
  /** Target confidence of the sampling step (default 1 - 1e-6). */
  readonly confidence?: number;
  /** The L1 library (default `@cellar/l1`). */
  readonly l1?: L1;
  /** Called as each step ends, for a live summary. */
  readonly onStep?: (step: DemoStep) => void;
}

export interface DemoStep {
  readonly step: "devnet" | "post" | "certificate" | "sample" | "settle" | "kill" | "retrieve" | "teardown";
  readonly seconds: number;
  /** One line for people. */
  readonly summary: string;
  /** The same for machines. */
  readonly details: Record<string, unknown>;
}

export interface DemoReport {
  readonly ok: true;
  readonly nodes: number;
  readonly bytes: number;
  readonly id: string;
  readonly root: string;
  readonly seconds: number;
  readonly steps: DemoStep[];
}

export const DEFAULT_DEMO_BYTES = 3 * 1024 * 1024;

/** Throws CELLAR_ERR_CLI_DEMO_CHECK unless `ok`: a step whose outcome is not what the flow promises. */
export function demoCheck(ok: boolean, message: string, context: Record<string, unknown> = {}): void {
  if (!ok) throw new CliError("CELLAR_ERR_CLI_DEMO_CHECK", message, context);
}

/**
 * The whole flow once, on a throwaway devnet in a temporary directory: post a generated batch,
 * check its certificate, sample it to the target confidence, settle it on L1, kill a third of
 * the storage nodes, read it back and compare byte for byte. The devnet is torn down and its
 * directory removed whatever happens; the first failed check throws.
 */
export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const count = options.nodes ?? 8;
  const size = options.bytes ?? DEFAULT_DEMO_BYTES;
  const steps: DemoStep[] = [];
  const began = performance.now();
  const timed = async <T>(
    step: DemoStep["step"],
    work: () => Promise<T>,
    describe: (value: T) => [string, Record<string, unknown>],
  ): Promise<T> => {
    const start = performance.now();
    const value = await work();
    const [summary, details] = describe(value);
    const done: DemoStep = { step, seconds: (performance.now() - start) / 1000, summary, details };
    steps.push(done);
    options.onStep?.(done);
    return value;
  };

  const l1 = options.l1 ?? cellarL1;
  const dir = await mkdtemp(join(tmpdir(), "cellar-demo-"));
  let devnet: Devnet | undefined;
  const disperserClient: { current: DisperserClient | undefined } = { current: undefined };
  try {
    devnet = await timed(
      "devnet",
      () => startDevnet({ nodes: count, dir, l1, logLevel: "warn" }),
      (d) => [
        `anvil (chain ${d.info.chainId}) with the contracts, ${d.info.nodes.length} registered storage nodes, a disperser, a light node (explorer ${d.info.light.url}/explorer/)`,
        {
          dir,
          explorer: `${d.info.light.url}/explorer/`,
          chainId: d.info.chainId,
          nodes: d.info.nodes.length,
          rpc: d.info.l1.rpc,
          inbox: d.info.l1.inbox,
          pids: [d.info.l1.pid, ...d.children.map((c) => c.pid)],
        },
      ],
    );
    const info = devnet.info;
    const domain = { chainId: BigInt(info.chainId), inbox: fromHex(info.inbox, 20, "inbox") };
    const disperser = new DisperserClient(info.disperser.url);
    disperserClient.current = disperser;

    const batch = new Uint8Array(randomBytes(size));
    const posted = await timed(
      "post",
      () => disperser.post(batch),
      (p) => [
        `${size.toLocaleString("en")} bytes in ${p.blobs.length} blobs: ${p.id}`,
        { id: p.id, root: p.root, blobs: p.blobs.length, status: p.status },
      ],
    );
    demoCheck(posted.status === "certified" && posted.certificate !== undefined, `the batch is ${posted.status}`);
    const certificate = parseCertificate(posted.certificate);
    // The node set of the certificate's own snapshot, as the registry checkpointed it (§10).
    const set = await l1.readNodeSet({
      rpcUrl: info.l1.rpc,
      registry: info.l1.registry as `0x${string}`,
      reference: certificate.reference,
    });
    await timed(
      "certificate",
      async () => checkCertificate(certificate, set, domain, { replication: info.replication }),
      (why) => {
        demoCheck(why === null, `the certificate does not hold: ${why}`);
        const signers = posted.certificate?.signers ?? [];
        return [
          `signed by ${signers.length} of ${set.length} nodes (quorum ${quorumSize(set.length)}), aggregate signature verified`,
          { signers, quorum: quorumSize(set.length) },
        ];
      },
    );
    // Sampled before anything reaches L1, by a light client the disperser does not control: the
    // devnet's light node, asked for its verdict on this certified batch.
    const target = options.confidence ?? 1 - 1e-6;
    await timed(
      "sample",
      () =>
        vouchByLightNode({
          light: info.light.url,
          id: posted.id,
          certificate: posted.certificate,
          target,
          deadlineMs: 60_000,
        }),
      (v) => [
        `the light node ${v.by} found it available: confidence ${v.confidence} (target ${target}) from ${v.samples} random columns, ${v.verified} cells verified`,
        { by: v.by, confidence: v.confidence, target, samples: v.samples, verified: v.verified, at: v.at },
      ],
    );

    const settled = await timed(
      "settle",
      async () => {
        const at = { rpcUrl: info.l1.rpc, inbox: info.l1.inbox as `0x${string}` };
        const privateKey = info.l1.account.privateKey as `0x${string}`;
        const root = certificate.root;
        const mined = await l1.settleBatch({
          ...at,
          privateKey,
          root,
          blobsRoot: blobsRoot(posted.blobs.map((b) => fromHex(b.versionedHash, 32, "versionedHash"))),
          blobCount: posted.blobs.length,
          size,
          certificate,
        });
        return { ...mined, recorded: await l1.isRecorded({ ...at, root }) };
      },
      (r) => [
        `sampled first, then the inbox checked the certificate on chain and recorded the root: block ${r.blockNumber}, ${r.gasUsed.toLocaleString("en")} gas`,
        { txHash: r.txHash, blockNumber: Number(r.blockNumber), gasUsed: Number(r.gasUsed), recorded: r.recorded },
      ],
    );
    demoCheck(settled.recorded, "the inbox does not report the batch as recorded");

    const victims = pickVictims(count, Math.round(count / 3));
    await timed(
      "kill",
      async () => {
        for (const i of victims) await devnet?.children[i]?.kill();
      },
      () => [`SIGKILL to storage nodes ${victims.join(", ")} (${victims.length} of ${count})`, { killed: victims }],
    );
    await timed(
      "retrieve",
      // Straight from the surviving storage nodes (not the disperser, which may hold it cached):
      // every column verified against the manifest, the missing ones rebuilt.
      async () => {
        const client = new NodeClient({ timeoutMs: 10_000, attempts: 1 });
        try {
          const { payload, columnsUsed } = await retrieveBatch(certificate.root, {
            nodes: set,
            replication: info.replication,
            client,
            kzg: sharedKzg({ precompute: false }),
            erasure: sharedErasure(),
          });
          return { back: payload, columns: columnsUsed.length };
        } finally {
          await client.close();
        }
      },
      ({ back, columns }) => {
        demoCheck(
          Buffer.from(back).equals(Buffer.from(batch)),
          `the batch read back differs from the one posted (${back.length} bytes, ${size} posted)`,
        );
        return [
          `${back.length.toLocaleString("en")} bytes rebuilt from ${columns} verified columns of the live nodes, identical to the posted batch`,
          { columns },
        ];
      },
    );
    disperserClient.current = undefined;
    await disperser.close();
    await timed(
      "teardown",
      async () => {
        await devnet?.stop();
        await rm(dir, { recursive: true, force: true });
      },
      () => ["every process stopped, the devnet directory removed", {}],
    );
    return {
      ok: true,
      nodes: count,
      bytes: size,
      id: posted.id,
      root: posted.root,
      seconds: (performance.now() - began) / 1000,
      steps,
    };
  } finally {
    await disperserClient.current?.close();
    // After a failure: the same teardown, without a step of its own (idempotent after success).
    await devnet?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** `k` distinct node indexes out of `n`, chosen with the CSPRNG. */
function pickVictims(n: number, k: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [all[i], all[j]] = [all[j] as number, all[i] as number];
  }
  return all.slice(0, k).sort((a, b) => a - b);
}
