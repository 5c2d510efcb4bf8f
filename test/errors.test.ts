// One table of every error code the packages export: each is raised by a real call through the
// public path (two, which only a bug could raise, are constructed and say so), and is seen as a
// caller sees it: an in-process call's error by its class, an HTTP answer's code with its
// status, a CLI run's own code (the last `[CODE]` on its `cellar:` line, not a cause's) with its
// exit code. Every code has the CELLAR_ERR_<AREA>_<REASON> shape, and none is left out.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BENCH_ERROR_CODES, BenchError, reportFormatFor, resolveBenchOptions, timeDataRecovery } from "@cellar/bench";
import { CLI_ERROR_CODES, CliError, cellarL1, checkSettled, runDemo, spawnServer } from "@cellar/cli";
import { CLIENT_ERROR_CODES, ClientError, DisperserClient, NodeClient, retrieveBatch } from "@cellar/client";
import {
  batchIdFromRoot,
  buildManifest,
  CODEC_ERROR_CODES,
  CodecError,
  chooseColumns,
  decodeBatch,
  frameBatch,
  manifestToJson,
  packBlobs,
  parseColumn,
  parseManifest,
  readFrameHeader,
  rootFromBatchId,
  unframeBlobs,
} from "@cellar/codec";
import {
  buildDisperserApp,
  DISPERSER_ERROR_CODES,
  Disperser,
  DisperserError,
  decodeAltDaCommitment,
  EncoderFleet,
  MemoryDisperserStore,
  PostgresDisperserStore,
  parseEncoded,
} from "@cellar/disperser";
import { createKzg, KZG_ERROR_CODES, KzgError } from "@cellar/kzg";
import { deployContracts, L1_ERROR_CODES, L1Error, readNodeSet, startAnvil, verifyOpeningOnChain } from "@cellar/l1";
import { LIGHT_ERROR_CODES, LightError, LightNode, sampleBatch, samplesFor, trustCertificate } from "@cellar/light";
import { createErasure, NATIVE_ERROR_CODES, NativeError, sharedErasure } from "@cellar/native";
import { DispersalGuard, NODE_ERROR_CODES, NodeError, readKeyFile, StorageNode } from "@cellar/node";
import { BYTES_PER_BLOB, BYTES_PER_CELL, MAX_BATCH_BYTES } from "@cellar/params";
import {
  buildCertificate,
  buildNodeSet,
  decodeDispersal,
  dispersalAuthHeaders,
  encodeDispersal,
  generateSecretKey,
  PROTOCOL_ERROR_CODES,
  ProtocolError,
  parseDispersalAuth,
  parseNodeSet,
  parsePublicKey,
  proofOfPossession,
  signAttestation,
  signDispersal,
  signEncodeRequest,
} from "@cellar/protocol";
import { createService, resolveLimits, SERVICE_ERROR_CODES, ServiceError, WorkQueue } from "@cellar/service";
import { runCli } from "@cellar/test-utils/cli";
import { nodeSetJson, TEST_CHAIN_ID, TEST_OPERATOR, TEST_REGISTRY } from "@cellar/test-utils/node-set";
import { startPostgres } from "@cellar/test-utils/postgres";
import { CellarError, fromHex, HEX_ERROR_CODES, toHex } from "@cellar/utils";
import pg from "pg";
import { Registry } from "prom-client";
import t from "tap";
import { Agent, request } from "undici";

const kzg = createKzg({ precompute: false });
const erasure = sharedErasure();
const manifest = buildManifest([new Uint8Array(48).fill(0xc0)], 10);
const zeroColumns = Array.from({ length: 64 }, (_, index) => ({
  index,
  cells: [new Uint8Array(BYTES_PER_CELL)],
  proofs: [Uint8Array.of(0xc0, ...new Uint8Array(47))],
}));
const scratch = mkdtempSync(join(tmpdir(), "cellar-errors-"));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

// A storage node for the codes that only exist as HTTP answers.
const peer = generateSecretKey(new Uint8Array(32).fill(7));
const peer2 = generateSecretKey(new Uint8Array(32).fill(8));
const nodeDomain = { chainId: 1n, inbox: new Uint8Array(20) };
const node = new StorageNode(
  { dataDir: join(scratch, "node"), domain: nodeDomain, maxBlobs: 1, dispersers: [peer.toPublicKey().toBytes()] },
  { kzg },
);
await node.start();
t.teardown(() => node.stop());
// A node that lets a disperser keep one byte: any dispersal is over its quota.
const tiny = new StorageNode(
  {
    dataDir: join(scratch, "tiny"),
    domain: nodeDomain,
    disperserQuotaBytes: 1,
    dispersers: [peer.toPublicKey().toBytes()],
  },
  { kzg },
);
await tiny.start();
t.teardown(() => tiny.stop());

/** The authorisation `key` gives for sending `root` to `target` (the node by default). */
const auth = (key = peer, root = manifest.root, target: StorageNode = node, now?: number) =>
  dispersalAuthHeaders(signDispersal(key, nodeDomain, target.identity.nodeId, root, now === undefined ? {} : { now }));

/**
 * A failure as seen from outside the process: the code of a JSON answer with its HTTP status, or
 * of a CLI run with its exit code. Not a CellarError: the class of what the server threw is not
 * visible here, so the row checks what is.
 */
