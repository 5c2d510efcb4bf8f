import type { FastifyInstance } from "fastify";

/**
 * Lets pages of any origin read from this server (the explorer samples cells from the browser)
 * while writes stay closed to them: GET and HEAD answers carry `access-control-allow-origin: *`,
 * a preflight is granted for GET and HEAD only, and anything else (a dispersal's PUT) gets no
 * CORS header and a refused preflight, so a browser never sends it cross-origin.
 */
export function allowCrossOriginReads(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    if (request.method === "GET" || request.method === "HEAD") reply.header("access-control-allow-origin", "*");
  });
  app.options("*", async (request, reply) => {
    const method = String(request.headers["access-control-request-method"] ?? "").toUpperCase();
    if (request.headers.origin === undefined || (method !== "GET" && method !== "HEAD")) return reply.callNotFound();
    return reply
      .status(204)
      .header("access-control-allow-origin", "*")
      .header("access-control-allow-methods", "GET, HEAD")
      .header("access-control-max-age", "600")
      .send();
  });
}
