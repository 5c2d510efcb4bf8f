import { DisperserClient } from "@cellar/client";
import { blobsRoot } from "@cellar/codec";
import { type Address, postedBatches, recordedBatch, settleBatch } from "@cellar/l1";
import { type Certificate, parseCertificate, signersOf } from "@cellar/protocol";
import { fromHex } from "@cellar/utils";
import { CliError } from "../errors.js";
import { type Io, printJson } from "../output.js";
import { type Vouch, vouchByLightNode, vouchBySampling } from "../vouch.js";
import { type CertificateTrustFlags, trustCertificateOf } from "./sample.js";

export interface SettleOptions extends CertificateTrustFlags {
  readonly disperser: string;
  readonly rpc?: string;
  readonly privateKey?: string;
  /** A light node to ask for its verdict; without it, this command samples itself. */
  readonly light?: string;
  readonly confidence: number;
  readonly samplingDeadline: number;
  readonly timeout: number;
  readonly skipSampling: boolean;
  readonly json: boolean;
}

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
  options: SettleOptions,
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
export async function settleCommand(id: string, options: SettleOptions, io: Io): Promise<void> {
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
