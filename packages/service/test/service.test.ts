// The HTTP base on real sockets: deadlines for slow clients, body caps while streaming, per-client
// budgets, readiness, CORS for reads only, and the bounded work queue.
import { connect, type Socket } from "node:net";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AddressBudget,
  createService,
  DEFAULT_LIMITS,
  resolveLimits,
  type ServiceOptions,
  WorkQueue,
} from "@cellar/service";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import t from "tap";
import { Agent, request } from "undici";

async function serve(
  options: Partial<ServiceOptions> = {},
  routes: (app: FastifyInstance) => void = () => {},
): Promise<{ app: FastifyInstance; url: string; port: number }> {
  const app = createService({ area: "NODE", status: {}, metrics: new Registry(), ...options }, (a) => {
    a.removeAllContentTypeParsers();
    a.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
    a.get("/v1/hello", async () => ({ hello: "world" }));
    a.put("/v1/upload", async (request) => ({ bytes: (request.body as Buffer).length }));
    routes(a);
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(() => app.close());
  return { app, url, port: Number(new URL(url).port) };
}

/** Opens a raw socket, writes `head`, and resolves with what the server sent once it closes. */
function rawUntilClosed(port: number, head: string, trickle?: { every: number; max: number }) {
  return new Promise<{ answer: string; ms: number; sent: number }>((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(port, "127.0.0.1");
    let answer = "";
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on("connect", () => {
      socket.write(head);
      if (trickle) {
        timer = setInterval(() => {
          if (sent < trickle.max && socket.writable) {
            socket.write("x");
            sent++;
          }
        }, trickle.every);
      }
    });
    socket.on("data", (d) => {
      answer += d.toString();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(timer);
      resolve({ answer, ms: Date.now() - started, sent });
    });
  });
}

t.test("limits: defaults, overrides, and bad values refused", async (t) => {
  t.same(resolveLimits(), DEFAULT_LIMITS);
  t.equal(resolveLimits({ bodyLimit: 5 }).bodyLimit, 5);
  t.same(resolveLimits({ rateLimit: { max: 0, windowMs: 1 } }).rateLimit, { max: 0, windowMs: 1 });
  for (const bad of [
    { bodyLimit: 0 },
    { maxConnections: 1.5 },
    { headersTimeoutMs: 200_000, requestTimeoutMs: 100_000 },
    { responseTimeoutMs: 0 },
    { rateLimit: { max: -1, windowMs: 1 } },
    { rateLimit: { max: 1, windowMs: 0 } },
  ]) {
    t.throws(() => resolveLimits(bad), { code: "CELLAR_ERR_SERVICE_CONFIG" }, JSON.stringify(bad));
  }
});

t.test("slow-loris headers are cut off at the headers deadline", async (t) => {
  const { port } = await serve({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 1000 } });
  // Half a request line and then a byte every 100 ms, for at most 10 s.
  const res = await rawUntilClosed(port, "GET /v1/hello HTTP/1.1\r\nHost: x\r\nX-Slow: ", { every: 100, max: 100 });
  t.match(res.answer, /^HTTP\/1\.1 408/, "408 Request Timeout");
  t.ok(res.sent < 100, `closed after ${res.sent} trickled bytes (${res.ms} ms), not after all 100`);
});

t.test("a slow-loris body is cut off at the request deadline", async (t) => {
  const { port } = await serve({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 1000 } });
  const res = await rawUntilClosed(
    port,
    "PUT /v1/upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n",
    { every: 100, max: 1000 },
  );
  t.match(res.answer, /^HTTP\/1\.1 408/, "408 Request Timeout");
  t.ok(res.sent < 100, `closed after ${res.sent} of 1000 body bytes (${res.ms} ms)`);
});

t.test("a silent client is closed at the idle timeout; a slow answer is not, until its backstop", async (t) => {
  const limits = { idleTimeoutMs: 300, responseTimeoutMs: 1500, keepAliveTimeoutMs: 5000 };
  const { url, port } = await serve({ limits }, (a) => {
    a.get("/v1/slow", async () => {
      await sleep(800);
      return { slow: true };
    });
    a.get("/v1/never", () => new Promise(() => {}));
  });
  // Part of a body, then silence: closed once the client has been silent for the idle timeout.
  const silent = await rawUntilClosed(
    port,
    "PUT /v1/upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\n0123",
  );
  t.equal(silent.answer, "", "no answer to half a request");
  t.ok(silent.ms >= 250 && silent.ms < 1400, `closed after ${silent.ms} ms of silence`);
  // Twice on one keep-alive connection: an answer that takes longer than the idle timeout arrives.
  const agent = new Agent({ connections: 1 });
  t.teardown(() => agent.close());
  for (let i = 0; i < 2; i++) {
    const res = await request(`${url}/v1/slow`, { dispatcher: agent });
    t.equal(res.statusCode, 200, `slow answer ${i} delivered after the idle timeout`);
    t.same(await res.body.json(), { slow: true });
  }
  // An answer that never comes: a 503 in the JSON shape at the backstop, and the connection closed.
  const started = Date.now();
  const res = await request(`${url}/v1/never`, { dispatcher: agent });
  t.equal(res.statusCode, 503);
  t.equal(res.headers.connection, "close");
  t.match(await res.body.json(), { error: { code: "CELLAR_ERR_SERVICE_TIMEOUT" } });
  t.ok(Date.now() - started >= 1400, `after the backstop (${Date.now() - started} ms)`);
  // The service still answers.
  t.equal((await request(`${url}/v1/hello`)).statusCode, 200);
});

