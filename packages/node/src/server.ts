import {
  type BatchManifest,
  type Column,
  manifestToJson,
  parseManifest,
  rootFromBatchId,
  serializeColumn,
  verifyColumns,
} from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import { BYTES_PER_CELL, BYTES_PER_COLUMN_ENTRY, CELLS_PER_EXT_BLOB, MAX_BLOBS_PER_BATCH } from "@cellar/params";
import { type AttestationDomain, decodeDispersal, signAttestation } from "@cellar/protocol";
import { toHex } from "@cellar/utils";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { NodeError } from "./errors.js";
import { toHttpError } from "./http-errors.js";
import type { NodeIdentity } from "./identity.js";
import type { NodeMetrics } from "./metrics.js";
import type { CellStore } from "./store.js";

export const NODE_VERSION = "0.1.0";

/** What the HTTP layer needs from the running node. */
export interface NodeContext {
  readonly identity: NodeIdentity;
  readonly store: CellStore;
  readonly kzg: Pick<Kzg, "verifyCellProofBatchAsync">;
  readonly metrics: NodeMetrics;
  readonly domain: AttestationDomain;
  readonly maxBlobs: number;
  readonly replication: number;
  /** The columns this node keeps under the current node set. */
  custody(): ReadonlySet<number>;
  /**
   * The columns this node keeps in the registry snapshot of `reference`; refuses a reference that
   * is not recent or in which this node was not active (PROTOCOL.md §13).
   */
  custodyAt(reference: bigint): Promise<ReadonlySet<number>>;
  nodeCount(): number;
}

/** Largest dispersal body a node with `maxBlobs` accepts: every column of the biggest batch. */
export function bodyLimit(maxBlobs: number): number {
  return (1 << 20) /* manifest and framing */ + maxBlobs * CELLS_PER_EXT_BLOB * BYTES_PER_COLUMN_ENTRY;
}

function parseRoot(value: string): Uint8Array {
  try {
    return rootFromBatchId(value);
  } catch (err) {
    throw new NodeError(
      "CELLAR_ERR_NODE_BAD_PATH",
      `${JSON.stringify(value)} is not a batch root or id`,
      {},
      { cause: err },
    );
  }
}

function parseIndex(value: string, what: string, limit: number): number {
  const n = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n >= limit) {
    throw new NodeError("CELLAR_ERR_NODE_BAD_PATH", `${what} must be an integer in 0..${limit - 1}`, { value });
  }
  return n;
}

function notFound(message: string): NodeError {
  return new NodeError("CELLAR_ERR_NODE_NOT_FOUND", message);
}

/**
 * The storage node's HTTP API (Fastify): dispersal, cell and column serving, manifest, info,
 * health and metrics. Every error leaves as `{error: {code, message}}` from one handler.
 */
