import { DisperserClient } from "@cellar/client";
import { blobsRoot } from "@cellar/codec";
import { type Address, postedBatches, recordedBatch, settleBatch } from "@cellar/l1";
import { type Certificate, parseCertificate, signersOf } from "@cellar/protocol";
import { fromHex } from "@cellar/utils";
import { Command, Option } from "@commander-js/extra-typings";
import { positiveInt, validateId } from "../args.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { hasNodeSet } from "../config.js";
import { withDevnet } from "../devnet/use-devnet.js";
import { CliError, EXIT_USAGE } from "../errors.js";
import {
  chainIdOption,
  confidenceOption,
  devnetOption,
  disperserOption,
  nodesOption,
  privateKeyOption,
  registryOption,
  replicationOption,
  rpcOption,
} from "../options.js";
import { type Io, printJson } from "../output.js";
import { type Vouch, vouchByLightNode, vouchBySampling } from "../vouch.js";
import { trustCertificateOf } from "./sample.js";

export const settleDefinition = () =>
  new Command("settle")
    .description(
      "have a light client sample a certified batch, then post its root and certificate to the L1 inbox, which checks it on chain",
    )
    .argument("<id>", "batch id (CID) or 0x root, as the disperser knows it")
    .addOption(disperserOption())
    .addOption(rpcOption())
    .addOption(new Option("--inbox <address>", "the L1 inbox contract").env("CELLAR_INBOX"))
    .addOption(privateKeyOption())
    .addOption(
      new Option("--light <url>", "the light node whose verdict settlement waits for (default: the devnet's)").env(
        "CELLAR_LIGHT",
      ),
    )
    .addOption(nodesOption(" (without --light: sample with this command's own light client)"))
    .addOption(registryOption())
    .addOption(chainIdOption("the certificate is"))
    .addOption(replicationOption())
    .addOption(confidenceOption("target confidence before settling"))
    .addOption(
      new Option("--sampling-deadline <seconds>", "longest to wait for the light client's verdict")
        .argParser(positiveInt)
        .default(60),
    )
    .addOption(
      new Option("--timeout <seconds>", "per-request timeout of the own sampler towards each node")
        .argParser(positiveInt)
        .default(5),
    )
    .option(
      "--skip-sampling",
      "settle without sampling (for operators who sampled elsewhere; printed as a warning)",
      false,
    )
    .addOption(devnetOption())
    .option(
      "--json",
      "print {txHash, blockNumber, gasUsed, alreadyRecorded, sampling: {by, confidence, …}, …} as JSON",
      false,
    )
    .addHelpText(
      "after",
      `
Examples:
  $ cellar settle bafkrwi... --devnet devnet/devnet.json
  $ cellar settle 0x<root> --rpc http://127.0.0.1:8545 --inbox 0x… --private-key 0x… --light http://127.0.0.1:7200 --json
  $ cellar settle 0x<root> --rpc … --inbox 0x… --private-key 0x… --registry 0x…   samples it here first
  $ cellar settle 0x<root> --rpc … --inbox 0x… --private-key 0x… --skip-sampling   sampled elsewhere

Nothing is posted until a light client (--light, else this command over the node set) found the
batch available at --confidence. A batch the inbox already recorded is not posted again: its
transaction is reported.`,
    );

export type SettleOptions = OptionsOf<typeof settleDefinition>;

export const settle: CommandModule = ({ io, run }) =>
  settleDefinition().action((id, options, command) => {
    validateId(command, id);
    run(
      withDevnet(options, command, ["rpc", "inbox", "privateKey", "disperser"]).then((o) => {
        if (!o.skipSampling && o.light === undefined && !hasNodeSet(o))
          command.error(
            "settle samples the batch first: give --light URL, or a node set (--nodes FILE, or --registry ADDRESS), or --skip-sampling",
            { exitCode: EXIT_USAGE },
          );
        return settleCommand(id, o, io);
      }),
    );
  });

/** What `settleCommand` runs with: the devnet (or the flags) gave RPC, inbox and key. */
type SettleWith = SettleOptions & { rpc: string; inbox: string; privateKey: string; disperser: string };

/** What settlement was preceded by: a light client's verdict, or why there was none. */
export type SettleSampling = Vouch | { readonly skipped: "--skip-sampling" | "already recorded" };

/**
 * The light client's verdict a settlement waits for (PROTOCOL.md §16.2): the light node given by
 * --light (the devnet's, with --devnet), else this command's own sampler over the certificate's
 * registry snapshot. Below the target, CELLAR_ERR_CLI_NOT_AVAILABLE and nothing is posted.
 */
export async function sampleBeforeSettling(
  batch: { id: string; certificate?: unknown },
  certificate: Certificate,
  options: SettleWith,
): Promise<Vouch> {
  const deadlineMs = options.samplingDeadline * 1000;
  if (options.light !== undefined)
    return vouchByLightNode({
      light: options.light,
      id: batch.id,
      certificate: batch.certificate,
      target: options.confidence,
      deadlineMs,
    });
  const { root, nodes } = await trustCertificateOf(certificate, options);
  return vouchBySampling({
    root,
    nodes,
    replication: options.replication,
    target: options.confidence,
    deadlineMs,
    timeoutMs: options.timeout * 1000,
    by: "cellar settle",
  });
}

