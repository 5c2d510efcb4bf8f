import { Transform } from "node:stream";
import {
  type BatchManifest,
  type Column,
  checkFrameStart,
  manifestToJson,
  parseManifest,
  rootFromBatchId,
  serializeColumn,
  verifyColumns,
} from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import { BYTES_PER_CELL, BYTES_PER_COLUMN_ENTRY, CELLS_PER_EXT_BLOB, MAX_BLOBS_PER_BATCH } from "@cellar/params";
import { type AttestationDomain, decodeDispersal, signAttestation } from "@cellar/protocol";
import { createService, DEFAULT_LIMITS, type ReadyCheck, type ServiceLimits, type WorkQueue } from "@cellar/service";
import { toHex } from "@cellar/utils";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from "fastify";
import type { DispersalGuard } from "./dispersal-guard.js";
import { NodeError } from "./errors.js";
import { NODE_STATUS } from "./http-errors.js";
import type { NodeIdentity } from "./identity.js";
import type { NodeMetrics } from "./metrics.js";
import type { CellStore } from "./store.js";

export const NODE_VERSION = "0.2.0";

/** A node's own defaults for the HTTP limits (flags override them; docs/OPERATING.md). */
export const NODE_LIMITS: ServiceLimits = {
  ...DEFAULT_LIMITS,
  // Light clients and retrievals read many columns: a generous budget per address.
  rateLimit: { max: 6000, windowMs: 60_000 },
};

/** What the HTTP layer needs from the running node. */
export interface NodeContext {
  readonly identity: NodeIdentity;
  readonly store: CellStore;
  readonly kzg: Pick<Kzg, "verifyCellProofBatchAsync">;
  readonly metrics: NodeMetrics;
  readonly domain: AttestationDomain;
  readonly maxBlobs: number;
  readonly replication: number;
  readonly guard: DispersalGuard;
  /** Verification of dispersals: bounded, so a flood waits or is refused instead of piling up. */
  readonly verifyQueue: WorkQueue;
  /** Bytes one disperser may keep on this node within the retention window. */
  readonly quotaBytes: number;
  readonly limits?: Partial<ServiceLimits>;
  readonly readyChecks?: Readonly<Record<string, ReadyCheck>>;
  /** The columns this node keeps under the current node set. */
  custody(): ReadonlySet<number>;
  /**
   * The columns this node keeps in the registry snapshot of `reference`; refuses a reference that
   * is not recent or in which this node was not active (PROTOCOL.md §13).
   */
  custodyAt(reference: bigint): Promise<ReadonlySet<number>>;
  nodeCount(): number;
  /** Readiness beyond the store and KZG: the node set (and L1, when followed). */
  ready(): true | string;
}

/** Most batches one page of `GET /v1/batches` lists. */
export const MAX_LISTING = 256;

/** Bytes of a dispersal body of `columns` columns of `blobs` blobs, besides the manifest. */
function columnBytes(columns: number, blobs: number): number {
  return 5 + 4 + 1 + columns + columns * blobs * BYTES_PER_COLUMN_ENTRY;
}

/** Largest dispersal body a node with `maxBlobs` accepts: every column of the biggest batch. */
export function bodyLimit(maxBlobs: number): number {
  return (1 << 20) /* manifest */ + columnBytes(CELLS_PER_EXT_BLOB, maxBlobs);
}