class Answer extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly seen: { readonly status?: number; readonly exit?: number },
  ) {
    super(message);
  }
}

/** A service's `{error: {code, message}}` answer, with its status. */
async function answerOf(res: Awaited<ReturnType<typeof request>>): Promise<Answer> {
  const json = (await res.body.json()) as { error: { code: string; message: string } };
  return new Answer(json.error.code, json.error.message, { status: res.statusCode });
}

/** Sends a request to a node and returns its `{error: {code, message}}` answer, to check here. */
async function httpError(
  method: "GET" | "PUT",
  path: string,
  body?: Uint8Array,
  headers: Record<string, string> = method === "PUT" ? auth() : {},
  url = node.url,
): Promise<never> {
  const res = await request(`${url}${path}`, {
    method,
    ...(body ? { body, headers: { "content-type": "application/octet-stream", ...headers } } : { headers }),
  });
  throw await answerOf(res);
}

/** A server that accepts connections and never answers: for deadlines. */
const silent = createServer(() => {});
await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
t.teardown(() => new Promise<void>((resolve) => silent.close(() => resolve())));
const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
const silentSet = buildNodeSet([{ publicKey: node.identity.publicKey, url: silentUrl }]);

/** A service of the base alone: one budget of a single request, a readiness check that fails. */
const service = createService(
  {
    area: "NODE",
    status: {},
    metrics: new Registry(),
    limits: { rateLimit: { max: 1, windowMs: 60_000 } },
    corsReads: true,
    ready: { store: () => "closed" },
  },
  (app) => {
    app.get("/boom", async () => {
      throw new Error("a bug");
    });
  },
);
const serviceUrl = await service.listen({ host: "127.0.0.1", port: 0 });
t.teardown(() => service.close());
async function serviceError(method: "GET" | "OPTIONS", path: string, headers: Record<string, string> = {}) {
  throw await answerOf(await request(`${serviceUrl}${path}`, { method, headers }));
}
const rootHex = `0x${Buffer.from(manifest.root).toString("hex")}`;
const column = (index: number, blobs = 1) => ({
  index,
  cells: Array.from({ length: blobs }, () => new Uint8Array(BYTES_PER_CELL)),
  proofs: Array.from({ length: blobs }, () => Uint8Array.of(0xc0, ...new Uint8Array(47))),
});
const allColumns = (blobs = 1) => Array.from({ length: 128 }, (_, c) => column(c, blobs));

// A disperser whose only node signs for another chain: every post fails its quorum.
const disperser = new Disperser(
  {
    nodes: buildNodeSet([{ publicKey: node.identity.publicKey, url: node.url }]),
    domain: { chainId: 2n, inbox: new Uint8Array(20) },
    maxBatchBytes: 1024,
    nodeAttempts: 1,
  },
  { kzg, erasure },
);
const disperserApp = buildDisperserApp(disperser);
const disperserUrl = await disperserApp.listen({ host: "127.0.0.1", port: 0 });
t.teardown(async () => {
  await disperserApp.close();
  await disperser.close();
});

/** The disperser's `{error: {code, message}}` answer, to check here. */
async function disperserError(method: "GET", path: string): Promise<never> {
  throw await answerOf(await request(`${disperserUrl}${path}`, { method }));
}

const light = new LightNode(
  {
    nodes: buildNodeSet([{ publicKey: node.identity.publicKey, url: node.url }]),
    domain: { chainId: 1n, inbox: new Uint8Array(20) },
  },
  { kzg },
);
const lightUrl = await light.listen();
t.teardown(() => light.stop());
async function lightError(path: string): Promise<never> {
  throw await answerOf(await request(`${lightUrl}${path}`));
}

type Trigger = () => unknown;
// biome-ignore lint/suspicious/noExplicitAny: error classes with different code unions
type ErrorClass = abstract new (...args: any[]) => CellarError;
// A port nothing listens on: bound, then released.
const closedPort = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address() as AddressInfo;
    probe.close(() => resolve(port));
  });
});

/**
 * A fleet on a real PostgreSQL (started once) with one blob queued for an announced encoder that
 * never takes it; `encoding` is the replica's wait, which fails at its 400 ms deadline.
 */
let postgres: Promise<Awaited<ReturnType<typeof startPostgres>>> | undefined;
async function withQueuedJob(use: (fleet: EncoderFleet, id: string, encoding: Promise<unknown>) => Promise<unknown>) {
  postgres ??= startPostgres().then((server) => {
    t.teardown(() => server.close());
    return server;
  });
  const server = await postgres;
  const store = await PostgresDisperserStore.open({ url: server.url });
  try {
    const fleet = new EncoderFleet(
      { pool: store.pool, publicUrl: "http://127.0.0.1:9", deadlineMs: 400, checkMs: 20 },
      { kzg },
    );
    await store.pool.query(
      "INSERT INTO cellar_encoders (id, slots, seen_at) VALUES ('idle', 1, 9e15) ON CONFLICT DO NOTHING",
    );
    const hash = toHex(new Uint8Array(32).fill(Math.floor(Math.random() * 255)));
    await store.claim(hash, "replica-test", 60_000);
    const encoding = fleet.encodeBlobs([new Uint8Array(BYTES_PER_BLOB)], hash, "replica-test");
    encoding.catch(() => {});
    let id: string | undefined;
    while (!id) {
      const { rows } = await store.pool.query("SELECT id FROM cellar_encode_jobs WHERE payload_hash = $1", [hash]);
      id = rows[0]?.id;
      if (!id) await sleep(10);
    }
    try {
      await use(fleet, id, encoding);
    } finally {
      await encoding.catch(() => {});
    }
  } finally {
    await store.close();
  }
}

