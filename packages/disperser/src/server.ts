import { rootFromBatchId } from "@cellar/codec";
import { registerExplorer } from "@cellar/explorer";
import type { Feed, NodeRecord } from "@cellar/protocol";
import { clientOf, createService, DEFAULT_LIMITS, type ServiceLimits } from "@cellar/service";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DEFAULT_DA_LAYER_BYTE, decodeAltDaCommitment, encodeAltDaCommitment } from "./alt-da.js";
import { DISPERSER_DEFAULTS, type Disperser } from "./disperser.js";
import { DISPERSER_STATUS, DisperserError } from "./errors.js";
import { ENCODE_RESULT_BYTES, EncoderFleet } from "./fleet.js";

export interface DisperserAppOptions {
  readonly daLayerByte?: number;
  readonly logger?: FastifyBaseLogger;
  /** HTTP limits (timeouts, connections, rate); the body limit is the disperser's batch limit. */
  readonly limits?: Partial<ServiceLimits>;
  /** Posts per client address per minute (on top of the general budget). Default 60. */
  readonly postsPerMinute?: number;
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
 * The disperser's HTTP API on the shared service base: the native routes, the OP Stack alt-DA
 * server routes, health, readiness and metrics. Bodies are read as raw bytes whatever their
 * content type, up to the batch limit (413 from the content-length, or as soon as the limit is
 * passed while streaming). Posts have a budget per client address and a bounded queue.
 */
export function buildDisperserApp(disperser: Disperser, options: DisperserAppOptions = {}): FastifyInstance {
  const daLayerByte = options.daLayerByte ?? DEFAULT_DA_LAYER_BYTE;
  const postLimit = {
    rateLimit: { max: options.postsPerMinute ?? DISPERSER_DEFAULTS.postsPerMinute, timeWindow: 60_000 },
  };
  return createService(
    {
      area: "DISPERSER",
      status: DISPERSER_STATUS,
      defaults: { ...DEFAULT_LIMITS, bodyLimit: disperser.opts.maxBatchBytes },
      ...(options.limits ? { limits: options.limits } : {}),
      metrics: disperser.metrics.registry,
      corsReads: true,
      health: () => ({ nodes: disperser.nodes.length }),
      ready: {
        // With a shared database: reachable now (replicas answer 503 while it restarts).
        store: async () => {
          await disperser.start();
          return disperser.store.ready ? disperser.store.ready() : true;
        },
        nodeSet: () => (disperser.nodes.length > 0 ? true : "no node set"),
      },
      ...(options.logger ? { logger: options.logger } : {}),
    },
    (app) => {
      app.removeAllContentTypeParsers();
      app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, payload, done) => done(null, payload));

      const config = postLimit.rateLimit.max > 0 ? { config: postLimit } : {};
      // `?wait=available`: answer only once a light client has sampled the batch (§16.1).
      app.post<{ Querystring: { wait?: string } }>("/v1/batches", config, async (request) => {
        const wait = request.query.wait;
        if (wait !== undefined && wait !== "certified" && wait !== "available") {
          throw new DisperserError("CELLAR_ERR_DISPERSER_BAD_REQUEST", "wait must be certified or available");
        }
        const posted = await disperser.post(body(request.body), clientOf(request));
        return wait === "available" ? disperser.available(parseId(posted.root)) : posted;
      });
      app.get<{ Querystring: { limit?: string } }>("/v1/batches", async (request) => ({
        batches: await disperser.recent(Number(request.query.limit ?? 50) || 50),
      }));
      app.get<{ Params: { id: string } }>("/v1/batches/:id", async (request) =>
        disperser.status(parseId(request.params.id)),
      );
      app.get<{ Params: { id: string } }>("/v1/batches/:id/data", async (request, reply) => {
        const bytes = await disperser.data(parseId(request.params.id), clientOf(request));
        return reply.type("application/octet-stream").send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
      });

      // OP Stack alt-DA server (generic commitments): op-alt-da's DAClient posts to /put/ and reads
      // the raw commitment bytes back; it fetches /get/0x<commitment> and reads the raw batch.
      const put = async (request: FastifyRequest, reply: FastifyReply) => {
        const bytes = body(request.body);
        if (bytes.length === 0) throw new DisperserError("CELLAR_ERR_DISPERSER_BAD_REQUEST", "empty input");
        const posted = await disperser.post(bytes, clientOf(request));
        // Sample before commit: the batcher posts the commitment to L1 only once it is available.
        if (disperser.opts.sampleBeforeCommit) await disperser.available(parseId(posted.root));
        const commitment = encodeAltDaCommitment(parseId(posted.root), daLayerByte);
        return reply.type("application/octet-stream").send(Buffer.from(commitment));
      };
      app.post("/put", config, put);
      app.post("/put/", config, put);
      app.post("/put/:commitment", async () => {
        throw new DisperserError(
          "CELLAR_ERR_DISPERSER_BAD_REQUEST",
          "precomputed (keccak256) commitments are not supported: run op-node with --altda.da-service for generic commitments",
        );
      });
      app.get<{ Params: { commitment: string } }>("/get/:commitment", async (request, reply) => {
        const root = decodeAltDaCommitment(request.params.commitment, daLayerByte);
        const bytes = await disperser.data(root, clientOf(request));
        return reply.type("application/octet-stream").send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
      });
      // The encoder fleet's routes (§22): blobs out to the encoder holding the job's lease, results in.
      const fleet = disperser.encoder instanceof EncoderFleet ? disperser.encoder : undefined;
      if (fleet) {
        app.get<{ Params: { id: string } }>("/v1/encode/jobs/:id/blob", async (request, reply) => {
          const blob = await fleet.blobFor(request.params.id, request.headers);
          return reply.type("application/octet-stream").send(Buffer.from(blob.buffer, blob.byteOffset, blob.length));
        });
        app.put<{ Params: { id: string } }>(
          "/v1/encode/jobs/:id/result",
          { bodyLimit: ENCODE_RESULT_BYTES },
          async (request) => {
            await fleet.complete(request.params.id, request.headers, body(request.body));
            return { accepted: true };
          },
        );
      }
      const explorer = { source: "disperser", feed: disperser.explorer, nodes: () => disperser.nodes } as const;
      registerExplorer(app, { ...explorer, replication: disperser.opts.replication });
    },
  );
}

/**
 * The disperser as one service with the same lifecycle as the storage and light nodes: `start()`
 * opens its store and listens (resolving to the URL), `stop()` closes the HTTP API first, then
 * the disperser.
 */
export class DisperserService {
  #app: FastifyInstance | undefined;
  #unfollow: (() => void) | undefined;

  constructor(
    readonly disperser: Disperser,
    readonly options: DisperserAppOptions & {
      readonly host?: string;
      readonly port?: number;
      /** Followed from `start()` to `stop()`: the node set new batches are dispersed over. */
      readonly nodeFeed?: Feed<readonly NodeRecord[]>;
    } = {},
  ) {}

  async start(): Promise<string> {
    await this.disperser.start();
    const app = buildDisperserApp(this.disperser, this.options);
    this.#app = app;
    const url = await app.listen({ host: this.options.host ?? "127.0.0.1", port: this.options.port ?? 0 });
    this.#unfollow = this.options.nodeFeed?.follow(
      (nodes) => this.disperser.setNodes(nodes),
      (err) => app.log.error({ err }, "following the node set failed; keeping the old one"),
    );
    return url;
  }

  async stop(): Promise<void> {
    this.#unfollow?.();
    await this.#app?.close();
    await this.disperser.close();
  }
}