t.test("a client that stops reading its answer is cut off at the idle timeout, not the backstop", async (t) => {
  const limits = { idleTimeoutMs: 300, responseTimeoutMs: 5000 };
  const big = Buffer.alloc(32 << 20, 7);
  const { app, port } = await serve({ limits }, (a) => {
    a.get("/v1/big", async (_request, reply) => reply.type("application/octet-stream").send(big));
  });
  const closed = new Promise<number>((resolve) =>
    app.server.once("connection", (socket: Socket) => {
      const opened = Date.now();
      socket.once("close", () => resolve(Date.now() - opened));
    }),
  );
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  t.teardown(() => socket.destroy());
  socket.once("connect", () => {
    socket.write("GET /v1/big HTTP/1.1\r\nHost: x\r\n\r\n");
    socket.pause(); // never reads: the answer backs up in the socket buffers
  });
  const ms = await closed;
  t.ok(ms < 4000, `the server closed the stalled answer after ${ms} ms (idle timeout 300 ms, backstop 5 s)`);
});

t.test("bodies are capped from the content-length and while they stream", async (t) => {
  const { url } = await serve({ limits: { bodyLimit: 1024 } });
  const ok = await request(`${url}/v1/upload`, { method: "PUT", body: Buffer.alloc(1024) });
  t.same(await ok.body.json(), { bytes: 1024 });
  const declared = await request(`${url}/v1/upload`, { method: "PUT", body: Buffer.alloc(1025) });
  t.equal(declared.statusCode, 413);
  t.match(await declared.body.json(), { error: { code: "CELLAR_ERR_NODE_TOO_LARGE" } });
  // No content-length: counted as it arrives.
  const streamed = await request(`${url}/v1/upload`, {
    method: "PUT",
    body: Readable.from(Array.from({ length: 64 }, () => Buffer.alloc(100))),
  });
  t.equal(streamed.statusCode, 413);
  await streamed.body.dump();
});

t.test("a flood from one address gets 429 with Retry-After; another address is still served", async (t) => {
  const { url } = await serve({ limits: { rateLimit: { max: 20, windowMs: 60_000 } } });
  const flooder = new Agent({ localAddress: "127.0.0.1" });
  const other = new Agent({ localAddress: "127.0.0.2" });
  t.teardown(() => Promise.all([flooder.close(), other.close()]));
  const statuses: number[] = [];
  let retryAfter = "";
  for (let i = 0; i < 40; i++) {
    const res = await request(`${url}/v1/hello`, { dispatcher: flooder });
    statuses.push(res.statusCode);
    if (res.statusCode === 429) {
      retryAfter = String(res.headers["retry-after"]);
      t.match(await res.body.json(), { error: { code: "CELLAR_ERR_SERVICE_RATE_LIMITED" } });
    } else await res.body.dump();
  }
  t.equal(statuses.filter((s) => s === 200).length, 20, "the budget: 20 served");
  t.equal(statuses.filter((s) => s === 429).length, 20, "the rest refused");
  t.match(retryAfter, /^\d+$/, "Retry-After in seconds");
  const res = await request(`${url}/v1/hello`, { dispatcher: other });
  t.equal(res.statusCode, 200, "another client is unaffected");
  await res.body.dump();
  // Health, readiness and metrics are outside the budget: a monitor is never locked out.
  const health = await request(`${url}/healthz`, { dispatcher: flooder });
  t.equal(health.statusCode, 200);
  await health.body.dump();
  const metrics = await (await request(`${url}/metrics`, { dispatcher: flooder })).body.text();
  t.match(metrics, /cellar_http_refused_total\{code="CELLAR_ERR_SERVICE_RATE_LIMITED"\} 20/);
});

