// Cross-origin reads are open, cross-origin writes closed: on a real server on port 0.
import { allowCrossOriginReads } from "@cellar/node";
import Fastify from "fastify";
import t from "tap";
import { request } from "undici";

const app = Fastify();
allowCrossOriginReads(app);
app.get("/v1/thing", async () => ({ ok: true }));
app.put("/v1/thing", async () => ({ ok: true }));
const url = await app.listen({ host: "127.0.0.1", port: 0 });
t.teardown(() => app.close());
const origin = "http://127.0.0.1:1";

t.test("GET and HEAD answers allow any origin, errors included", async (t) => {
  for (const [method, path, status] of [
    ["GET", "/v1/thing", 200],
    ["HEAD", "/v1/thing", 200],
    ["GET", "/v1/none", 404],
  ] as const) {
    const res = await request(`${url}${path}`, { method, headers: { origin } });
    t.equal(res.statusCode, status);
    t.equal(res.headers["access-control-allow-origin"], "*", `${method} ${path}`);
    await res.body.dump();
  }
});

t.test("a write carries no CORS header", async (t) => {
  const res = await request(`${url}/v1/thing`, { method: "PUT", headers: { origin } });
  t.equal(res.headers["access-control-allow-origin"], undefined);
  await res.body.dump();
});

t.test("preflights: granted for GET and HEAD, refused for anything else", async (t) => {
  for (const method of ["GET", "head"]) {
    const res = await request(`${url}/v1/thing`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": method },
    });
    t.equal(res.statusCode, 204, method);
    t.equal(res.headers["access-control-allow-origin"], "*");
    t.equal(res.headers["access-control-allow-methods"], "GET, HEAD");
    await res.body.dump();
  }
  for (const headers of [
    { origin, "access-control-request-method": "PUT" },
    { origin, "access-control-request-method": "POST" },
    { origin },
    { "access-control-request-method": "GET" },
  ]) {
    const res = await request(`${url}/v1/thing`, { method: "OPTIONS", headers });
    t.equal(res.statusCode, 404, JSON.stringify(headers));
    t.equal(res.headers["access-control-allow-origin"], undefined, "no CORS header on a refusal");
    t.equal(res.headers["access-control-allow-methods"], undefined);
    await res.body.dump();
  }
});