/**
 * How a row's failure is seen: an in-process error of a class; an HTTP answer with its status; a
 * CLI run with its exit code; or the code a batch's status record carries.
 */
type Seen = ErrorClass | { readonly status: number } | { readonly exit: number } | "status record";
const table: [code: string, seen: Seen, trigger: Trigger][] = [
  ["CELLAR_ERR_HEX_INVALID", CellarError, () => fromHex("0xz")],
  ["CELLAR_ERR_KZG_INVALID_LENGTH", KzgError, () => kzg.blobToCommitment(new Uint8Array(1))],
  ["CELLAR_ERR_KZG_INVALID_FIELD_ELEMENT", KzgError, () => kzg.computeCells(new Uint8Array(131072).fill(0xff))],
  [
    "CELLAR_ERR_KZG_INVALID_POINT",
    KzgError,
    () =>
      kzg.verifyProof(new Uint8Array(48).fill(1), new Uint8Array(32), new Uint8Array(32), new Uint8Array(48).fill(1)),
  ],
  [
    "CELLAR_ERR_KZG_INVALID_CELL_INDEX",
    KzgError,
    () => kzg.verifyCellProofBatch([new Uint8Array(48)], [-1], [new Uint8Array(2048)], [new Uint8Array(48)]),
  ],
  ["CELLAR_ERR_KZG_MISMATCHED_INPUTS", KzgError, () => kzg.verifyCellProofBatch([], [0], [], [])],
  ["CELLAR_ERR_KZG_RECOVERY", KzgError, () => kzg.recoverCellsAndProofs([0], [new Uint8Array(2048)])],
  // The library refuses to build its context: here from an option that is not a boolean, as a
  // JavaScript caller may pass (packages/kzg/test/validation.test.ts: a setup that cannot load).
  ["CELLAR_ERR_KZG_SETUP", KzgError, () => createKzg({ precompute: "yes" as unknown as boolean })],
  // A library failure the checks do not foresee: a blob behind a Proxy (as reactive UI state
  // wraps typed arrays) passes every check, but the native library cannot read its bytes.
  [
    "CELLAR_ERR_KZG_INTERNAL",
    KzgError,
    () =>
      kzg.blobToCommitment(
        new Proxy(new Uint8Array(131072), {
          get: (target, key) => {
            const value = Reflect.get(target, key);
            return typeof value === "function" ? value.bind(target) : value;
          },
        }),
      ),
  ],
  ["CELLAR_ERR_NATIVE_INVALID_LENGTH", NativeError, () => erasure.computeCells(new Uint8Array(1))],
  [
    "CELLAR_ERR_NATIVE_INVALID_FIELD_ELEMENT",
    NativeError,
    () => erasure.computeCells(new Uint8Array(131072).fill(0xff)),
  ],
  ["CELLAR_ERR_NATIVE_INVALID_CELL_INDEX", NativeError, () => erasure.recoverBlobs([...Array(63).keys(), 200], [])],
  ["CELLAR_ERR_NATIVE_MISMATCHED_INPUTS", NativeError, () => erasure.recoverBlobs([...Array(64).keys()], [[]])],
  ["CELLAR_ERR_NATIVE_NOT_ENOUGH_CELLS", NativeError, () => erasure.recoverBlobs([0], [])],
  [
    "CELLAR_ERR_NATIVE_UNAVAILABLE",
    NativeError,
    () => createErasure({ backend: "native", addonPath: join(tmpdir(), "none", "cellar_native.node") }),
  ],
  // Raised only when the kernel fails in a way the checks rule out (out of memory);
  // native/test/erasure.test.ts raises it through a failing kernel.
  [
    "CELLAR_ERR_NATIVE_INTERNAL",
    NativeError,
    () => {
      throw new NativeError("CELLAR_ERR_NATIVE_INTERNAL", "internal", {});
    },
  ],
  ["CELLAR_ERR_CODEC_TOO_LARGE", CodecError, () => frameBatch({ length: MAX_BATCH_BYTES + 1 } as Uint8Array)],
  ["CELLAR_ERR_CODEC_INVALID_FRAME", CodecError, () => readFrameHeader(new Uint8Array(3))],
  ["CELLAR_ERR_CODEC_INVALID_PACKING", CodecError, () => unframeBlobs(manifest, [new Uint8Array(131072).fill(1)])],
  ["CELLAR_ERR_CODEC_INVALID_MANIFEST", CodecError, () => parseManifest({ version: 1 })],
  ["CELLAR_ERR_CODEC_ROOT_MISMATCH", CodecError, () => parseManifest({ ...manifestToJson(manifest), size: 11 })],
  ["CELLAR_ERR_CODEC_INVALID_ID", CodecError, () => rootFromBatchId(batchIdFromRoot(new Uint8Array(32)).slice(0, -3))],
  ["CELLAR_ERR_CODEC_INVALID_COLUMN", CodecError, () => parseColumn(new Uint8Array(7), 0, 1)],
  ["CELLAR_ERR_CODEC_NOT_ENOUGH_COLUMNS", CodecError, () => chooseColumns([1, 2, 3])],
  [
    "CELLAR_ERR_CODEC_INVALID_CELL",
    CodecError,
    () => decodeBatch(buildManifest([new Uint8Array(48).fill(0x11)], 0), zeroColumns, { kzg, erasure }),
  ],
  [
    "CELLAR_ERR_CODEC_SIZE_MISMATCH",
    CodecError,
    () => unframeBlobs(manifest, packBlobs(frameBatch(new Uint8Array(3)))),
  ],
  [
    "CELLAR_ERR_CLI_INPUT",
    { exit: 1 },
    () => cliError(["encode", join(scratch, "missing.bin"), "-o", join(scratch, "o")]),
  ],
  [
    "CELLAR_ERR_CLI_OUTPUT",
    { exit: 1 },
    () => cliError(["decode", "DIR", "-o", join(scratch, "no", "such", "dir", "f")], true),
  ],
  ["CELLAR_ERR_CLI_OUTPUT_EXISTS", { exit: 1 }, () => cliError(["encode", join(scratch, "x.bin"), "-o", scratch])],
  ["CELLAR_ERR_CLI_BATCH_DIR", { exit: 1 }, () => cliError(["decode", scratch, "-o", join(scratch, "f")])],
  // `cellar node` without --data exits (usage) before its ready line.
  ["CELLAR_ERR_CLI_DEVNET_START", CliError, () => spawnServer({ args: ["node", "--port", "0"] })],
  [
    "CELLAR_ERR_CLI_DEVNET_FILE",
    { exit: 1 },
    () => cliError(["post", join(scratch, "x.bin"), "--devnet", join(scratch, "no-devnet.json")]),
  ],
  // The whole demo on a throwaway devnet whose L1 never reports the batch recorded.
  [
    "CELLAR_ERR_CLI_DEMO_CHECK",
    CliError,
    () => runDemo({ nodes: 1, bytes: 20_000, l1: { ...cellarL1, isRecorded: async () => false } }),
  ],
  [
    "CELLAR_ERR_CLI_SETTLED_MISMATCH",
    CliError,
    () => checkSettled({ blobCount: 1, size: 10, reference: 7n }, { id: "b", blobCount: 1, size: 11 }, 8n),
  ],
  [
    "CELLAR_ERR_CLI_USAGE",
    { exit: 2 },
    async () => {
      // With --json a usage error is also one JSON object on stdout.
      const { code, stdout } = await runCli(["sample", "--json"]);
      const { error } = JSON.parse(stdout) as { error: { code: string; message: string } };
      throw new Answer(error.code, error.message, { exit: code });
    },
  ],
  // What --json prints for a failure that is not a Cellar error: only a bug raises one, since
  // every command wraps what it can fail of in its own code, so it is constructed here;
  // packages/cli/test/cli.test.ts checks the JSON failure contract itself.
  [
    "CELLAR_ERR_CLI_FAILED",
    CliError,
    () => {
      throw new CliError("CELLAR_ERR_CLI_FAILED", "unexpected", {});
    },
  ],
  ["CELLAR_ERR_PROTOCOL_INVALID_KEY", ProtocolError, () => parsePublicKey(new Uint8Array(3))],
  ["CELLAR_ERR_PROTOCOL_INVALID_NODE_SET", ProtocolError, () => parseNodeSet({ nodes: "none" })],
  [
    "CELLAR_ERR_PROTOCOL_INVALID_DOMAIN",
    ProtocolError,
    () => signAttestation(peer, { chainId: 1n, inbox: new Uint8Array(3) }, manifest.root),
  ],
  ["CELLAR_ERR_PROTOCOL_INVALID_DISPERSAL", ProtocolError, () => decodeDispersal(new Uint8Array(2))],
  ["CELLAR_ERR_NODE_BAD_PATH", { status: 400 }, () => httpError("GET", "/v1/batches/0x00/manifest")],
  [
    "CELLAR_ERR_NODE_BAD_BODY",
    { status: 400 },
    () => httpError("PUT", `/v1/batches/${rootHex}/columns`, encodeDispersal(manifest, allColumns(2))),
  ],
  [
    "CELLAR_ERR_NODE_TOO_LARGE",
    { status: 413 },
    () => httpError("PUT", `/v1/batches/${rootHex}/columns`, encodeDispersal(manifest, allColumns(6))),
  ],
  [
    "CELLAR_ERR_NODE_NOT_CUSTODIAN",
    { status: 403 },
    () => {
      // Under a three-node set this node keeps only some columns; send it all of them.
      node.setNodes(
        buildNodeSet([
          { publicKey: node.identity.publicKey, url: node.url },
          { publicKey: peer.toPublicKey().toBytes(), url: "http://127.0.0.1:1" },
          { publicKey: peer2.toPublicKey().toBytes(), url: "http://127.0.0.1:2" },
        ]),
      );
      return httpError("PUT", `/v1/batches/${rootHex}/columns`, encodeDispersal(manifest, allColumns())).finally(() =>
        node.setNodes(buildNodeSet([{ publicKey: node.identity.publicKey, url: node.url }])),
      );
    },
  ],
  [
    "CELLAR_ERR_NODE_INCOMPLETE_CUSTODY",
    { status: 400 },
    () => httpError("PUT", `/v1/batches/${rootHex}/columns`, encodeDispersal(manifest, [column(0)])),
  ],
  [
    "CELLAR_ERR_NODE_INVALID_CELLS",
    { status: 422 },
    () => {
      // Column 0 carries a frame that fits the manifest, so only the proofs are wrong.
      const columns = allColumns();
      const framed = (packBlobs(frameBatch(new Uint8Array(10)))[0] as Uint8Array).subarray(0, BYTES_PER_CELL);
      (columns[0] as { cells: Uint8Array[] }).cells[0] = framed;
      return httpError("PUT", `/v1/batches/${rootHex}/columns`, encodeDispersal(manifest, columns));
    },
  ],
  ["CELLAR_ERR_NODE_NOT_FOUND", { status: 404 }, () => httpError("GET", `/v1/batches/${rootHex}/manifest`)],
  [
    "CELLAR_ERR_NODE_UNAUTHENTICATED",
    { status: 401 },
    () => httpError("PUT", `/v1/batches/${rootHex}/columns`, encodeDispersal(manifest, allColumns()), {}),
  ],
  [
    "CELLAR_ERR_NODE_AUTH_EXPIRED",
    { status: 401 },
    () =>
      httpError(
        "PUT",
        `/v1/batches/${rootHex}/columns`,
        encodeDispersal(manifest, allColumns()),
        auth(peer, manifest.root, node, Date.now() - 3_600_000),
      ),
  ],
  [
    "CELLAR_ERR_NODE_UNKNOWN_DISPERSER",
    { status: 403 },
    () => httpError("PUT", `/v1/batches/${rootHex}/columns`, encodeDispersal(manifest, allColumns()), auth(peer2)),
  ],
  [
    "CELLAR_ERR_NODE_REPLAYED",
    { status: 401 },
    async () => {
      const once = auth();
      const body = encodeDispersal(manifest, [column(0)]);
      await httpError("PUT", `/v1/batches/${rootHex}/columns`, body, once).catch(() => {});
      return httpError("PUT", `/v1/batches/${rootHex}/columns`, body, once);
    },
  ],
  [
    "CELLAR_ERR_NODE_QUOTA_EXCEEDED",
    { status: 429 },
    () =>
      httpError(
        "PUT",
        `/v1/batches/${rootHex}/columns`,
        encodeDispersal(manifest, allColumns()),
        auth(peer, manifest.root, tiny),
        tiny.url,
      ),
  ],
  [
    "CELLAR_ERR_NODE_BUSY",
    NodeError,
    () => {
      // A guard that remembers one live nonce: a second dispersal must wait for it to expire.
      const guard = new DispersalGuard({ domain: nodeDomain, nodeId: node.identity.nodeId, maxNonces: 1 }, [
        peer.toPublicKey().toBytes(),
      ]);
      guard.check(auth(), manifest.root);
      guard.check(auth(), manifest.root);
    },
  ],
  ["CELLAR_ERR_PROTOCOL_INVALID_AUTH", ProtocolError, () => parseDispersalAuth({})],
  [
    "CELLAR_ERR_SERVICE_RATE_LIMITED",
    { status: 429 },
    async () => {
      await request(`${serviceUrl}/boom`).then((r) => r.body.dump());
      return serviceError("GET", "/boom");
    },
  ],
  [
    "CELLAR_ERR_SERVICE_CLIENT_BUSY",
    ServiceError,
    async () => {
      const q = new WorkQueue({ name: "t", concurrency: 1, maxQueued: 4, maxPerClient: 1 });
      const hold = q.run(() => sleep(50), "a");
      await q.run(async () => {}, "a").finally(() => hold);
    },
  ],
  [
    "CELLAR_ERR_SERVICE_BUSY",
    ServiceError,
    async () => {
      const q = new WorkQueue({ name: "t", concurrency: 1, maxQueued: 0 });
      const hold = q.run(() => sleep(50));
      await q.run(async () => {}).finally(() => hold);
    },
  ],
  ["CELLAR_ERR_SERVICE_NOT_READY", { status: 503 }, () => serviceError("GET", "/readyz")],
  [
    "CELLAR_ERR_SERVICE_TIMEOUT",
    { status: 503 },
    async () => {
      // A route that never answers meets the answer backstop.
      const slow = createService(
        { area: "NODE", status: {}, metrics: new Registry(), limits: { responseTimeoutMs: 200 } },
        (app) => {
          app.get("/never", () => new Promise(() => {}));
        },
      );
      const url = await slow.listen({ host: "127.0.0.1", port: 0 });
      try {
        throw await answerOf(await request(`${url}/never`));
      } finally {
        await slow.close();
      }
    },
  ],
  [
    "CELLAR_ERR_SERVICE_CROSS_ORIGIN",
    { status: 403 },
    async () => {
      // From another address: the rate-limit row above spent 127.0.0.1's budget on this service,
      // and the budget is checked before anything else.
      const elsewhere = new Agent({ localAddress: "127.0.0.3" });
      try {
        throw await answerOf(
          await request(`${serviceUrl}/boom`, {
            method: "OPTIONS",
            headers: { origin: "http://example.test", "access-control-request-method": "PUT" },
            dispatcher: elsewhere,
          }),
        );
      } finally {
        await elsewhere.close();
      }
    },
  ],
  ["CELLAR_ERR_SERVICE_CONFIG", ServiceError, () => resolveLimits({ bodyLimit: 0 })],
  [
    "CELLAR_ERR_SERVICE_INTERNAL",
    { status: 500 },
    async () => {
      // A fresh budget: this test's own service, where /boom is a bug.
      const app = createService({ area: "LIGHT", status: {}, metrics: new Registry() }, (a) => {
        a.get("/boom", async () => {
          throw new Error("a bug");
        });
      });
      const url = await app.listen({ host: "127.0.0.1", port: 0 });
      try {
        throw await answerOf(await request(`${url}/boom`));
      } finally {
        await app.close();
      }
    },
  ],
  ["CELLAR_ERR_PROTOCOL_INVALID_CERTIFICATE", ProtocolError, () => buildCertificate(manifest.root, new Map(), 3)],
  ["CELLAR_ERR_CLIENT_HTTP", ClientError, () => new DisperserClient(node.url).status("0x00")],
  [
    "CELLAR_ERR_CLIENT_NETWORK",
    ClientError,
    () => new NodeClient({ attempts: 1 }).http.send("GET", "http://127.0.0.1:1/"),
  ],
  [
    "CELLAR_ERR_CLIENT_TIMEOUT",
    ClientError,
    () => new NodeClient({ attempts: 1, timeoutMs: 100 }).http.send("GET", `${silentUrl}/`),
  ],
  [
    "CELLAR_ERR_CLIENT_TOO_LARGE",
    ClientError,
    () => new NodeClient().http.send("GET", `${node.url}/metrics`, { maxResponseBytes: 100 }),
  ],
  [
    "CELLAR_ERR_CLIENT_DEADLINE",
    ClientError,
    () => retrieveBatch(manifest.root, { nodes: silentSet, client: new NodeClient(), kzg, erasure, deadlineMs: 100 }),
  ],
  [
    "CELLAR_ERR_CLIENT_BAD_RESPONSE",
    ClientError,
    () =>
      new NodeClient().manifest(
        { index: 0, publicKey: new Uint8Array(48), nodeId: new Uint8Array(32), url: `${node.url}/metrics#`, stake: 1n },
        manifest.root,
      ),
  ],
  [
    "CELLAR_ERR_CLIENT_UNAVAILABLE",
    ClientError,
    () =>
      retrieveBatch(manifest.root, {
        nodes: buildNodeSet([{ publicKey: node.identity.publicKey, url: node.url }]),
        client: new NodeClient(),
        kzg,
        erasure,
      }),
  ],
  ["CELLAR_ERR_DISPERSER_BAD_REQUEST", { status: 400 }, () => disperserError("GET", "/v1/batches/nonsense")],
  ["CELLAR_ERR_DISPERSER_TOO_LARGE", DisperserError, () => disperser.post(new Uint8Array(1025))],
  ["CELLAR_ERR_DISPERSER_NO_QUORUM", DisperserError, () => disperser.post(new Uint8Array(10))],
  ["CELLAR_ERR_DISPERSER_NOT_FOUND", DisperserError, () => disperser.status(manifest.root)],
  [
    "CELLAR_ERR_DISPERSER_STORE_UNAVAILABLE",
    DisperserError,
    () => PostgresDisperserStore.open({ url: `postgres://postgres@127.0.0.1:${closedPort}/x`, connectTimeoutMs: 500 }),
  ],
  [
    "CELLAR_ERR_DISPERSER_UNAUTHORIZED",
    DisperserError,
    () => new EncoderFleet({ pool: new pg.Pool() }, { kzg }).blobFor("ab".repeat(16), {}),
  ],
  ["CELLAR_ERR_DISPERSER_BAD_ENCODING", DisperserError, () => parseEncoded(new Uint8Array(10))],
  [
    "CELLAR_ERR_DISPERSER_LEASE_LOST",
    DisperserError,
    () =>
      withQueuedJob(async (fleet, id) => {
        // The job is queued, not leased to this key: its blob is refused.
        const key = generateSecretKey(new Uint8Array(32).fill(3));
        await fleet.blobFor(id, signEncodeRequest(key, "GET", id, new Uint8Array()));
      }),
  ],
  [
    "CELLAR_ERR_DISPERSER_ENCODE_FAILED",
    DisperserError,
    // An encoder is announced but never takes the job: the encode deadline passes.
    () => withQueuedJob(async (_fleet, _id, encoding) => encoding),
  ],
  [
    "CELLAR_ERR_DISPERSER_UNAVAILABLE",
    { status: 404 },
    () => disperserError("GET", `/v1/batches/0x${"ab".repeat(32)}/data`),
  ],
  ["CELLAR_ERR_DISPERSER_BAD_COMMITMENT", DisperserError, () => decodeAltDaCommitment("0x02")],
  [
    "CELLAR_ERR_DISPERSER_NOT_AVAILABLE",
    DisperserError,
    async () => {
      // A batch that is not certified can never be vouched available.
      const store = new MemoryDisperserStore();
      await store.put({
        root: toHex(manifest.root),
        id: manifest.id,
        payloadHash: toHex(new Uint8Array(32)),
        size: manifest.size,
        status: "failed",
        manifest: manifestToJson(manifest),
        createdAt: Date.now(),
        updatedAt: Date.now(),
      });
      const d = new Disperser({ nodes: silentSet, domain: nodeDomain, store }, { kzg, erasure });
      try {
        await d.available(manifest.root);
      } finally {
        await d.close();
      }
    },
  ],
  [
    "CELLAR_ERR_DISPERSER_INTERRUPTED",
    "status record",
    async () => {
      // A batch a dead process left dispersing is reported failed by the next one.
      const store = new MemoryDisperserStore();
      const record = {
        ...manifestToJson(manifest),
        payloadHash: toHex(new Uint8Array(32)),
        status: "dispersing" as const,
        manifest: manifestToJson(manifest),
        createdAt: Date.now(),
        updatedAt: Date.now(),
      };
      await store.put(record);
      const again = new Disperser({ nodes: silentSet, domain: nodeDomain, store }, { kzg, erasure });
      await again.start();
      const error = (await again.status(manifest.root)).error as { code: string; message: string };
      await again.close();
      throw new Answer(error.code, error.message, {});
    },
  ],
  [
    "CELLAR_ERR_DISPERSER_CONFIG",
    DisperserError,
    () => new Disperser({ nodes: [], domain: { chainId: 1n, inbox: new Uint8Array(20) } }, { kzg, erasure }),
  ],
  ["CELLAR_ERR_LIGHT_INVALID_TARGET", LightError, () => samplesFor(2)],
  [
    "CELLAR_ERR_LIGHT_UNTRUSTED_ROOT",
    LightError,
    () =>
      trustCertificate(
        { root: manifest.root, reference: 0n, signerBitmap: new Uint8Array(1), signature: new Uint8Array(96) },
        buildNodeSet([{ publicKey: node.identity.publicKey, url: node.url }]),
        { chainId: 1n, inbox: new Uint8Array(20) },
      ),
  ],
  [
    "CELLAR_ERR_LIGHT_NO_MANIFEST",
    LightError,
    () =>
      sampleBatch(manifest.root, {
        nodes: buildNodeSet([{ publicKey: node.identity.publicKey, url: node.url }]),
        client: new NodeClient(),
        kzg,
      }),
  ],
  [
    "CELLAR_ERR_LIGHT_BAD_REQUEST",
    LightError,
    () => new LightNode({ nodes: [], domain: { chainId: 1n, inbox: new Uint8Array(20) } }, { kzg }),
  ],
  ["CELLAR_ERR_LIGHT_NOT_FOUND", { status: 404 }, () => lightError(`/v1/batches/0x${"cd".repeat(32)}/availability`)],
  [
    "CELLAR_ERR_LIGHT_DEADLINE",
    LightError,
    () => sampleBatch(manifest.root, { nodes: silentSet, client: new NodeClient(), kzg, deadlineMs: 100 }),
  ],
  [
    "CELLAR_ERR_LIGHT_TOO_LARGE",
    { status: 413 },
    async () => {
      const res = await request(`${lightUrl}/v1/batches/${toHex(manifest.root)}`, {
        method: "PUT",
        body: JSON.stringify({ certificate: "x".repeat(70_000) }),
        headers: { "content-type": "application/json" },
      });
      throw await answerOf(res);
    },
  ],
  [
    "CELLAR_ERR_LIGHT_TOO_MANY",
    LightError,
    async () => {
      const full = new LightNode({ nodes: silentSet, domain: nodeDomain, maxTracked: 0 }, { kzg });
      try {
        full.track(manifest.root);
      } finally {
        await full.stop();
      }
    },
  ],
  ["CELLAR_ERR_L1_ANVIL", L1Error, () => startAnvil({ timeoutMs: 1 })],
  ["CELLAR_ERR_L1_RPC", L1Error, () => readNodeSet({ rpcUrl: "http://127.0.0.1:1", registry: `0x${"11".repeat(20)}` })],
  ["CELLAR_ERR_L1_INVALID_INPUT", L1Error, () => readNodeSet({ rpcUrl: "http://127.0.0.1:1", registry: "0x12" })],
  [
    "CELLAR_ERR_L1_REVERTED",
    L1Error,
    async () => {
      const anvil = await startAnvil();
      try {
        const { inbox } = await deployContracts({
          rpcUrl: anvil.rpcUrl,
          privateKey: (anvil.accounts[0] as { privateKey: `0x${string}` }).privateKey,
        });
        const zeros = (n: number) => new Uint8Array(n);
        await verifyOpeningOnChain({
          rpcUrl: anvil.rpcUrl,
          inbox,
          root: zeros(32),
          blobIndex: 0,
          merkleProof: [],
          commitment: zeros(48),
          z: zeros(32),
          y: zeros(32),
          proof: zeros(48),
        });
      } finally {
        await anvil.stop();
      }
    },
  ],
  [
    "CELLAR_ERR_CLI_NOT_AVAILABLE",
    { exit: 1 },
    async () => {
      // The node knows the batch (its manifest) but holds none of its columns.
      await node.store.putBatch(manifest, []);
      const binding = {
        operator: fromHex(TEST_OPERATOR, 20),
        chainId: BigInt(TEST_CHAIN_ID),
        registry: fromHex(TEST_REGISTRY, 20),
      };
      writeFileSync(
        join(scratch, "nodes.json"),
        nodeSetJson([
          {
            publicKey: toHex(node.identity.publicKey),
            proofOfPossession: toHex(proofOfPossession(node.identity.secretKey, binding)),
            url: node.url,
          },
        ]),
      );
      return cliError(["sample", toHex(manifest.root), "--nodes", join(scratch, "nodes.json"), "--timeout", "1"]);
    },
  ],
  ["CELLAR_ERR_BENCH_INVALID_SIZE", BenchError, () => resolveBenchOptions({ bytes: -1 })],
  ["CELLAR_ERR_BENCH_INVALID_WORKERS", BenchError, () => resolveBenchOptions({ workers: [0] })],
  ["CELLAR_ERR_BENCH_INVALID_RUNS", BenchError, () => resolveBenchOptions({ runs: 0 })],
  ["CELLAR_ERR_BENCH_INVALID_WARMUP", BenchError, () => resolveBenchOptions({ warmup: -1 })],
  ["CELLAR_ERR_BENCH_INVALID_REPORT_FORMAT", BenchError, () => reportFormatFor("report.pdf")],
  // A measurement whose own result check fails: a blob whose stated first cell is not what its
  // parity cells rebuild.
  [
    "CELLAR_ERR_BENCH_SELF_CHECK",
    BenchError,
    () => {
      const cells = erasure.computeCells(new Uint8Array(131072));
      const blob = {
        commitment: new Uint8Array(48),
        cells: [new Uint8Array(2048).fill(1), ...cells.slice(1)],
        proofs: [],
      };
      return timeDataRecovery(erasure, [blob], 1, () => {});
    },
  ],
  ["CELLAR_ERR_NODE_KEY_FILE", NodeError, () => readKeyFile(join(scratch, "no.key"))],
  [
    "CELLAR_ERR_NODE_STALE_REFERENCE",
    NodeError,
    () =>
      new StorageNode(
        {
          dataDir: join(scratch, "stale"),
          domain: { chainId: 1n, inbox: new Uint8Array(20) },
          snapshots: { latest: async () => 100n, nodesAt: async () => [] },
          referenceWindow: 10,
        },
        { kzg },
      ).custodyAt(90n),
  ],
  [
    "CELLAR_ERR_NODE_CONFIG",
    NodeError,
    () => new StorageNode({ dataDir: "", domain: { chainId: 1n, inbox: new Uint8Array(20) } }, { kzg }),
  ],
];

