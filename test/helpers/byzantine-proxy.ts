// A Byzantine storage node for tests: an HTTP proxy on loopback in front of a real node that
// forwards every request and, by its mode, lies in the answer (cells of another blob, flipped
// bits, wrong proofs, another batch's data, a trickle, an endless body, forged or replayed
// attestations). The real node behind it stays honest, so a test can compare.
import { randomBytes, randomInt } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BYTES_PER_CELL, BYTES_PER_COLUMN_ENTRY } from "@cellar/params";
import { generateSecretKey, signAttestation } from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import { Agent, request } from "undici";

export const BYZANTINE_MODES = [
  "honest",
  "other-blob",
  "flip",
  "wrong-proof",
  "stale",
  "truncated",
  "slow-loris",
  "oversized",
  "forge-attestation",
  "replay-attestation",
] as const;
export type ByzantineMode = (typeof BYZANTINE_MODES)[number];

/** Modes that lie in what they serve (reads), as opposed to what they sign. */
export const LYING_READ_MODES: readonly ByzantineMode[] = [
  "other-blob",
  "flip",
  "wrong-proof",
  "stale",
  "truncated",
  "slow-loris",
  "oversized",
];

export interface ByzantineProxy {
  readonly url: string;
  mode: ByzantineMode;
  /** A root this node also holds, served in place of the one asked for in `stale` mode. */
  staleRoot: string | undefined;
  /** Answers that were altered. */
  readonly lies: number;
  close(): Promise<void>;
}

const READ = /^\/v1\/batches\/(0x[0-9a-fA-F]{64})\/(columns\/\d+|cells\/\d+\/\d+|manifest)$/;
const DISPERSE = /^\/v1\/batches\/(0x[0-9a-fA-F]{64})\/columns(\?.*)?$/;

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

/** Rotates the 2096-byte entries of a column (`what`: the whole entry, or the proofs only). */
function rotate(bytes: Buffer, what: "entry" | "proof"): Buffer {
  const n = bytes.length / BYTES_PER_COLUMN_ENTRY;
  if (!Number.isInteger(n) || n < 2) return flip(bytes);
  const out = Buffer.from(bytes);
  for (let b = 0; b < n; b++) {
    const from = ((b + 1) % n) * BYTES_PER_COLUMN_ENTRY;
    const to = b * BYTES_PER_COLUMN_ENTRY;
    if (what === "entry") bytes.copy(out, to, from, from + BYTES_PER_COLUMN_ENTRY);
    else bytes.copy(out, to + BYTES_PER_CELL, from + BYTES_PER_CELL, from + BYTES_PER_COLUMN_ENTRY);
  }
  return out;
}

function flip(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  if (out.length === 0) return out;
  const at = randomInt(out.length);
  out[at] = (out[at] as number) ^ (1 << randomInt(8));
  return out;
}

/** Starts a proxy in front of the node at `upstream`, honest until its mode is set. */
export async function startByzantineProxy(upstream: string, mode: ByzantineMode = "honest"): Promise<ByzantineProxy> {
  const agent = new Agent({ connections: 8 });
  const forger = generateSecretKey(new Uint8Array(randomBytes(32)));
  let firstSignature: string | undefined;
  let lies = 0;
  const open = new Set<ServerResponse>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "/";
    const mode = proxy.mode;
    const read = req.method === "GET" ? READ.exec(path) : null;
    let target = path;
    if (read && mode === "stale" && proxy.staleRoot !== undefined)
      target = path.replace(read[1] as string, proxy.staleRoot);
    const upstreamRes = await request(`${upstream}${target}`, {
      method: req.method as "GET",
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !["host", "connection", "transfer-encoding"].includes(k)),
      ) as Record<string, string>,
      body: req.method === "GET" || req.method === "HEAD" ? null : await body(req),
      dispatcher: agent,
    });
    let out: Buffer = Buffer.from(await upstreamRes.body.arrayBuffer());
    const type = String(upstreamRes.headers["content-type"] ?? "application/octet-stream");
    const ok = upstreamRes.statusCode === 200;
    const cells = ok && read !== null && !read[2]?.startsWith("manifest");
    if (cells) {
      if (mode === "other-blob") out = rotate(out, "entry");
      else if (mode === "wrong-proof") out = rotate(out, "proof");
      else if (mode === "flip") out = flip(out);
      else if (mode === "truncated") out = out.subarray(0, Math.floor(out.length / 2));
      if (["other-blob", "wrong-proof", "flip", "truncated"].includes(mode)) lies++;
      if (mode === "stale" && target !== path) lies++;
      if (mode === "slow-loris") {
        lies++;
        res.writeHead(200, { "content-type": type, "content-length": String(out.length) });
        for (let i = 0; i < out.length && !res.destroyed; i++) {
          res.write(out.subarray(i, i + 1));
          await new Promise((r) => setTimeout(r, 200));
        }
        res.end();
        return;
      }
      if (mode === "oversized") {
        lies++;
        res.writeHead(200, { "content-type": type });
        const chunk = randomBytes(1 << 20);
        for (let i = 0; i < 50 && !res.destroyed; i++) {
          if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
        }
        res.end();
        return;
      }
    }
    const dispersal = req.method === "PUT" && DISPERSE.exec(path);
    if (dispersal && ok) {
      const answer = JSON.parse(out.toString()) as { signature: string };
      firstSignature ??= answer.signature;
      const reference = BigInt(new URL(path, "http://x").searchParams.get("reference") ?? "0");
      if (mode === "forge-attestation") {
        // A well-formed signature by a key that is not this node's.
        answer.signature = toHex(
          signAttestation(
            forger,
            { chainId: 31337n, inbox: new Uint8Array(20) },
            fromHex(dispersal[1] as string, 32),
            reference,
          ),
        );
        lies++;
      } else if (mode === "replay-attestation" && answer.signature !== firstSignature) {
        // This node's genuine signature, but over the first batch it ever signed.
        answer.signature = firstSignature;
        lies++;
      }
      out = Buffer.from(JSON.stringify(answer));
    }
    res.writeHead(upstreamRes.statusCode, { "content-type": type, "content-length": String(out.length) });
    res.end(out);
  };

  const server: Server = createServer((req, res) => {
    open.add(res);
    res.on("close", () => open.delete(res));
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxy: ByzantineProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    mode,
    staleRoot: undefined,
    get lies() {
      return lies;
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
  return proxy;
}
