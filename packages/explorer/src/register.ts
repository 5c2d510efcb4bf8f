import { custodyTable, DEFAULT_REPLICATION, holdersTable, type NodeRecord } from "@cellar/protocol";
import type { FastifyInstance } from "fastify";
import { type Asset, DEFAULT_ASSETS_DIR, loadAssets } from "./assets.js";
import type { ExplorerFeed } from "./feed.js";
import type { ExplorerEvent, ExplorerNetwork } from "./types.js";

export interface ExplorerOptions {
  /** The role serving the page: it decides what the page calls the role's own verdicts. */
  readonly source: ExplorerNetwork["source"];
  readonly feed: ExplorerFeed;
  /** The current node set (read at each request: the role may replace it). */
  readonly nodes: () => readonly NodeRecord[];
  readonly replication?: number;
  /** The target confidence the page samples to. Default 1 - 1e-6. */
  readonly target?: number;
  /** Where the built page is; default this package's `dist/web`. */
  readonly assetsDir?: string;
  /** Keep-alive comment period of the event stream. Default 15 s. */
  readonly pingMs?: number;
}

// The page talks to the storage nodes directly (their GET routes allow any origin) and to
// nothing else: every script, style and the wasm come from here.
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' http: https:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The light client's default target (`@cellar/light` sits above this package). */
const DEFAULT_TARGET = 1 - 1e-6;

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Cellar explorer</title>
<p>The explorer page is not built in this installation: run <code>npm run build</code>.</p>\n`;

/**
 * Adds the explorer to a role's Fastify app: the page at `/explorer/` (its built assets, from
 * memory), and the JSON it reads, `GET /v1/explorer/network` (node set and custody),
 * `GET /v1/explorer/batches` (recent batches) and `GET /v1/explorer/events` (server-sent events:
 * every change of the feed, live). The role's own error and not-found handlers stay in charge.
 */
export function registerExplorer(app: FastifyInstance, options: ExplorerOptions): void {
  const assets = loadAssets(options.assetsDir ?? DEFAULT_ASSETS_DIR);
  const replication = options.replication ?? DEFAULT_REPLICATION;
  const page = (asset: Asset | undefined, reply: import("fastify").FastifyReply) => {
    if (asset === undefined) return reply.status(503).type("text/html; charset=utf-8").send(NOT_BUILT);
    return reply
      .type(asset.type)
      .header("content-security-policy", CSP)
      .header("x-content-type-options", "nosniff")
      .header("cache-control", "no-cache")
      .send(asset.body);
  };

  app.get("/explorer", async (_request, reply) => reply.redirect("/explorer/"));
  app.get("/explorer/", async (_request, reply) => page(assets.get("index.html"), reply));
  app.get<{ Params: { "*": string } }>("/explorer/*", async (request, reply) => {
    const asset = assets.get(request.params["*"]);
    if (asset === undefined) return reply.callNotFound();
    return page(asset, reply);
  });

  app.get("/v1/explorer/network", async (): Promise<ExplorerNetwork> => {
    const nodes = options.nodes();
    return {
      source: options.source,
      replication,
      target: options.target ?? DEFAULT_TARGET,
      nodes: nodes.map((n) => ({ index: n.index, url: n.url })),
      custody: custodyTable(nodes, replication).map((holders) => holders.map((n) => n.index)),
      // [§10.1] Who a reader asks next when a custodian does not answer.
      standIns: holdersTable({ snapshot: nodes, replication, spares: replication }).map((h) =>
        h.standIns.map((n) => n.index),
      ),
    };
  });
  app.get("/v1/explorer/batches", async () => ({ batches: options.feed.list() }));

  const streams = new Set<() => void>();
  app.get("/v1/explorer/events", (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 1000\n\n");
    const send = (event: ExplorerEvent) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    const unsubscribe = options.feed.subscribe(send);
    const ping = setInterval(() => res.write(": ping\n\n"), options.pingMs ?? 15_000);
    const end = () => {
      clearInterval(ping);
      unsubscribe();
      streams.delete(end);
      res.end();
    };
    streams.add(end);
    request.raw.once("close", end);
  });
  // Open streams would hold the server's close until every page goes away: end them first.
  app.addHook("preClose", async () => {
    for (const end of [...streams]) end();
  });
}