/**
 * Runs the CLI and returns its failure as seen from outside: the exit code, and the code on its
 * `cellar: message [CODE]` line. The message may quote a cause's `[CODE]`; the CLI's own is last.
 */
async function cliError(argv: string[], needsBatch = false): Promise<never> {
  writeFileSync(join(scratch, "x.bin"), "x");
  if (needsBatch) {
    const dir = join(scratch, "batch");
    await runCli(["encode", join(scratch, "x.bin"), "-o", dir, "--force"]);
    argv = argv.map((a) => (a === "DIR" ? dir : a));
  }
  const { code: exit, stderr } = await runCli(argv);
  const line = stderr.split("\n").findLast((l) => l.startsWith("cellar: ")) ?? "";
  const code = [...line.matchAll(/\[(CELLAR_ERR_[A-Z0-9_]+)\]/g)].at(-1)?.[1];
  throw new Answer(code ?? "none", stderr, { exit });
}

t.test("every exported code is in the table, once", async (t) => {
  const exported = [
    ...HEX_ERROR_CODES,
    ...KZG_ERROR_CODES,
    ...NATIVE_ERROR_CODES,
    ...CODEC_ERROR_CODES,
    ...PROTOCOL_ERROR_CODES,
    ...NODE_ERROR_CODES,
    ...CLIENT_ERROR_CODES,
    ...DISPERSER_ERROR_CODES,
    ...LIGHT_ERROR_CODES,
    ...L1_ERROR_CODES,
    ...BENCH_ERROR_CODES,
    ...CLI_ERROR_CODES,
    ...SERVICE_ERROR_CODES,
  ];
  t.same(table.map(([code]) => code).sort(), [...exported].sort());
  t.equal(new Set(exported).size, exported.length, "codes are unique");
  for (const code of exported) t.match(code, /^CELLAR_ERR_[A-Z0-9]+_[A-Z0-9_]+$/, code);
});

for (const [code, seen, trigger] of table) {
  t.test(code, async (t) => {
    let caught: unknown;
    try {
      await trigger();
    } catch (err) {
      caught = err;
    }
    if (typeof seen === "function") t.type(caught, seen, `${code} is a ${seen.name}`);
    else {
      t.type(caught, Answer, "seen from outside");
      const observed = (caught as Answer).seen;
      if (seen === "status record") t.same(observed, {}, "carried by the batch's status");
      else if ("status" in seen) t.equal(observed.status, seen.status, `answered with status ${seen.status}`);
      else t.equal(observed.exit, seen.exit, `exits ${seen.exit}`);
    }
    t.match(caught, { code, message: /\S/ });
  });
}
