import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { type AddressInfo, createServer, type Server } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { killOnExit } from "@cellar/utils";
import { CliError } from "../errors.js";

/** The `cellar` executable: the same depth from src/devnet and dist/devnet. */
export const CELLAR_BIN = fileURLToPath(new URL("../../bin/cellar.js", import.meta.url));

/**
 * `n` distinct free TCP ports on 127.0.0.1, chosen by the kernel: each is bound on port 0 and
 * all are held until every one is chosen, then released for the children to take.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
      ports.push((server.address() as AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** A long-lived `cellar <role>` child process that printed its ready line. */
export interface ChildServer {
  readonly role: string;
  readonly pid: number;
  /** The process itself, for a caller that signals it or reads its stderr as it comes. */
  readonly child: ChildProcess;
  readonly url: string;
  /** The ready line, parsed (`{event: "listening", url, …}`). */
  readonly ready: Record<string, unknown>;
  /** The argv that started it (`[node, cellar.js, role, …]`): running it again restarts it. */
  readonly command: string[];
  /** Resolves once the process has ended, with its exit code or signal. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL (a crash, as far as the process can tell); resolves once it is gone. */
  kill(): Promise<void>;
}

export interface SpawnServerOptions {
  /** The command line after `cellar`: role first, then its flags (`--json` is added). */
  readonly args: readonly string[];
  /** How long to wait for the ready line. */
  readonly timeoutMs?: number;
  /** Appends the child's stderr (its JSON log) to this file. */
  readonly logFile?: string;
}

/**
 * Starts `cellar ARGS --json` as a child process and resolves once it prints its ready line
 * (`{"event":"listening","url":…}`). Rejects with CELLAR_ERR_CLI_DEVNET_START if it exits first
 * or stays silent past the timeout; the child is then killed, never left behind.
 */
export function spawnServer(options: SpawnServerOptions): Promise<ChildServer> {
  const role = options.args[0] ?? "";
  const command = [process.execPath, CELLAR_BIN, ...options.args, "--json"];
  const child: ChildProcess = spawn(command[0] as string, command.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  killOnExit(child);
  // "close", not "exit": by then stderr is read to the end, so a failure can quote its last line.
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once("close", (code, signal) => resolve(code ?? signal)),
  );
  let tail = "";
  if (options.logFile !== undefined) child.stderr?.pipe(createWriteStream(options.logFile, { flags: "a" }));
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
    tail = `${tail}${line}\n`.slice(-2000);
  });
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await exited;
  };
  const failed = (why: string) =>
    new CliError("CELLAR_ERR_CLI_DEVNET_START", `cellar ${role} ${why}${tail ? `: ${lastLine(tail)}` : ""}`, {
      role,
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(failed(`printed no ready line in ${options.timeoutMs ?? 60_000} ms`));
    }, options.timeoutMs ?? 60_000);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => {
      let ready: Record<string, unknown>;
      try {
        ready = JSON.parse(line) as Record<string, unknown>;
      } catch {
        ready = {};
      }
      // A failure's JSON line ({error}): the child is exiting; its exit reports it with its stderr.
      if (typeof ready.error === "object" && ready.error !== null) return;
      clearTimeout(timer);
      if (typeof ready.url !== "string") {
        child.kill("SIGKILL");
        reject(failed(`printed an unexpected first line: ${line.slice(0, 200)}`));
        return;
      }
      resolve({ role, pid: child.pid as number, child, url: ready.url, ready, command, exited, stop, kill });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(failed(`exited (${code}) before it was ready`));
    });
  });
}

/**
 * What a failed child said last: its one-line CLI error (`cellar: …`) when it printed one, else
 * the message of its last JSON log line, else that line as it is.
 */
function lastLine(tail: string): string {
  const lines = tail.trim().split("\n");
  const error = lines.findLast((l) => l.startsWith("cellar: "));
  if (error !== undefined) return error;
  const line = lines.at(-1) ?? "";
  try {
    const parsed = JSON.parse(line) as { msg?: unknown; err?: { message?: unknown } };
    const message = parsed.err?.message ?? parsed.msg;
    if (typeof message === "string") return message;
  } catch {
    // not JSON: the line itself
  }
  return line.slice(0, 300);
}

/** True while a process with this pid exists (signal 0 probes without touching it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
