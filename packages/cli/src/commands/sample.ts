import { readFile } from "node:fs/promises";
import { NodeClient } from "@cellar/client";
import { rootFromBatchId } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { type Address, postedBatches, publicClient, recordedBatch, watchBatches } from "@cellar/l1";
import { LightError, LightNode, sampleBatch, trustCertificate } from "@cellar/light";
import { type Certificate, type NodeRecord, parseCertificate } from "@cellar/protocol";
import { bytesEqual, toHex } from "@cellar/utils";
import { loadNodeSet, type NodeSetFlags, snapshotsOf, watchNodeSet } from "../config.js";
import { CliError } from "../errors.js";
import { type LimitFlags, limitsOf } from "../options.js";
import { type Io, printJson, progressBar } from "../output.js";
import { domainOf, serverLogger, untilStopped } from "../server.js";

const ZERO_ADDRESS = `0x${"00".repeat(20)}`;

/** Whether roots can be trusted from the L1 inbox: an RPC and a real inbox address are given. */
function inboxOnL1(options: { rpc?: string | undefined; inbox: string }): boolean {
  return options.rpc !== undefined && options.inbox.toLowerCase() !== ZERO_ADDRESS;
}

export interface SampleCommandOptions extends CertificateTrustFlags {
  readonly confidence: number;
  readonly certificate?: string;
  readonly timeout: number;
  readonly json: boolean;
}

export interface CertificateTrustFlags extends NodeSetFlags {
  readonly chainId: string;
  readonly inbox: string;
  readonly replication: number;
}

/**
 * A certificate made the trust anchor for its root: checked (quorum, aggregate signature, domain)
 * against the node set of the registry snapshot at its reference block, or against the static
 * node set without a registry. Resolves with the root and that node set (the batch's custody).
 */
export async function trustCertificateOf(
  certificate: Certificate,
  options: CertificateTrustFlags,
): Promise<{ root: Uint8Array; nodes: readonly NodeRecord[] }> {
  const snapshots = snapshotsOf(options);
  const nodes = snapshots ? await snapshots.nodesAt(certificate.reference) : await loadNodeSet(options);
  const root = trustCertificate(certificate, nodes, domainOf(options), { replication: options.replication });
  return { root, nodes };
}

