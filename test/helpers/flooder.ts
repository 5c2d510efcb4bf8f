// A flooding client in a process of its own, so that its work is not counted in the measured
// process: `startFlood(plan)` spawns this file, which sends each target's requests at the given
// rate from `localAddress` for `durationMs`, then reports how they were answered. With `sink`,
// the same flood goes to a server in the flooder's own process that refuses everything (429):
// the machine carries the same work, but none of it lands on the flooded service (the control).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getPriority, setPriority } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";

/** One kind of request the flooder sends, `perSecond` times a second. */
export interface FloodTarget {
  readonly method: "GET" | "PUT" | "POST";
  readonly url: string;
  readonly perSecond: number;
  /** A fixed body (hex), or `randomBytes` fresh random bytes per request. */
  readonly body?: string;
  readonly randomBytes?: number;
  readonly headers?: Record<string, string>;
}

export interface FloodPlan {
  readonly localAddress: string;
  readonly durationMs: number;
  readonly connections: number;
  readonly targets: readonly FloodTarget[];
  /** Send the flood to a refusing server in the flooder's process instead (same paths). */
  readonly sink?: boolean;
  /** How much lower than this process the flooder's CPU priority is (default 10; 0: the same). */
  readonly nice?: number;
}

export interface FloodReport {
  /** Requests sent and answered, by status ("error" for a request that got no answer). */
  readonly answers: Record<string, number>;
  readonly sent: number;
  /** Requests not sent because every connection was busy (the flooder could not keep up). */
  readonly skipped: number;
  readonly seconds: number;
  /** The `id` (or `root`) of every 200 answer to a write that carried one: what the service acknowledged. */
  readonly acknowledged: string[];
}

export interface Flood {
  /** Resolves with the report once the flood is over. */
  readonly done: Promise<FloodReport>;
  readonly child: ChildProcess;
}

/** Starts the flood in a child process; resolves once its first requests are going out. */
export async function startFlood(plan: FloodPlan): Promise<Flood> {
  const env = { ...process.env };
  delete env.NODE_V8_COVERAGE;
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), JSON.stringify(plan)], {
    stdio: ["ignore", "pipe", "inherit"],
    env,
  });
  // A real flooder runs on machines of its own: its own work (making and pacing requests, reading
  // answers) is not a cost the flooded service imposes on anyone. Here it shares the cores, so it
  // runs at a lower priority: it gets the CPU the services leave (plenty for ten times a budget,
  // and the report says whether it kept its rate), and does not slow them by its own work.
  if (child.pid !== undefined) setPriority(child.pid, Math.min(19, getPriority(process.pid) + (plan.nice ?? 10)));
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  const it = lines[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value !== "started") throw new Error(`the flooder did not start: ${first.value}`);
  const done = (async () => {
    const line = await it.next();
    if (line.done) throw new Error("the flooder ended without a report");
    return JSON.parse(line.value) as FloodReport;
  })();
  return { done, child };
}

/** A server that reads and drops every request and answers 429, as a flooded service's budget would. */
async function startSink(): Promise<{ origin: string; close: () => void }> {
  const body = JSON.stringify({ error: { code: "CELLAR_ERR_SERVICE_RATE_LIMITED", message: "sink" } });
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(429, { "content-type": "application/json", "content-length": body.length, "retry-after": "1" });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function flood(given: FloodPlan): Promise<FloodReport> {
  const sink = given.sink ? await startSink() : undefined;
  const plan = sink
    ? {
        ...given,
        targets: given.targets.map((x) => {
          const url = new URL(x.url);
          return { ...x, url: `${sink.origin}${url.pathname}${url.search}` };
        }),
      }
    : given;
  const agent = new Agent({
    localAddress: plan.localAddress,
    connections: plan.connections,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const answers: Record<string, number> = {};
  const acknowledged: string[] = [];
  let sent = 0;
  let skipped = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const one = async (target: FloodTarget) => {
    inFlight++;
    sent++;
    try {
      const body =
        target.randomBytes !== undefined
          ? randomBytes(target.randomBytes)
          : target.body !== undefined
            ? Buffer.from(target.body, "hex")
            : null;
      const res = await request(target.url, {
        method: target.method,
        headers: { ...(body ? { "content-type": "application/octet-stream" } : {}), ...target.headers },
        body,
        dispatcher: agent,
      });
      const text = await res.body.text();
      answers[res.statusCode] = (answers[res.statusCode] ?? 0) + 1;
      if (res.statusCode === 200 && target.method !== "GET") {
        const json = JSON.parse(text) as { id?: unknown; root?: unknown };
        const id = json.id ?? json.root;
        if (typeof id === "string") acknowledged.push(id);
      }
    } catch {
      answers.error = (answers.error ?? 0) + 1;
    } finally {
      inFlight--;
    }
  };
  // Every 10 ms, each target is sent what its rate owes since the start (a late timer sends more).
  const tickMs = 10;
  const sentOf = plan.targets.map(() => 0);
  const started = performance.now();
  process.stdout.write("started\n");
  for (let elapsed = 0; elapsed < plan.durationMs; elapsed = performance.now() - started) {
    for (const [i, target] of plan.targets.entries()) {
      while ((sentOf[i] as number) < (target.perSecond * elapsed) / 1000) {
        sentOf[i] = (sentOf[i] as number) + 1;
        // Past twice the connections, requests would only queue inside this client.
        if (inFlight >= plan.connections * 2) {
          skipped++;
          continue;
        }
        const p = one(target);
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  sink?.close();
  return { answers, sent, skipped, seconds, acknowledged };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await flood(JSON.parse(process.argv[2] as string) as FloodPlan);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
