// A throwaway PostgreSQL server for the devnet (`--store postgres`) and the tests: `initdb` a
// cluster in a temporary directory, start it with `pg_ctl` on a free loopback port (its Unix
// socket inside that directory), stop and remove it after. PostgreSQL refuses to run as root, so as
// root the cluster belongs to the `postgres` user and every server command runs through `runuser`.
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import { freePorts } from "./children.js";

const run = promisify(execFile);

export interface Postgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server (fast shutdown) and keeps its data. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes the directory. */
  close(): Promise<void>;
}

/** Where `initdb` and `pg_ctl` are: the PATH, else Debian's versioned directory. */
export function postgresBin(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir && existsSync(join(dir, "initdb"))) return dir;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  for (const version of readdirSync(root).sort().reverse()) {
    const bin = join(root, version, "bin");
    if (existsSync(join(bin, "initdb"))) return bin;
  }
  return undefined;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresMissing(): string | undefined {
  if (postgresBin() === undefined) return "PostgreSQL (initdb, pg_ctl) is not installed";
  if (process.getuid?.() === 0) {
    try {
      uidOf("postgres");
    } catch {
      return "running as root without a postgres user";
    }
  }
  return undefined;
}

function uidOf(user: string): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.split(":")[0] === user);
  if (!line) throw new Error(`no user ${user}`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** Initialises and starts a cluster on loopback; `close()` stops it and removes its files. */
export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBin();
  if (bin === undefined) throw new Error("PostgreSQL (initdb, pg_ctl) is not installed");
  const root = mkdtempSync(join(tmpdir(), "cellar-pg-"));
  const dir = join(root, "data");
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? uidOf("postgres") : undefined;
  if (owner) {
    chmodSync(root, 0o755);
    chownSync(root, owner.uid, owner.gid);
  }
  const pg = async (tool: string, args: string[]) => {
    const command = join(bin, tool);
    const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
    await run(file, argv, { timeout: 60_000 });
  };
  await pg("initdb", ["-D", dir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const [port] = (await freePorts(1)) as [number];
  const options = `-h 127.0.0.1 -p ${port} -k ${root} -c fsync=off -c max_connections=200`;
  const start = () => pg("pg_ctl", ["-D", dir, "-o", options, "-l", join(root, "server.log"), "-w", "start"]);
  const stop = () => pg("pg_ctl", ["-D", dir, "-m", "fast", "-w", "stop"]);
  await start();
  let running = true;
  // A process that ends without close() (an uncaught error) still takes its server with it.
  const onExit = () => {
    if (!running) return;
    const argv = ["-D", dir, "-m", "immediate", "-w", "stop"];
    const command = join(bin, "pg_ctl");
    try {
      if (asRoot) execFileSync("runuser", ["-u", "postgres", "--", command, ...argv], { stdio: "ignore" });
      else execFileSync(command, argv, { stdio: "ignore" });
      rmSync(root, { recursive: true, force: true });
    } catch {}
  };
  process.once("exit", onExit);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async close() {
      if (running) await stop().catch(() => {});
      running = false;
      process.off("exit", onExit);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
