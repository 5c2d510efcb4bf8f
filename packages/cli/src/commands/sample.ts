import { readFile } from "node:fs/promises";
import { NodeClient } from "@cellar/client";
import { rootFromBatchId } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { type Address, recordedBatch } from "@cellar/l1";
import { LightError, sampleBatch, trustCertificate } from "@cellar/light";
import { type Certificate, type NodeRecord, parseCertificate } from "@cellar/protocol";
import { bytesEqual } from "@cellar/utils";
import { Command, Option } from "@commander-js/extra-typings";
import { needNodeSet, positiveInt, validateId } from "../args.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { inboxOnL1, loadNodeSet, type NodeSetFlags, snapshotsOf } from "../config.js";
import { withDevnet } from "../devnet/use-devnet.js";
import { CliError } from "../errors.js";
import {
  chainIdOption,
  confidenceOption,
  devnetOption,
  inboxOption,
  nodesOption,
  registryOption,
  replicationOption,
  rpcOption,
} from "../options.js";
import { type Io, printJson, progressBar } from "../output.js";
import { domainOf } from "../runtime.js";

export const sampleDefinition = () =>
  new Command("sample")
    .description("sample a batch from the storage nodes; exit 0 once the target confidence is reached")
    .argument("<id>", "batch id (CID) or 0x root: the root you trust")
    .addOption(nodesOption(" (default: the devnet's)"))
    .addOption(rpcOption())
    .addOption(registryOption())
    .addOption(devnetOption())
    .addOption(confidenceOption())
    .option(
      "--certificate <file>",
      "trust the root through this certificate (or post --json output), checked against the registry snapshot it names: before settlement",
    )
    .addOption(chainIdOption("the certificate is"))
    .addOption(inboxOption("the certificate is (with --rpc and no --certificate: the root must be recorded by it)"))
    .addOption(replicationOption())
    .addOption(
      new Option("--timeout <seconds>", "per-request timeout towards each node").argParser(positiveInt).default(5),
    )
    .option("--json", "print {available, confidence, samples, verified, failed, …} as JSON", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar sample bafkrwi... --devnet devnet/devnet.json --certificate posted.json   before settlement
  $ cellar sample bafkrwi... --devnet devnet/devnet.json                             once the inbox recorded it
  $ cellar sample bafkrwi... --nodes nodes.json --confidence 0.999999999 --json`,
    );

export type SampleCommandOptions = OptionsOf<typeof sampleDefinition>;

export const sample: CommandModule = ({ io, run }) =>
  sampleDefinition().action((id, options, command) => {
    validateId(command, id);
    run(withDevnet(options, command).then((o) => sampleCommand(id, needNodeSet(o, command), io)));
  });

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