/** Largest body for this node's own custody: its columns of the biggest batch. */
function custodyBodyLimit(ctx: NodeContext, custody: ReadonlySet<number> = ctx.custody()): number {
  return (1 << 20) + columnBytes(custody.size, ctx.maxBlobs);
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

function tooLarge(length: number, limit: number): NodeError {
  return new NodeError("CELLAR_ERR_NODE_TOO_LARGE", `a dispersal to this node is at most ${limit} bytes`, {
    length,
    limit,
  });
}

/** [§13.2] The disperser's bytes kept here plus `adding` must stay within its quota. */
function checkQuota(ctx: NodeContext, disperser: string, adding: number): void {
  const used = ctx.store.usageOf(disperser);
  if (used + adding > ctx.quotaBytes) {
    throw new NodeError(
      "CELLAR_ERR_NODE_QUOTA_EXCEEDED",
      `disperser ${disperser} keeps ${used} bytes here, its quota is ${ctx.quotaBytes}`,
      { used, quota: ctx.quotaBytes, retryAfterSeconds: 60 },
    );
  }
}

/** The attestation answer for a stored batch, under the registry snapshot of `reference` (§11). */
function attestation(ctx: NodeContext, root: Uint8Array, columns: readonly number[], reference: bigint) {
  return {
    root: toHex(root),
    reference: reference.toString(),
    nodeId: toHex(ctx.identity.nodeId),
    publicKey: toHex(ctx.identity.publicKey),
    signature: toHex(signAttestation(ctx.identity.secretKey, ctx.domain, root, reference)),
    columns,
  };
}

/** Whether the store already holds every custody column of `root` (a repeated dispersal). */
function storedWhole(ctx: NodeContext, root: Uint8Array, custody: ReadonlySet<number>): readonly number[] | undefined {
  const record = ctx.store.getBatch(root);
  if (record === undefined) return undefined;
  const held = new Set(record.columns);
  return [...custody].every((c) => held.has(c)) ? [...custody].sort((a, b) => a - b) : undefined;
}

/** `?reference=N`: the registry snapshot (an L1 block) the node is asked to attest under; 0 when absent. */
function parseReference(query: unknown): bigint {
  const value = (query as { reference?: unknown } | undefined)?.reference;
  if (value === undefined) return 0n;
  if (typeof value !== "string" || !/^\d{1,19}$/.test(value) || BigInt(value) >= 1n << 64n)
    throw new NodeError("CELLAR_ERR_NODE_BAD_PATH", "reference must be a block number (a uint64)", {});
  return BigInt(value);
}

/** What `onRequest` works out for the handler: the caller, the reference and its custody. */
interface DispersalContext {
  disperser: string;
  reference: bigint;
  custody: ReadonlySet<number>;
}

/**
 * The storage node's HTTP API on the shared service base: dispersal (authenticated, bounded),
 * cell and column serving, manifest, info, health, readiness and metrics. Every error leaves as
 * `{error: {code, message}}` from the base's one handler.
 */
export function buildNodeApp(ctx: NodeContext, logger?: FastifyBaseLogger): FastifyInstance {
  return createService(
    {
      area: "NODE",
      status: NODE_STATUS,
      codes: { badRequest: "CELLAR_ERR_NODE_BAD_BODY" },
      defaults: { ...NODE_LIMITS, bodyLimit: bodyLimit(ctx.maxBlobs) },
      ...(ctx.limits ? { limits: ctx.limits } : {}),
      metrics: ctx.metrics.registry,
      corsReads: true,
      ready: {
        store: () => ctx.store.isOpen() || "store closed",
        nodeSet: () => ctx.ready(),
        ...(ctx.readyChecks ?? {}),
      },
      ...(logger ? { logger } : {}),
    },
    (app) => routes(app, ctx),
  );
}

function routes(app: FastifyInstance, ctx: NodeContext): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  app.put<{ Params: { root: string } }>(
    "/v1/batches/:root/columns",
    {
      // Everything a stranger can be refused for is decided from the headers, before the body.
      onRequest: async (request, reply: FastifyReply) => {
        const root = parseRoot(request.params.root);
        const auth = ctx.guard.check(request.headers, root);
        const disperser = toHex(auth.disperser);
        // [§13] The reference must be recent and name a snapshot this node is in: custody is that snapshot's.
        const reference = parseReference(request.query);
        const custody = await ctx.custodyAt(reference);
        (request as unknown as { dispersal: DispersalContext }).dispersal = { disperser, reference, custody };
        // [§13.2] A repeat of a stored root answers from the store: no reading, verifying or writing.
        const held = storedWhole(ctx, root, custody);
        if (held !== undefined) {
          ctx.metrics.dispersals.inc({ result: "repeat" });
          return reply.send(attestation(ctx, root, held, reference));
        }
        const limit = custodyBodyLimit(ctx, custody);
        const length = Number(request.headers["content-length"] ?? Number.NaN);
        if (length > limit) throw tooLarge(length, limit);
        checkQuota(ctx, disperser, Number.isFinite(length) ? length : 0);
        const q = ctx.verifyQueue;
        if (q.running >= q.opts.concurrency && q.queued >= q.opts.maxQueued) {
          throw new NodeError("CELLAR_ERR_NODE_BUSY", "every verification slot is taken, try again shortly", {
            retryAfterSeconds: 1,
          });
        }
      },
      // A body without a content-length is counted as it streams, against the same limit.
      preParsing: async (request, _reply, payload) => {
        if (request.headers["content-length"] !== undefined) return payload;
        const limit = custodyBodyLimit(ctx, (request as unknown as { dispersal: DispersalContext }).dispersal.custody);
        let seen = 0;
        return payload.pipe(
          new Transform({
            transform(chunk: Buffer, _encoding, done) {
              seen += chunk.length;
              done(seen > limit ? tooLarge(seen, limit) : null, chunk);
            },
          }),
        );
      },
    },
    async (request) => {
      const root = parseRoot(request.params.root);
      const { disperser, reference, custody } = (request as unknown as { dispersal: DispersalContext }).dispersal;
      if (!(request.body instanceof Buffer)) {
        throw new NodeError("CELLAR_ERR_NODE_BAD_BODY", "the body must be application/octet-stream");
      }
      const body = decodeDispersal(request.body);
      const manifest = parseManifest(body.manifest, root);
      if (manifest.blobs.length > ctx.maxBlobs) {
        throw new NodeError(
          "CELLAR_ERR_NODE_TOO_LARGE",
          `batch of ${manifest.blobs.length} blobs exceeds this node's limit of ${ctx.maxBlobs}`,
          { blobs: manifest.blobs.length },
        );
      }
      checkColumns(custody, manifest, body.columns);
      // [§13.2] The frame header lives in cell 0 of blob 0: its keeper refuses data that would not decode.
      const first = body.columns.find((c) => c.index === 0)?.cells[0];
      if (first !== undefined) checkFrameStart(manifest, first);
      checkQuota(ctx, disperser, request.body.length);
      const bad = await ctx.verifyQueue.run(async () => {
        const stopTimer = ctx.metrics.verifySeconds.startTimer();
        try {
          // One batch call per dispersal; a failing one is searched by bisection.
          return await verifyColumns(manifest, body.columns, { kzg: ctx.kzg, chunkBlobs: manifest.blobs.length });
        } finally {
          stopTimer();
        }
      }, disperser);
      if (bad.length > 0) {
        throw new NodeError(
          "CELLAR_ERR_NODE_INVALID_CELLS",
          `${bad.length} cell(s) fail their KZG proof, first: blob ${bad[0]?.blob} column ${bad[0]?.column}`,
          { bad: bad.slice(0, 16) },
        );
      }
      // Durable first: the signature exists only once the data is on disk.
      await ctx.store.putBatch(manifest, body.columns, Date.now(), disperser, reference);
      ctx.metrics.dispersals.inc({ result: "stored" });
      return attestation(
        ctx,
        root,
        body.columns.map((c) => c.index),
        reference,
      );
    },
  );

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

  // [§13.3] The batches held, paged by root: how a node standing in for a gone custodian learns of
  // batches it was never sent, and how operators see who holds what.
  app.get<{ Querystring: { after?: string; limit?: string } }>("/v1/batches", async (request) => {
    const { after, limit } = request.query;
    const from = after === undefined ? undefined : parseRoot(after);
    const n = limit === undefined ? MAX_LISTING : parseIndex(limit, "limit", MAX_LISTING + 1);
    const page = ctx.store.listBatches(from, Math.max(1, n));
    return {
      batches: page.map((b) => ({
        root: toHex(b.root),
        reference: b.reference.toString(),
        storedAt: b.storedAt,
        columns: b.columns,
      })),
      next: page.length === Math.max(1, n) ? toHex((page[page.length - 1] as { root: Uint8Array }).root) : null,
    };
  });

  // [§13.3] This node's attestation for a batch it holds, naming the columns it holds whole now
  // (custody and stand-in columns alike): the same signature as at dispersal (§11).
  app.get<{ Params: { root: string } }>("/v1/batches/:root/attestation", async (request) => {
    const root = parseRoot(request.params.root);
    const record = ctx.store.getBatch(root);
    if (record === undefined || record.columns.length === 0) throw notFound(`batch ${toHex(root)} is not stored here`);
    return attestation(ctx, root, record.columns, record.reference);
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
    limits: {
      maxBlobs: ctx.maxBlobs,
      bodyLimit: custodyBodyLimit(ctx),
      disperserQuotaBytes: ctx.quotaBytes,
      authorisedDispersers: ctx.guard.dispersers,
    },
    version: NODE_VERSION,
  }));
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
      { missing },
    );
  }
}