t.test("the request budget: a window per address, refused before routing, in bounded memory", async (t) => {
  const budget = new AddressBudget(2, 1000, 3);
  t.equal(budget.take("a", 0), 0);
  t.equal(budget.take("a", 0), 0);
  t.equal(budget.take("a", 100), 1, "past the budget: retry once the window ends");
  t.ok(budget.firstRefusal("a"));
  t.equal(budget.take("a", 100), 1);
  t.notOk(budget.firstRefusal("a"), "only the first refusal of a window is the first");
  t.equal(budget.take("a", 1000), 0, "a new window");
  budget.take("b", 1000);
  budget.take("c", 1000);
  t.equal(budget.size, 3);
  budget.take("d", 1500);
  t.equal(budget.size, 3, "every window current: the oldest address goes");
  budget.take("e", 2600);
  t.equal(budget.size, 1, "finished windows are dropped");

  const lines: unknown[] = [];
  const logger = {
    level: "info",
    info: (obj: unknown) => lines.push(obj),
    child: () => logger,
    ...Object.fromEntries(["error", "warn", "debug", "trace", "fatal", "silent"].map((k) => [k, () => {}])),
  } as unknown as NonNullable<ServiceOptions["logger"]>;
  const { url, port } = await serve({ corsReads: true, logger, limits: { rateLimit: { max: 1, windowMs: 60_000 } } });
  const first = await request(`${url}/v1/hello`);
  t.equal(first.statusCode, 200);
  await first.body.dump();
  const get = await request(`${url}/v1/hello`);
  t.equal(get.statusCode, 429);
  t.equal(get.headers["access-control-allow-origin"], "*", "a refused read still answers any origin");
  t.match(await get.body.json(), { error: { code: "CELLAR_ERR_SERVICE_RATE_LIMITED", message: /retry in \d+ s/ } });
  const head = await request(`${url}/v1/hello`, { method: "HEAD" });
  t.equal(head.statusCode, 429);
  t.equal(await head.body.text(), "", "no body for HEAD");
  const put = await request(`${url}/v1/upload`, { method: "PUT", body: Buffer.alloc(10) });
  t.equal(put.statusCode, 429);
  t.equal(put.headers["access-control-allow-origin"], undefined, "writes stay closed to other origins");
  await put.body.dump();
  t.equal(lines.filter((l) => (l as { client?: string }).client !== undefined).length, 1, "logged once a window");
  // Refused from its headers, then a malformed body: one answer on the socket, not two.
  const { answer } = await rawUntilClosed(
    port,
    "POST /v1/upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
  );
  t.equal(answer.match(/HTTP\/1\.1 \d{3}/g)?.join(), "HTTP/1.1 429", answer);
});

t.test("/readyz: 200 with every check, 503 naming the failing ones", async (t) => {
  let storeOpen = true;
  const { url } = await serve({
    ready: {
      store: () => storeOpen || "store closed",
      kzg: async () => true,
      l1: () => {
        throw new Error("rpc unreachable");
      },
    },
    health: () => ({ batches: 3 }),
  });
  const failing = await request(`${url}/readyz`);
  t.equal(failing.statusCode, 503);
  t.match(await failing.body.json(), {
    error: { code: "CELLAR_ERR_SERVICE_NOT_READY", message: /l1 \(rpc unreachable\)/ },
    checks: { store: true, kzg: true, l1: "rpc unreachable" },
  });
  const { url: url2 } = await serve({ ready: { store: () => storeOpen || "store closed" } });
  t.same(await (await request(`${url2}/readyz`)).body.json(), { status: "ready", checks: { store: true } });
  storeOpen = false;
  t.equal((await request(`${url2}/readyz`)).statusCode, 503);
  t.same(await (await request(`${url}/healthz`)).body.json(), { status: "ok", batches: 3 });
});

t.test("CORS: reads answer any origin, writes stay closed to cross-origin callers", async (t) => {
  const { url } = await serve({ corsReads: true });
  const get = await request(`${url}/v1/hello`, { headers: { origin: "http://page.test" } });
  t.equal(get.headers["access-control-allow-origin"], "*");
  await get.body.dump();
  const preflightGet = await request(`${url}/v1/hello`, {
    method: "OPTIONS",
    headers: { origin: "http://page.test", "access-control-request-method": "GET" },
  });
  t.equal(preflightGet.statusCode, 204);
  t.equal(preflightGet.headers["access-control-allow-methods"], "GET, HEAD");
  await preflightGet.body.dump();
  const preflightPut = await request(`${url}/v1/upload`, {
    method: "OPTIONS",
    headers: { origin: "http://page.test", "access-control-request-method": "PUT" },
  });
  t.equal(preflightPut.statusCode, 403);
  t.equal(preflightPut.headers["access-control-allow-origin"], undefined, "no CORS header on a write");
  t.match(await preflightPut.body.json(), { error: { code: "CELLAR_ERR_SERVICE_CROSS_ORIGIN" } });
  const put = await request(`${url}/v1/upload`, { method: "PUT", body: "x", headers: { origin: "http://page.test" } });
  t.equal(put.headers["access-control-allow-origin"], undefined, "a write's answer is not readable cross-origin");
  await put.body.dump();
});