/** `trustCertificateOf` for a file: a certificate, or `cellar post --json` output holding one. */
async function trustCertificateFile(
  file: string,
  options: CertificateTrustFlags,
): Promise<{ root: Uint8Array; nodes: readonly NodeRecord[] }> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new CliError(
      "CELLAR_ERR_CLI_INPUT",
      `cannot read certificate ${file}: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
  return trustCertificateOf(parseCertificate((json as { certificate?: unknown }).certificate ?? json), options);
}

/**
 * `cellar sample ID`: one sampling round against the storage nodes. The root comes from the id
 * the user gives, checked against the L1 inbox when --rpc and --inbox name one (a root the inbox
 * has not recorded is refused), or against a certificate file checked with the node set's keys;
 * the manifest is checked against the root. Exit 0 only when the target confidence is reached.
 */
export async function sampleCommand(id: string, options: SampleCommandOptions, io: Io): Promise<void> {
  let nodes: readonly NodeRecord[];
  let root = rootFromBatchId(id);
  if (options.certificate !== undefined) {
    // The certificate is the trust anchor, checked against the registry snapshot it names: the
    // batch need not be settled yet (sampling comes before settlement).
    const trusted = await trustCertificateFile(options.certificate, options);
    if (!bytesEqual(trusted.root, root))
      throw new CliError("CELLAR_ERR_CLI_INPUT", "the certificate is for another batch than the id given");
    ({ root, nodes } = trusted);
  } else if (inboxOnL1(options)) {
    const recorded = await recordedBatch({ rpcUrl: options.rpc as string, inbox: options.inbox as Address, root });
    if (recorded === null)
      throw new LightError(
        "CELLAR_ERR_LIGHT_UNTRUSTED_ROOT",
        `the L1 inbox ${options.inbox} has not recorded batch ${id} (before settlement, trust it through --certificate FILE)`,
        { inbox: options.inbox },
      );
    // With the registry, custody is the batch's own snapshot's (the reference its certificate names).
    const snapshots = snapshotsOf(options);
    nodes = snapshots ? await snapshots.nodesAt(recorded.reference) : await loadNodeSet(options);
  } else nodes = await loadNodeSet(options);
  const client = new NodeClient({ timeoutMs: options.timeout * 1000, attempts: 1 });
  const bar = progressBar(io, !options.json);
  try {
    const verdict = await sampleBatch(root, {
      nodes,
      replication: options.replication,
      client,
      kzg: sharedKzg({ precompute: false }),
      target: options.confidence,
      onProgress: (done, total) => bar.update(done, total, "sampling"),
    });
    bar.stop();
    if (options.json) printJson(io, verdict);
    else {
      io.stdout.write(
        verdict.available
          ? `available: confidence ${verdict.confidence} (target ${verdict.target}) from ${verdict.samples} columns, ${verdict.verified} cells verified\n`
          : `NOT available: ${verdict.failed.length} of ${verdict.samples} sampled columns could not be had with valid proofs (${verdict.failed.join(", ")})\n`,
      );
      if (verdict.strikes.length > 0) {
        io.stdout.write(
          `bad answers: ${verdict.strikes.map((s) => `node ${s.node} column ${s.column} (${s.reason})`).join("; ")}\n`,
        );
      }
    }
    // After the verdict is printed: the process exits 1 when the target is not reached.
    if (!verdict.available)
      throw new CliError("CELLAR_ERR_CLI_NOT_AVAILABLE", "the batch is not available at the target confidence");
  } finally {
    bar.stop();
    await client.close();
  }
}

export interface LightCommandOptions extends NodeSetFlags, LimitFlags {
  readonly roundDeadline: number;
  readonly host: string;
  readonly port: number;
  readonly confidence: number;
  readonly chainId: string;
  readonly inbox: string;
  readonly replication: number;
  readonly interval: number;
  readonly logLevel: string;
  readonly json: boolean;
}

/**
 * `cellar light`: a light node sampling the batches registered with it, until SIGINT/SIGTERM.
 * With --rpc and --inbox it also samples every batch the L1 inbox records (its trusted roots),
 * and with --registry it reads and follows the node set from the L1 registry.
 */
export async function lightCommand(options: LightCommandOptions, io: Io): Promise<void> {
  const logger = serverLogger("light", options.logLevel);
  const snapshots = snapshotsOf(options);
  const light = new LightNode(
    {
      nodes: await loadNodeSet(options),
      ...(snapshots ? { snapshots } : {}),
      domain: domainOf(options),
      replication: options.replication,
      target: options.confidence,
      intervalMs: options.interval * 1000,
      roundDeadlineMs: options.roundDeadline * 1000,
      limits: limitsOf(options),
    },
    { kzg: sharedKzg({ precompute: false }), logger },
  );
  const url = await light.listen(options.host, options.port);
  const unwatchNodes = watchNodeSet(options, light.nodes, (nodes) => light.setNodes(nodes), logger);
  let unwatchInbox = () => {};
  if (inboxOnL1(options)) {
    const l1 = { rpcUrl: options.rpc as string, inbox: options.inbox as Address };
    // Batches recorded in about the last day (7,200 blocks) are sampled too, then every new one.
    const head = await publicClient(l1.rpcUrl).getBlockNumber();
    // Custody of a recorded batch is its certificate's snapshot's: the reference the inbox recorded.
    const settled = (batch: { root: Uint8Array; txHash: string; blockNumber: bigint; reference: bigint }) =>
      light.markSettled(batch.root, { txHash: batch.txHash, blockNumber: Number(batch.blockNumber) }, batch.reference);
    for (const batch of await postedBatches({ ...l1, fromBlock: head > 7200n ? head - 7200n : 0n })) settled(batch);
    unwatchInbox = watchBatches(
      { ...l1, onError: (err) => logger.error({ err }, "watching the L1 inbox failed; retrying") },
      (batch) => {
        logger.info({ root: toHex(batch.root), block: Number(batch.blockNumber) }, "batch recorded on L1");
        settled(batch);
      },
    );
  }
  const explorer = `${url}/explorer/`;
  io.stdout.write(
    options.json
      ? `${JSON.stringify({ event: "listening", url, explorer })}\n`
      : `cellar light listening on ${url} (explorer: ${explorer})\n`,
  );
  await untilStopped(logger);
  unwatchInbox();
  unwatchNodes();
  await light.stop();
}
