import { availableParallelism } from "node:os";
import { rootFromBatchId } from "@cellar/codec";
import { CellarError } from "@cellar/utils";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { benchCommand, parseMib, parseReportPath, parseWorkerList } from "./commands/bench.js";
import { decodeCommand } from "./commands/decode.js";
import { demoCommand } from "./commands/demo.js";
import { devnetCommand } from "./commands/devnet.js";
import { disperserCommand } from "./commands/disperser.js";
import { encodeCommand } from "./commands/encode.js";
import { encoderCommand } from "./commands/encoder.js";
import { keygenCommand } from "./commands/keygen.js";
import {
  l1DeployCommand,
  l1DeregisterCommand,
  l1NodesCommand,
  l1RegisterCommand,
  l1WithdrawCommand,
} from "./commands/l1.js";
import { nodeCommand } from "./commands/node.js";
import { getCommand, postCommand } from "./commands/post.js";
import { lightCommand, sampleCommand } from "./commands/sample.js";
import { settleCommand } from "./commands/settle.js";
import type { NodeSetFlags } from "./config.js";
import { withDevnet } from "./devnet/use-devnet.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./errors.js";
import {
  chainIdOption,
  collectKeys,
  devnetOption,
  disperserOption,
  headersTimeoutOption,
  hostOption,
  inboxOption,
  logLevelOption,
  maxConnectionsOption,
  nodesOption,
  portOption,
  positiveInt,
  privateKeyOption,
  rateLimitOption,
  registryOption,
  replicationOption,
  requestTimeoutOption,
  rpcOption,
} from "./options.js";
import { describeError, type Io, printJson } from "./output.js";

export const VERSION = "0.1.0";

/** A duration: seconds, or a number with s, m, h or d ("14d"); 0 means forever where allowed. */
function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a non-negative integer");
  return n;
}

/** A batch id or root is checked before any network call: a usage error otherwise. */
function validateId(cmd: Command, id: string): void {
  try {
    rootFromBatchId(id);
  } catch (err) {
    cmd.error(`${cmd.name()}: ${(err as Error).message}`, { exitCode: EXIT_USAGE });
  }
}

export function parseDuration(value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError("must be a duration such as 3600, 90m, 12h or 14d");
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError("must be a fraction in (0, 1]");
  return n;
}

function openFraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError("must be a number strictly between 0 and 1");
  return n;
}

/** An OP alt-DA DA-layer byte: the spec allows [0, 127). */
function daLayerByte(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 126)
    throw new InvalidArgumentError(
      "must be a DA-layer byte in 0..126 (0x00..0x7e), as the OP Stack alt-DA spec allows",
    );
  return n;
}

const concurrencyOption = () =>
  new Option("--concurrency <n>", `blobs processed at once (default: ${availableParallelism()}, the core count)`)
    .argParser(positiveInt)
    .env("CELLAR_CONCURRENCY");

/** A server or sampler needs --nodes or --registry (with --rpc): usage error (exit 2) otherwise. */
async function needNodeSet<T extends NodeSetFlags>(options: T, command: Command): Promise<T> {
  if (options.nodes === undefined && options.registry === undefined)
    command.error(`${command.name()} needs a node set: --nodes FILE, or --rpc URL --registry ADDRESS`, {
      exitCode: EXIT_USAGE,
    });
  if (options.registry !== undefined && options.rpc === undefined)
    command.error(`${command.name()}: --registry needs --rpc URL`, { exitCode: EXIT_USAGE });
  return options;
}