t.test("errors: a bug is a 500 that reveals nothing; unknown routes are the service's 404", async (t) => {
  const { url } = await serve({}, (app) => {
    app.get("/bug", async () => {
      throw new Error("secret detail");
    });
  });
  const bug = await request(`${url}/bug`);
  t.equal(bug.statusCode, 500);
  t.same(await bug.body.json(), { error: { code: "CELLAR_ERR_SERVICE_INTERNAL", message: "internal error" } });
  const missing = await request(`${url}/nope`);
  t.equal(missing.statusCode, 404);
  t.match(await missing.body.json(), { error: { code: "CELLAR_ERR_NODE_NOT_FOUND" } });
});

t.test("the work queue keeps slots for other clients: one client runs at most its running cap", async (t) => {
  t.throws(() => new WorkQueue({ name: "x", concurrency: 2, maxQueued: 1, maxRunningPerClient: 0 }), {
    code: "CELLAR_ERR_SERVICE_CONFIG",
  });
  const q = new WorkQueue({ name: "post", concurrency: 2, maxQueued: 2, maxPerClient: 3, maxRunningPerClient: 1 });
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const job = (name: string) => () =>
    new Promise<string>((resolve) => {
      started.push(name);
      gates.set(name, () => resolve(name));
    });
  const a1 = q.run(job("a1"), "a");
  const a2 = q.run(job("a2"), "a");
  // The flooder's second job waits although a slot is free: the slot is another client's.
  t.same(started, ["a1"]);
  t.equal(q.running, 1);
  t.equal(q.queued, 1);
  const b1 = q.run(job("b1"), "b");
  t.same(started, ["a1", "b1"], "another client starts at once");
  // Both places taken (a2 waiting, one more would need to wait): refused.
  const a3 = q.run(job("a3"), "a");
  t.equal(q.queued, 2);
  await t.rejects(q.run(job("c1"), "c"), { code: "CELLAR_ERR_SERVICE_BUSY" });
  // Work without a client is not capped.
  gates.get("b1")?.();
  t.equal(await b1, "b1");
  t.same(started, ["a1", "b1"], "a's waiting jobs do not take b's slot while a1 runs");
  const own = q.run(job("own"), "");
  t.same(started, ["a1", "b1", "own"]);
  gates.get("a1")?.();
  t.equal(await a1, "a1");
  await sleep(1);
  t.same(started, ["a1", "b1", "own", "a2"], "a's next job starts in order once a1 is done");
  gates.get("own")?.();
  gates.get("a2")?.();
  t.same(await Promise.all([own, a2]), ["own", "a2"]);
  await sleep(1);
  gates.get("a3")?.();
  t.equal(await a3, "a3");
  t.equal(q.running, 0);
  t.equal(q.queued, 0);
});

t.test("the work queue runs a fixed number of jobs, queues a fixed number, refuses the rest", async (t) => {
  t.throws(() => new WorkQueue({ name: "x", concurrency: 0, maxQueued: 1 }), { code: "CELLAR_ERR_SERVICE_CONFIG" });
  t.throws(() => new WorkQueue({ name: "x", concurrency: 1, maxQueued: -1 }), { code: "CELLAR_ERR_SERVICE_CONFIG" });
  const q = new WorkQueue({ name: "verify", concurrency: 2, maxQueued: 2, maxPerClient: 3 });
  const order: number[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const job = (n: number) => async () => {
    await gate;
    order.push(n);
    return n;
  };
  const running = [q.run(job(1), "a"), q.run(job(2), "b"), q.run(job(3), "a"), q.run(job(4), "b")];
  t.equal(q.running, 2);
  t.equal(q.queued, 2);
  await t.rejects(q.run(job(5), "c"), { code: "CELLAR_ERR_SERVICE_BUSY", context: { retryAfterSeconds: 1 } });
  release();
  t.same(await Promise.all(running), [1, 2, 3, 4]);
  t.equal(q.running, 0);
  t.equal(q.refused, 1);
  // One client's share.
  const own = new WorkQueue({ name: "post", concurrency: 4, maxQueued: 4, maxPerClient: 1 });
  const first = own.run(() => sleep(20), "a");
  await t.rejects(
    own.run(async () => {}, "a"),
    { code: "CELLAR_ERR_SERVICE_CLIENT_BUSY" },
  );
  await own.run(async () => {}, "b");
  await first;
  await own.run(async () => {}, "a");
  // A failing job frees its slot.
  await t.rejects(
    own.run(async () => {
      throw new Error("boom");
    }, "a"),
    /boom/,
  );
  t.equal(own.running, 0);
});
