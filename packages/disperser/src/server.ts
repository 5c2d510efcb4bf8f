import { rootFromBatchId } from "@cellar/codec";
import { registerExplorer } from "@cellar/explorer";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { DEFAULT_DA_LAYER_BYTE, decodeAltDaCommitment, encodeAltDaCommitment } from "./alt-da.js";
import type { Disperser } from "./disperser.js";
import { DisperserError, toHttpError } from "./errors.js";

export interface DisperserAppOptions {
  readonly daLayerByte?: number;
  readonly logger?: FastifyBaseLogger;
}

function parseId(id: string): Uint8Array {
  try {
    return rootFromBatchId(id);
  } catch (err) {
    throw new DisperserError(
      "CELLAR_ERR_DISPERSER_BAD_REQUEST",
      `${JSON.stringify(id)} is not a batch id or root`,
      {},
      { cause: err },
    );
  }
}

function body(value: unknown): Uint8Array {
  if (!(value instanceof Buffer))
    throw new DisperserError("CELLAR_ERR_DISPERSER_BAD_REQUEST", "the body must be the batch bytes");
  return new Uint8Array(value.buffer, value.byteOffset, value.length);
}

/**
 * The disperser's HTTP API: the native routes, the OP Stack alt-DA server routes, health and
 * metrics. Bodies are read as raw bytes whatever their content type, up to the batch limit
 * (413 as soon as the limit is passed, from the content-length or while streaming).
 */
export function buildDisperserApp(disperser: Disperser, options: DisperserAppOptions = {}): FastifyInstance {
  const daLayerByte = options.daLayerByte ?? DEFAULT_DA_LAYER_BYTE;
  const common = { bodyLimit: disperser.opts.maxBatchBytes, keepAliveTimeout: 65_000, requestTimeout: 0 };
  const app: FastifyInstance = options.logger
    ? Fastify({ ...common, loggerInstance: options.logger })
    : Fastify({ ...common, logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, payload, done) => done(null, payload));

  app.setErrorHandler((err, request, reply) => {
    const { status, code, message } = toHttpError(err);
    if (status >= 500 && status !== 503) request.log.error({ err }, "request failed");
    void reply.status(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      error: { code: "CELLAR_ERR_DISPERSER_NOT_FOUND", message: `no route ${request.method} ${request.url}` },
    });
  });

  app.post("/v1/batches", async (request) => disperser.post(body(request.body)));
  app.get<{ Params: { id: string } }>("/v1/batches/:id", async (request) =>
    disperser.status(parseId(request.params.id)),
  );
  app.get<{ Params: { id: string } }>("/v1/batches/:id/data", async (request, reply) => {
    const bytes = await disperser.data(parseId(request.params.id));
    return reply.type("application/octet-stream").send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  });

  // OP Stack alt-DA server (generic commitments): op-alt-da's DAClient posts to /put/ and reads
  // the raw commitment bytes back; it fetches /get/0x<commitment> and reads the raw batch.
  const put = async (request: { body: unknown }, reply: import("fastify").FastifyReply) => {
    const bytes = body(request.body);
    if (bytes.length === 0) throw new DisperserError("CELLAR_ERR_DISPERSER_BAD_REQUEST", "empty input");
    const posted = await disperser.post(bytes);
    const commitment = encodeAltDaCommitment(parseId(posted.root), daLayerByte);
    return reply.type("application/octet-stream").send(Buffer.from(commitment));
  };
  app.post("/put", put);
  app.post("/put/", put);
  app.post("/put/:commitment", async () => {
    throw new DisperserError(
      "CELLAR_ERR_DISPERSER_BAD_REQUEST",
      "precomputed (keccak256) commitments are not supported: run op-node with --altda.da-service for generic commitments",
    );
  });
  app.get<{ Params: { commitment: string } }>("/get/:commitment", async (request, reply) => {
    const root = decodeAltDaCommitment(request.params.commitment, daLayerByte);
    const bytes = await disperser.data(root);
    return reply.type("application/octet-stream").send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  });

  app.get("/healthz", async () => ({ status: "ok", nodes: disperser.nodes.length }));
  app.get("/metrics", async (_request, reply) =>
    reply.type(disperser.metrics.registry.contentType).send(await disperser.metrics.registry.metrics()),
  );
  registerExplorer(app, {
    source: "disperser",
    feed: disperser.explorer,
    nodes: () => disperser.nodes,
    replication: disperser.opts.replication,
  });
  return app;
}