/**
 * A batch recorded already (by anyone) must be this batch under this certificate (PROTOCOL.md
 * §19): same blob count, size and reference block; otherwise CELLAR_ERR_CLI_SETTLED_MISMATCH.
 */
export function checkSettled(
  recorded: { blobCount: number; size: number; reference: bigint },
  batch: { id: string; blobCount: number; size: number },
  reference: bigint,
): void {
  const mismatch = [
    recorded.blobCount !== batch.blobCount && `blob count ${recorded.blobCount}, not ${batch.blobCount}`,
    recorded.size !== batch.size && `size ${recorded.size}, not ${batch.size}`,
    recorded.reference !== reference && `reference block ${recorded.reference}, not the certificate's ${reference}`,
  ].filter((m): m is string => typeof m === "string");
  if (mismatch.length > 0)
    throw new CliError(
      "CELLAR_ERR_CLI_SETTLED_MISMATCH",
      `batch ${batch.id} is recorded on L1 with ${mismatch.join(", ")}`,
      {
        id: batch.id,
        mismatch,
      },
    );
}

/**
 * `cellar settle ID`: takes the batch's certificate from the disperser, has a light client find the
 * batch available at the target confidence (unless --skip-sampling, said as a warning), then posts
 * root, blob count, size and certificate to the L1 inbox, which checks the certificate on chain. A
 * batch the inbox already holds is not posted again: its recording transaction is reported.
 */
export async function settleCommand(id: string, options: SettleWith, io: Io): Promise<void> {
  const rpcUrl = options.rpc as string;
  const inbox = options.inbox as Address;
  const client = new DisperserClient(options.disperser);
  let batch: Awaited<ReturnType<DisperserClient["status"]>>;
  try {
    batch = await client.status(id);
  } finally {
    await client.close();
  }
  if (batch.status !== "certified" || !batch.certificate)
    throw new CliError("CELLAR_ERR_CLI_INPUT", `batch ${batch.id} is not certified (status: ${batch.status})`, {
      id: batch.id,
      status: batch.status,
    });
  const root = fromHex(batch.root, 32, "root");
  const certificate = parseCertificate(batch.certificate);

  let result: { txHash: string; blockNumber: bigint; gasUsed?: bigint; alreadyRecorded: boolean };
  let sampling: SettleSampling;
  const recorded = await recordedBatch({ rpcUrl, inbox, root });
  if (recorded) {
    sampling = { skipped: "already recorded" };
    checkSettled(recorded, { id: batch.id, blobCount: batch.blobs.length, size: batch.size }, certificate.reference);
    const events = await postedBatches({
      rpcUrl,
      inbox,
      fromBlock: recorded.blockNumber,
      toBlock: recorded.blockNumber,
    });
    const event = events.find((e) => Buffer.from(e.root).equals(root));
    result = { txHash: event?.txHash ?? "", blockNumber: recorded.blockNumber, alreadyRecorded: true };
  } else {
    if (options.skipSampling) {
      sampling = { skipped: "--skip-sampling" };
      io.stderr.write(
        `warning: settling batch ${batch.id} without sampling it first (--skip-sampling): nothing here checked that its data can be had\n`,
      );
    } else sampling = await sampleBeforeSettling(batch, certificate, options);
    const mined = await settleBatch({
      rpcUrl,
      privateKey: options.privateKey as `0x${string}`,
      inbox,
      root,
      blobsRoot: blobsRoot(batch.blobs.map((b) => fromHex(b.versionedHash, 32, "versionedHash"))),
      blobCount: batch.blobs.length,
      size: batch.size,
      certificate,
    });
    result = { ...mined, alreadyRecorded: false };
  }
  const summary = {
    id: batch.id,
    root: batch.root,
    inbox,
    txHash: result.txHash,
    blockNumber: Number(result.blockNumber),
    ...(result.gasUsed === undefined ? {} : { gasUsed: Number(result.gasUsed) }),
    alreadyRecorded: result.alreadyRecorded,
    signers: signersOf(certificate.signerBitmap).length,
    sampling,
  };
  if (options.json) {
    printJson(io, summary);
    return;
  }
  io.stdout.write(
    [
      `${result.alreadyRecorded ? "already settled" : "settled"}: batch ${batch.id}`,
      `sampled      ${"by" in sampling ? `by ${sampling.by}: confidence ${sampling.confidence} (target ${sampling.target}) from ${sampling.samples} columns` : `not sampled (${sampling.skipped})`}`,
      `root         ${batch.root}`,
      `inbox        ${inbox}`,
      `tx           ${result.txHash}`,
      `block        ${summary.blockNumber}`,
      ...(summary.gasUsed === undefined ? [] : [`gas          ${summary.gasUsed}`]),
      "",
    ].join("\n"),
  );
}