export function buildNodeApp(ctx: NodeContext, logger?: FastifyBaseLogger): FastifyInstance {
  const common = { bodyLimit: bodyLimit(ctx.maxBlobs), keepAliveTimeout: 65_000 };
  const app: FastifyInstance = logger
    ? Fastify({ ...common, loggerInstance: logger })
    : Fastify({ ...common, logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, request, reply) => {
    const { status, code, message } = toHttpError(err);
    ctx.metrics.rejects.inc({ reason: code });
    if (status >= 500) request.log.error({ err }, "request failed");
    else request.log.info({ code, status }, message);
    void reply.status(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send({ error: { code: "CELLAR_ERR_NODE_NOT_FOUND", message: `no route ${request.method} ${request.url}` } });
  });

  app.put<{ Params: { root: string } }>("/v1/batches/:root/columns", async (request) => {
    const root = parseRoot(request.params.root);
    if (!(request.body instanceof Buffer)) {
      throw new NodeError("CELLAR_ERR_NODE_BAD_BODY", "the body must be application/octet-stream");
    }
    const body = decodeDispersal(request.body);
    const manifest = parseManifest(body.manifest, root);
    if (manifest.blobs.length > ctx.maxBlobs) {
      throw new NodeError(
        "CELLAR_ERR_NODE_TOO_LARGE",
        `batch of ${manifest.blobs.length} blobs exceeds this node's limit of ${ctx.maxBlobs}`,
        {
          blobs: manifest.blobs.length,
        },
      );
    }
    checkColumns(await ctx.custodyAt(body.reference), manifest, body.columns);
    const stopTimer = ctx.metrics.verifySeconds.startTimer();
    // One batch verification per dispersal: larger batches amortize better, and concurrent
    // dispersals already keep every core busy.
    const bad = await verifyColumns(manifest, body.columns, { kzg: ctx.kzg, chunkBlobs: manifest.blobs.length });
    stopTimer();
    if (bad.length > 0) {
      throw new NodeError(
        "CELLAR_ERR_NODE_INVALID_CELLS",
        `${bad.length} cell(s) fail their KZG proof, first: blob ${bad[0]?.blob} column ${bad[0]?.column}`,
        { bad: bad.slice(0, 16) },
      );
    }
    const repeat = ctx.store.getBatch(root) !== undefined;
    // Durable first: the signature exists only once the data is on disk.
    await ctx.store.putBatch(manifest, body.columns);
    const signature = signAttestation(ctx.identity.secretKey, ctx.domain, root, body.reference);
    ctx.metrics.dispersals.inc({ result: repeat ? "repeat" : "stored" });
    return {
      root: toHex(root),
      reference: body.reference.toString(),
      nodeId: toHex(ctx.identity.nodeId),
      publicKey: toHex(ctx.identity.publicKey),
      signature: toHex(signature),
      columns: body.columns.map((c) => c.index),
    };
  });

  app.get<{ Params: { root: string; blob: string; column: string } }>(
    "/v1/batches/:root/cells/:blob/:column",
    async (request, reply) => {
      const root = parseRoot(request.params.root);
      const blob = parseIndex(request.params.blob, "blob", MAX_BLOBS_PER_BATCH);
      const column = parseIndex(request.params.column, "column", CELLS_PER_EXT_BLOB);
      const read = ctx.store.getCell(root, blob, column);
      if (!read.ok) throw notFound(`no cell ${blob}/${column} of batch ${toHex(root)} here`);
      ctx.metrics.cellsServed.inc();
      return reply
        .type("application/octet-stream")
        .send(Buffer.from(read.entry.buffer, read.entry.byteOffset, read.entry.length));
    },
  );

  app.get<{ Params: { root: string; column: string } }>("/v1/batches/:root/columns/:column", async (request, reply) => {
    const root = parseRoot(request.params.root);
    const column = parseIndex(request.params.column, "column", CELLS_PER_EXT_BLOB);
    const record = ctx.store.getBatch(root);
    if (record === undefined || !record.columns.includes(column))
      throw notFound(`no column ${column} of batch ${toHex(root)} here`);
    const cells: Uint8Array[] = [];
    const proofs: Uint8Array[] = [];
    for (let b = 0; b < record.manifest.blobs.length; b++) {
      const read = ctx.store.getCell(root, b, column);
      if (!read.ok)
        throw notFound(`column ${column} of batch ${toHex(root)} is incomplete here (blob ${b} ${read.reason})`);
      cells.push(read.entry.subarray(0, BYTES_PER_CELL));
      proofs.push(read.entry.subarray(BYTES_PER_CELL));
    }
    ctx.metrics.cellsServed.inc(cells.length);
    return reply.type("application/octet-stream").send(Buffer.from(serializeColumn({ index: column, cells, proofs })));
  });

  app.get<{ Params: { root: string } }>("/v1/batches/:root/manifest", async (request) => {
    const root = parseRoot(request.params.root);
    const record = ctx.store.getBatch(root);
    if (record === undefined) throw notFound(`batch ${toHex(root)} is not stored here`);
    return manifestToJson(record.manifest);
  });

  app.get("/v1/info", async () => ({
    nodeId: toHex(ctx.identity.nodeId),
    publicKey: toHex(ctx.identity.publicKey),
    custody: {
      rule: "rendezvous: the r nodes with the highest sha256(nodeId || uint8(column)) keep the column; a node with none keeps its best column",
      replication: ctx.replication,
      nodes: ctx.nodeCount(),
      columns: [...ctx.custody()].sort((a, b) => a - b),
    },
    domain: { chainId: ctx.domain.chainId.toString(), inbox: toHex(ctx.domain.inbox) },
    limits: { maxBlobs: ctx.maxBlobs, bodyLimit: bodyLimit(ctx.maxBlobs) },
    version: NODE_VERSION,
  }));

  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/metrics", async (_request, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  return app;
}

/** The body must carry exactly this node's custody columns, each with one cell per blob. */
function checkColumns(custody: ReadonlySet<number>, manifest: BatchManifest, columns: readonly Column[]): void {
  for (const column of columns) {
    if (!custody.has(column.index)) {
      throw new NodeError("CELLAR_ERR_NODE_NOT_CUSTODIAN", `column ${column.index} is not in this node's custody`, {
        column: column.index,
      });
    }
    if (column.cells.length !== manifest.blobs.length) {
      throw new NodeError(
        "CELLAR_ERR_NODE_BAD_BODY",
        `column ${column.index} has ${column.cells.length} cells for a batch of ${manifest.blobs.length} blobs`,
        { column: column.index },
      );
    }
  }
  const sent = new Set(columns.map((c) => c.index));
  const missing = [...custody].filter((c) => !sent.has(c));
  if (missing.length > 0) {
    throw new NodeError(
      "CELLAR_ERR_NODE_INCOMPLETE_CUSTODY",
      `the dispersal lacks custody column(s) ${missing.join(", ")}`,
      {
        missing,
      },
    );
  }
}
