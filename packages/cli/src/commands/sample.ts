import { readFile } from "node:fs/promises";
import { NodeClient } from "@cellar/client";
import { rootFromBatchId } from "@cellar/codec";
import { sharedKzg } from "@cellar/kzg";
import { LightNode, sampleBatch, trustCertificate } from "@cellar/light";
import { parseCertificate } from "@cellar/protocol";
import { bytesEqual, fromHex } from "@cellar/utils";
import pino from "pino";
import { parseChainId, readNodeSetFile } from "../config.js";
import { CliError } from "../errors.js";
import { type Io, printJson, progressBar } from "../output.js";

export interface SampleCommandOptions {
  readonly nodes: string;
  readonly confidence: number;
  readonly certificate?: string;
  readonly chainId: string;
  readonly inbox: string;
  readonly replication: number;
  readonly timeout: number;
  readonly json: boolean;
}

/**
 * `cellar sample ID`: one sampling round against the storage nodes. The root comes from the id
 * the user gives (or from a certificate file, checked against the node set's keys); the manifest
 * is checked against it. Exit 0 only when the target confidence is reached.
 */
export async function sampleCommand(id: string, options: SampleCommandOptions, io: Io): Promise<void> {
  const nodes = await readNodeSetFile(options.nodes);
  let root = rootFromBatchId(id);
  if (options.certificate !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(options.certificate, "utf8"));
    } catch (err) {
      throw new CliError(
        "CELLAR_ERR_CLI_INPUT",
        `cannot read certificate ${options.certificate}: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    }
    const certificate = parseCertificate((json as { certificate?: unknown }).certificate ?? json);
    const domain = { chainId: parseChainId(options.chainId), inbox: fromHex(options.inbox, 20, "--inbox") };
    const trusted = trustCertificate(certificate, nodes, domain, { replication: options.replication });
    if (!bytesEqual(trusted, root))
      throw new CliError("CELLAR_ERR_CLI_INPUT", "the certificate is for another batch than the id given");
    root = trusted;
  }
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

export interface LightCommandOptions {
  readonly nodes: string;
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

/** `cellar light`: a light node sampling the batches registered with it, until SIGINT/SIGTERM. */
export async function lightCommand(options: LightCommandOptions, io: Io): Promise<void> {
  const logger = pino({ level: options.logLevel, base: { role: "light" } }, pino.destination(2));
  const light = new LightNode(
    {
      nodes: await readNodeSetFile(options.nodes),
      domain: { chainId: parseChainId(options.chainId), inbox: fromHex(options.inbox, 20, "--inbox") },
      replication: options.replication,
      target: options.confidence,
      intervalMs: options.interval * 1000,
    },
    { kzg: sharedKzg({ precompute: false }), logger },
  );
  const url = await light.listen(options.host, options.port);
  io.stdout.write(
    options.json ? `${JSON.stringify({ event: "listening", url })}\n` : `cellar light listening on ${url}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await light.stop();
}