function buildProgram(io: Io, run: (work: Promise<void>) => void): Command {
  const program = new Command("cellar")
    .description("Cellar: a data availability layer of KZG-committed, erasure-coded blobs")
    .version(VERSION)
    .option("--verbose", "print stack traces with errors")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`cellar: ${s.replace(/^error: /, "")}`),
    })
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("encode")
    .description("erasure-code a batch into a manifest and 128 column files, offline")
    .argument("<file>", "the batch bytes, or - for standard input")
    .requiredOption("-o, --out <dir>", "directory to write manifest.json and columns/<c>.bin into")
    .addOption(
      new Option("--compress <algorithm>", "compress the batch before encoding")
        .choices(["none", "brotli"])
        .default("none"),
    )
    .option("--force", "replace a non-empty output directory", false)
    .option("--json", "print a machine-readable summary", false)
    .addOption(concurrencyOption())
    .addHelpText(
      "after",
      `
Examples:
  $ cellar encode batch.bin -o batch/            write batch/manifest.json and batch/columns/0..127.bin
  $ cat batch.bin | cellar encode - -o batch/    read the batch from standard input
  $ cellar encode batch.bin -o batch/ --json     print {id, root, size, blobs, ...} as JSON`,
    )
    .action((file: string, opts) => run(encodeCommand(file, opts, io)));

  program
    .command("decode")
    .description("rebuild a batch from any 64 or more column files, verifying every cell it uses")
    .argument("<dir>", "a directory written by cellar encode")
    .requiredOption("-o, --out <file>", "where to write the batch, or - for standard output")
    .option("--skip-bad", "drop damaged column files and columns with failing cells instead of failing", false)
    .option("--json", "print a machine-readable summary", false)
    .addOption(concurrencyOption())
    .addHelpText(
      "after",
      `
Examples:
  $ cellar decode batch/ -o batch.bin            rebuild; any 64 column files may be missing
  $ cellar decode batch/ -o - > batch.bin        write the batch to standard output
  $ cellar decode batch/ -o out.bin --skip-bad   tolerate damaged column files while 64 good ones remain`,
    )
    .action((dir: string, opts) => run(decodeCommand(dir, opts, io)));

  program
    .command("node")
    .description("run a storage node: verify, store and attest custody columns, serve cells")
    .addOption(new Option("--data <dir>", "data directory (key, LMDB store)").env("CELLAR_DATA").makeOptionMandatory())
    .addOption(hostOption())
    .addOption(portOption(7100))
    .addOption(new Option("--key <file>", "BLS key file to use instead of DIR/node.key").env("CELLAR_KEY"))
    .addOption(nodesOption(" (default: this node alone); SIGHUP reloads it"))
    .addOption(rpcOption())
    .addOption(registryOption())
    .addOption(replicationOption())
    .addOption(chainIdOption("attestations are"))
    .addOption(inboxOption("attestations are"))
    .addOption(new Option("--max-blobs <n>", "largest batch accepted, in blobs").argParser(positiveInt).default(256))
    .addOption(
      new Option("--retention <duration>", "prune batches older than this (0: keep all)")
        .argParser(parseDuration)
        .default(14 * 86400, "14d"),
    )
    .addOption(
      new Option("--scrub-rate <cells>", "cells re-verified per second by the background scrub")
        .argParser(positiveInt)
        .default(2000),
    )
    .addOption(
      new Option("--disperser-key <hex>", "BLS public key of a disperser whose dispersals are accepted (repeatable)")
        .env("CELLAR_DISPERSER_KEYS")
        .argParser(collectKeys),
    )
    .addOption(
      new Option("--disperser-quota <bytes>", "bytes one disperser may keep on this node")
        .argParser(positiveInt)
        .default(16 * 1024 ** 3, "16 GiB"),
    )
    .addOption(rateLimitOption())
    .addOption(maxConnectionsOption())
    .addOption(requestTimeoutOption())
    .addOption(headersTimeoutOption())
    .addOption(logLevelOption())
    .option("--json", "print the ready line as JSON", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar node --data ./node1                               a one-node network on 127.0.0.1:7100
  $ cellar node --data ./node1 --port 7101 --nodes nodes.json a node of a registered set
  $ cellar node --data ./node1 --rpc http://127.0.0.1:8545 --registry 0x… --chain-id 31337 --inbox 0x…
                                                             node set from the L1 registry, followed live
  $ CELLAR_DATA=./node1 cellar node --json                   configuration from the environment

Logs go to stderr as JSON lines; metrics are at GET /metrics.`,
    )
    .action((opts) => run(nodeCommand(opts, io)));

  program
    .command("disperser")
    .description(
      "run the disperser: encode posted batches, disperse to storage nodes, certify, serve reads and OP alt-DA",
    )
    .addOption(nodesOption("; SIGHUP reloads it"))
    .addOption(rpcOption())
    .addOption(registryOption())
    .addOption(hostOption())
    .addOption(portOption(7000))
    .addOption(replicationOption())
    .addOption(
      new Option("--quorum <fraction>", "share of registered nodes a certificate needs")
        .argParser(fraction)
        .default(2 / 3, "2/3"),
    )
    .addOption(chainIdOption("attestations are"))
    .addOption(inboxOption("attestations are"))
    .addOption(
      new Option("--max-batch-bytes <n>", "largest batch accepted")
        .argParser(positiveInt)
        .default(32 * 1024 * 1024, "32 MiB"),
    )
    .addOption(
      new Option("--da-layer-byte <n>", "DA-layer byte of OP alt-DA generic commitments")
        .argParser(daLayerByte)
        .default(0x43, "0x43"),
    )
    .addOption(
      new Option("--node-timeout <seconds>", "per-request timeout towards storage nodes")
        .argParser(positiveInt)
        .default(10),
    )
    .addOption(
      new Option("--deadline <seconds>", "longest wait for a quorum before answering 503")
        .argParser(positiveInt)
        .default(30),
    )
    .addOption(new Option("--light <url...>", "light nodes to register every certified batch with").env("CELLAR_LIGHT"))
    .addOption(
      new Option("--key <file>", "BLS key file dispersals are signed with (default DIR/disperser.key with --data)").env(
        "CELLAR_KEY",
      ),
    )
    .addOption(
      new Option("--data <dir>", "directory of the durable batch store (statuses, certificates)").env("CELLAR_DATA"),
    )
    .addOption(
      new Option(
        "--store <lmdb|postgres://…>",
        "where statuses and certificates are kept: lmdb (in --data) or a PostgreSQL URL shared by replicas",
      )
        .argParser(storeArg)
        .env("CELLAR_STORE")
        .default("lmdb"),
    )
    .addOption(
      new Option(
        "--claim-lease <seconds>",
        "with --store postgres: how long a replica's hold on a batch lasts unless renewed",
      )
        .argParser(positiveInt)
        .default(15),
    )
    .addOption(
      new Option(
        "--public-url <url>",
        "where encoders reach this replica for blobs and results (default: the listening URL)",
      ).env("CELLAR_PUBLIC_URL"),
    )
    .addOption(
      new Option("--retention <duration>", "forget batches older than this (0: keep all)")
        .argParser(parseDuration)
        .default(0, "0"),
    )
    .option(
      "--sample-before-commit",
      "alt-DA /put answers only once a light client (--light, else this disperser) sampled the batch",
      false,
    )
    .addOption(
      new Option("--availability-deadline <seconds>", "longest wait for sampling before 503")
        .argParser(positiveInt)
        .default(60),
    )
    .addOption(
      new Option("--cache <MiB>", "recently posted or read batches kept in memory for reads (0: none)")
        .argParser(nonNegative)
        .default(256),
    )
    .addOption(
      new Option("--posts-per-minute <n>", "posts one client address may make per minute")
        .argParser(positiveInt)
        .default(60),
    )
    .addOption(rateLimitOption())
    .addOption(maxConnectionsOption())
    .addOption(requestTimeoutOption())
    .addOption(headersTimeoutOption())
    .addOption(logLevelOption())
    .option("--json", "print the ready line as JSON", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar disperser --nodes nodes.json                 rollup API on 127.0.0.1:7000
  $ cellar disperser --nodes nodes.json --quorum 0.75   stricter certificates
  $ cellar disperser --rpc http://127.0.0.1:8545 --registry 0x… --chain-id 31337 --inbox 0x…
                                                        node set from the L1 registry
  $ cellar disperser --nodes nodes.json --store postgres://cellar@db:5432/cellar --port 7001
                                                        one of several replicas on one database

OP Stack: run op-node/op-batcher with --altda.enabled --altda.da-service
  --altda.da-server=http://127.0.0.1:7000 (generic commitments 0x01 || 0x43 || root).`,
    )
    .action((opts, cmd: Command) => run(needNodeSet(opts, cmd).then(() => disperserCommand(opts, io))));

  program
    .command("encoder")
    .description("run an encoder: take blob-encoding jobs from the disperser replicas through their database")
    .addOption(
      new Option("--store <postgres://…>", "the replicas' PostgreSQL database")
        .argParser(postgresArg)
        .env("CELLAR_STORE")
        .makeOptionMandatory(),
    )
    .addOption(new Option("--key <file>", "BLS key file the encoder signs its requests with").env("CELLAR_KEY"))
    .addOption(new Option("--slots <n>", "blobs encoded at once (one core each)").argParser(positiveInt).default(1))
    .addOption(
      new Option("--lease <seconds>", "how long a job is this encoder's before another may redo it")
        .argParser(positiveInt)
        .default(10),
    )
    .addOption(hostOption())
    .addOption(portOption(7300))
    .addOption(logLevelOption())
    .option("--json", "print the ready line as JSON", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar encoder --store postgres://cellar@db:5432/cellar              one slot, /metrics on :7300
  $ cellar encoder --store postgres://cellar@db:5432/cellar --slots 4    a 4-core machine

Jobs are leased from the database; each blob and result goes over HTTP to the replica that
posted it, signed with the encoder's key. Logs go to stderr as JSON lines.`,
    )
    .action((opts) => run(encoderCommand(opts, io)));

  program
    .command("post")
    .description("post a batch to a disperser and print its id, root, blobs and certificate")
    .argument("<file>", "the batch bytes, or - for standard input")
    .addOption(disperserOption())
    .addOption(devnetOption())
    .option("--json", "print the answer as JSON", false)
    .option("-q, --quiet", "print only the batch id (for scripts: ID=$(cellar post batch.bin -q))", false)
    .option("--wait-available", "answer only once a light client has sampled the batch to its target", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar post batch.bin --devnet devnet/devnet.json
  $ ID=$(cellar post batch.bin --quiet --devnet devnet/devnet.json)
  $ cellar post - --json --disperser http://127.0.0.1:7000 < batch.bin
  $ cellar post batch.bin --wait-available --json    certified, then sampled by the light node`,
    )
    .action((file: string, opts, cmd: Command) => run(withDevnet(opts, cmd).then((o) => postCommand(file, o, io))));

  program
    .command("get")
    .description("fetch a batch's exact bytes, rebuilt from the storage nodes by the disperser")
    .argument("<id>", "batch id (CID) or 0x root")
    .addOption(disperserOption())
    .addOption(devnetOption())
    .option("-o, --out <file>", "where to write the bytes (- for standard output)", "-")
    .option("--json", "print {id, size, out, sha256} as JSON (needs -o FILE)", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar get bafkrwi... -o batch.bin --devnet devnet/devnet.json
  $ cellar get 0x<root> --disperser http://127.0.0.1:7000 > batch.bin
  $ cellar get bafkrwi... -o batch.bin --json`,
    )
    .action((id: string, opts, cmd: Command) => {
      if (opts.json && opts.out === "-")
        cmd.error("get: --json prints the summary on stdout, so the bytes need -o FILE", { exitCode: EXIT_USAGE });
      validateId(cmd, id);
      return run(withDevnet(opts, cmd).then((o) => getCommand(id, o, io)));
    });

  program
    .command("sample")
    .description("sample a batch from the storage nodes; exit 0 once the target confidence is reached")
    .argument("<id>", "batch id (CID) or 0x root: the root you trust")
    .addOption(nodesOption(" (default: the devnet's)"))
    .addOption(rpcOption())
    .addOption(registryOption())
    .addOption(devnetOption())
    .addOption(
      new Option("--confidence <x>", "target confidence").argParser(openFraction).default(1 - 1e-6, "1 - 1e-6"),
    )
    .option(
      "--certificate <file>",
      "trust the root only if this certificate (or post --json output) verifies against the node set",
    )
    .addOption(chainIdOption("the certificate is"))
    .addOption(inboxOption("the certificate is (with --rpc: the root must be recorded by it)"))
    .addOption(replicationOption())
    .addOption(
      new Option("--timeout <seconds>", "per-request timeout towards each node").argParser(positiveInt).default(5),
    )
    .option("--json", "print {available, confidence, samples, verified, failed, …} as JSON", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar sample bafkrwi... --devnet devnet/devnet.json
  $ cellar sample bafkrwi... --nodes nodes.json --confidence 0.999999999 --json
  $ cellar post batch.bin --json > posted.json && cellar sample $(jq -r .id posted.json) --nodes nodes.json --certificate posted.json`,
    )
    .action((id: string, opts, cmd: Command) =>
      run(
        Promise.resolve(validateId(cmd, id))
          .then(() => withDevnet(opts, cmd))
          .then((o) => needNodeSet(o, cmd))
          .then((o) => sampleCommand(id, o, io)),
      ),
    );

  program
    .command("light")
    .description("run a light node: sample the batches registered with it, serve their availability")
    .addOption(nodesOption())
    .addOption(rpcOption())
    .addOption(registryOption())
    .addOption(hostOption())
    .addOption(portOption(7200))
    .addOption(
      new Option("--confidence <x>", "target confidence").argParser(openFraction).default(1 - 1e-6, "1 - 1e-6"),
    )
    .addOption(chainIdOption("certificates are"))
    .addOption(inboxOption("certificates are (with --rpc: every batch it records is sampled)"))
    .addOption(replicationOption())
    .addOption(
      new Option("--interval <seconds>", "pause between sampling rounds of a batch").argParser(positiveInt).default(60),
    )
    .addOption(
      new Option("--round-deadline <seconds>", "longest one sampling round may take")
        .argParser(positiveInt)
        .default(60),
    )
    .addOption(rateLimitOption())
    .addOption(maxConnectionsOption())
    .addOption(requestTimeoutOption())
    .addOption(headersTimeoutOption())
    .addOption(logLevelOption())
    .option("--json", "print the ready line as JSON", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar light --nodes nodes.json
  $ cellar disperser --nodes nodes.json --light http://127.0.0.1:7200   the disperser registers every certified batch
  $ cellar light --rpc http://127.0.0.1:8545 --registry 0x… --inbox 0x…   samples every batch settled on L1

API: PUT /v1/batches/:id {certificate}; GET /v1/batches/:id/availability; /healthz; /metrics.`,
    )
    .action((opts, cmd: Command) => run(needNodeSet(opts, cmd).then(() => lightCommand(opts, io))));

  program
    .command("settle")
    .description("post a certified batch's root and certificate to the L1 inbox, which checks it on chain")
    .argument("<id>", "batch id (CID) or 0x root, as the disperser knows it")
    .addOption(disperserOption())
    .addOption(rpcOption())
    .addOption(new Option("--inbox <address>", "the L1 inbox contract").env("CELLAR_INBOX"))
    .addOption(privateKeyOption())
    .addOption(devnetOption())
    .option("--json", "print {txHash, blockNumber, gasUsed, alreadyRecorded, …} as JSON", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar settle bafkrwi... --devnet devnet/devnet.json
  $ cellar settle 0x<root> --rpc http://127.0.0.1:8545 --inbox 0x… --private-key 0x… --json

A batch the inbox already recorded is not posted again: its transaction is reported.`,
    )
    .action((id: string, opts, cmd: Command) =>
      run(
        Promise.resolve(validateId(cmd, id))
          .then(() => withDevnet(opts, cmd, ["rpc", "inbox", "privateKey"]))
          .then((o) => settleCommand(id, o, io)),
      ),
    );

  const l1 = program
    .command("l1")
    .description("the L1 contracts: deploy them, register or take out a storage node, list the registry");
  const l1Common = (cmd: Command, write: boolean) => {
    cmd.addOption(rpcOption()).addOption(devnetOption()).option("--json", "print the answer as JSON", false);
    if (write) cmd.addOption(privateKeyOption());
    return cmd;
  };
  l1Common(
    l1
      .command("deploy")
      .description("deploy a node registry (unless --registry names one) and a batch inbox bound to it")
      .addOption(new Option("--registry <address>", "bind the inbox to this existing registry"))
      .addOption(new Option("--quorum <fraction>", "share of the snapshot's stake a certificate needs").default("2/3"))
      .option("--minimum-stake <wei>", "the least bond of a node or disperser, in wei", "1000000000000000000")
      .option("--unbonding-blocks <n>", "blocks between leaving and withdrawing", "151200")
      .option("--reference-window <n>", "how many blocks old a certificate's reference may be", "7200")
      .option("--permissioned", "only allow-listed operators may register (on top of the bond)", false)
      .addHelpText(
        "after",
        `
Examples:
  $ cellar l1 deploy --rpc http://127.0.0.1:8545 --private-key 0x…
  $ cellar l1 deploy --rpc http://127.0.0.1:8545 --private-key 0x… --registry 0x… --quorum 3/4 --json`,
      ),
    true,
  ).action((opts, cmd: Command) =>
    run(withDevnet(opts, cmd, ["rpc", "privateKey"]).then((o) => l1DeployCommand(o, io))),
  );
  l1Common(
    l1
      .command("register")
      .description("register a storage node's BLS key (checked on chain with its proof of possession) and URL")
      .requiredOption("--key <file>", "the node's key file (cellar keygen, or DIR/node.key of a node)")
      .requiredOption("--url <url>", "the URL the node serves on")
      .option("--stake <wei>", "the bond, in wei (default: the registry's minimum)")
      .addOption(registryOption())
      .addHelpText(
        "after",
        `
Examples:
  $ cellar keygen -o node1.key
  $ cellar l1 register --key node1.key --url http://10.0.0.5:7100 --rpc http://127.0.0.1:8545 --registry 0x… --private-key 0x…`,
      ),
    true,
  ).action((opts, cmd: Command) =>
    run(withDevnet(opts, cmd, ["rpc", "registry", "privateKey"]).then((o) => l1RegisterCommand(o, io))),
  );
  l1Common(
    l1
      .command("deregister")
      .description(
        "take a node out of the active set (the account that registered it only) and start its unbonding; its index stays reserved",
      )
      .argument("<index>", "the node's registry index", (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a registry index (0, 1, …)");
        return n;
      })
      .addOption(registryOption())
      .addHelpText("after", "\nExample:\n  $ cellar l1 deregister 3 --devnet devnet/devnet.json"),
    true,
  ).action((index: number, opts, cmd: Command) =>
    run(withDevnet(opts, cmd, ["rpc", "registry", "privateKey"]).then((o) => l1DeregisterCommand(index, o, io))),
  );
  l1Common(
    l1
      .command("withdraw")
      .description("pay a left node's bond back to its operator once the unbonding delay has passed")
      .argument("<index>", "the node's registry index", (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a registry index (0, 1, …)");
        return n;
      })
      .addOption(registryOption())
      .addHelpText("after", "\nExample:\n  $ cellar l1 withdraw 3 --devnet devnet/devnet.json"),
    true,
  ).action((index: number, opts, cmd: Command) =>
    run(withDevnet(opts, cmd, ["rpc", "registry", "privateKey"]).then((o) => l1WithdrawCommand(index, o, io))),
  );
  l1Common(
    l1
      .command("nodes")
      .description("list every registry slot in order: index, active, URL, key, node id, operator")
      .addOption(registryOption())
      .addHelpText(
        "after",
        "\nExamples:\n  $ cellar l1 nodes --devnet devnet/devnet.json\n  $ cellar l1 nodes --rpc http://127.0.0.1:8545 --registry 0x… --json",
      ),
    false,
  ).action((opts, cmd: Command) => run(withDevnet(opts, cmd, ["rpc", "registry"]).then((o) => l1NodesCommand(o, io))));

  program
    .command("devnet")
    .description(
      "run a local network until Ctrl-C: anvil with the contracts, N registered storage nodes, a disperser and a light node",
    )
    .addOption(
      new Option("--nodes <n>", "storage nodes to run").argParser(positiveInt).default(8).env("CELLAR_DEVNET_NODES"),
    )
    .addOption(
      new Option("--dir <dir>", "where keys, stores, logs and devnet.json go (new, empty or a stopped devnet's)")
        .default("devnet")
        .env("CELLAR_DEVNET_DIR"),
    )
    .addOption(
      new Option("--store <kind>", "the disperser's store: its own LMDB, or a PostgreSQL the devnet starts")
        .choices(["lmdb", "postgres"])
        .default("lmdb"),
    )
    .addOption(
      new Option("--replicas <n>", "disperser replicas on the shared database (needs --store postgres)")
        .argParser(positiveInt)
        .default(1),
    )
    .addOption(
      new Option("--encoders <n>", "cellar encoder processes for the replicas' blobs (needs --store postgres)")
        .argParser(nonNegativeCount)
        .default(0),
    )
    .addOption(logLevelOption())
    .option("--json", "print the devnet (devnet.json plus its path) as one JSON line once ready", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar devnet                               8 nodes; writes devnet/devnet.json
  $ cellar devnet --nodes 4 --dir /tmp/dn       a smaller one elsewhere
  $ cellar devnet --replicas 2 --encoders 2 --store postgres   two replicas, an encoder fleet
  $ cellar post batch.bin --devnet devnet/devnet.json   use it from another terminal

Every process is a child on a free 127.0.0.1 port; SIGINT or SIGTERM stops them all. A node's
"command" in devnet.json restarts it on its port with its data.`,
    )
    .action((opts, cmd: Command) => {
      if (opts.store !== "postgres" && (opts.replicas > 1 || opts.encoders > 0))
        cmd.error("error: --replicas and --encoders share a database: add --store postgres", { exitCode: EXIT_USAGE });
      return run(devnetCommand(opts, io));
    });

  program
    .command("demo")
    .description(
      "the whole flow once on a throwaway devnet: post, certify, sample, settle on L1, kill a third of the nodes, read back",
    )
    .addOption(
      new Option("--nodes <n>", "storage nodes to run").argParser(positiveInt).default(8).env("CELLAR_DEMO_NODES"),
    )
    .addOption(
      new Option("--mib <n>", "size of the generated batch in MiB")
        .argParser(parseMib)
        .default(3)
        .env("CELLAR_DEMO_MIB"),
    )
    .option("--json", "print the report {ok, steps: [{step, seconds, summary, details}], …} as JSON", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar demo                      8 nodes, a 3 MiB batch; a line per step with its time
  $ cellar demo --nodes 4 --mib 1    smaller and quicker
  $ cellar demo --json               the report as JSON

Exit 0 when every step held; the devnet and its directory are removed either way.`,
    )
    .action((opts) => run(demoCommand(opts, io)));

  program
    .command("keygen")
    .description("create a BLS key file (mode 0600) and print its public key, node id and (bound) proof of possession")
    .requiredOption("-o, --out <file>", "where to write the key; an existing file is never overwritten")
    .option("--operator <address>", "the account that will register the key (binds the proof of possession)")
    .option("--chain-id <id>", "the chain of the registry (binds the proof of possession)")
    .option("--registry <address>", "the registry contract (binds the proof of possession)")
    .option("--json", "print a machine-readable summary", false)
    .addHelpText(
      "after",
      "\nExamples:\n  $ cellar keygen -o node1.key --json\n  $ cellar keygen -o node1.key --operator 0x… --chain-id 31337 --registry 0x… --json",
    )
    .action((opts) => run(keygenCommand(opts, io)));

  program
    .command("bench")
    .description("measure encoding throughput on this machine: MB/s against workers, beside the raw KZG floor")
    .option(
      "--mib <n>",
      "batch size in MiB (default: 12 full blobs, rounded to a multiple of the worker counts; 4 with --quick)",
      parseMib,
    )
    .option(
      "--workers <list>",
      `worker counts, such as 1,2,4 or 1-4 (default: 1 to the core count, ${availableParallelism()})`,
      parseWorkerList,
    )
    .option(
      "--runs <n>",
      "timed runs per setting; figures are their median (default: 3, or 2 with --quick)",
      positiveInt,
    )
    .option("--quick", "a small batch, 1 warm-up and 2 runs: an answer in under a minute", false)
    .option("--json", "print the whole report as JSON", false)
    .option("--out <file>", "also write the report with its chart: .html (page) or .svg (chart)", parseReportPath)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar bench --quick                     a first answer in under a minute
  $ cellar bench --out report.html           the full run, with a chart of MB/s against workers
  $ cellar bench --workers 1,2,4 --mib 8     chosen worker counts and a larger batch
  $ cellar bench --json > bench.json         {results: [{workers, encodeMBps, ...}], reference, ...}`,
    )
    .action((opts) => run(benchCommand(opts, io)));

  return program;
}

/**
 * Runs the CLI with `argv` (without the node and script entries) and resolves to the exit code.
 * Errors become one line on stderr (with a stack under --verbose); nothing throws out of here.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  // With --json, a failure is one JSON object on stdout too: {"error": {"code", "message"}}.
  const json = argv.includes("--json");
  const fail = (code: string, message: string) => {
    if (json) printJson(io, { error: { code, message } });
  };
  let work: Promise<void> | undefined;
  const program = buildProgram(io, (w) => {
    work = w;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    if (work) await work;
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed usage errors on stderr.
      if (err.exitCode === 0) return EXIT_OK;
      fail("CELLAR_ERR_CLI_USAGE", err.message.replace(/^error: /, ""));
      return EXIT_USAGE;
    }
    fail(
      err instanceof CellarError ? err.code : "CELLAR_ERR_CLI_FAILED",
      err instanceof Error ? err.message : String(err),
    );
    io.stderr.write(`cellar: ${describeError(err)}\n`);
    if (program.opts().verbose && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return EXIT_FAILURE;
  }
}

/** `lmdb`, or a `postgres://` / `postgresql://` URL. */
function storeArg(value: string): string {
  if (value === "lmdb" || /^postgres(ql)?:\/\/\S+$/.test(value)) return value;
  throw new InvalidArgumentError("expected lmdb or a postgres://… URL");
}

/** A count that may be zero. */
function nonNegativeCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected an integer >= 0");
  return n;
}

/** A `postgres://` / `postgresql://` URL. */
function postgresArg(value: string): string {
  if (value === "lmdb") throw new InvalidArgumentError("expected a postgres://… URL");
  return storeArg(value);
}
