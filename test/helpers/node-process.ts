import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { toHex } from "@cellar/utils";
import { CELLAR_BIN } from "./cli.js";
import { TEST_DISPERSER, TEST_DISPERSER_KEY } from "./cluster.js";

let keyFile: string | undefined;
/** The test disperser's key as a key file (written once per process), for `cellar disperser --key`. */
export function testDisperserKeyFile(): string {
  if (keyFile === undefined) {
    keyFile = join(mkdtempSync(join(tmpdir(), "cellar-test-disperser-")), "disperser.key");
    writeFileSync(keyFile, `${toHex(TEST_DISPERSER_KEY.toBytes())}\n`, { mode: 0o600 });
  }
  return keyFile;
}

/**
 * What test processes are given unless a test says otherwise: nodes accept the test disperser's
 * key, and the disperser signs with it.
 */
function defaults(role: string, args: readonly string[]): string[] {
  if (role === "node" && !args.includes("--disperser-key")) return ["--disperser-key", toHex(TEST_DISPERSER)];
  if (role === "disperser" && !args.includes("--key")) return ["--key", testDisperserKeyFile()];
  return [];
}

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly ready: { url: string; nodeId: string; publicKey: string; custody: number; nodes?: number };
  /** Resolves with the exit code or signal once the process has ended and its output is read. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
}

/**
 * Starts `cellar node` as a child process on a free loopback port and resolves once its ready
 * line is out. Rejects if it exits first, or after `timeoutMs`.
 */
export function startNodeProcess(args: string[], timeoutMs = 120_000): Promise<NodeProcess> {
  return startServerProcess("node", args, timeoutMs);
}

/**
 * Every server child still running. A test file that dies before its teardown runs (an uncaught
 * error in its top-level set-up) must not leave them behind: they are killed when this process exits.
 */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts `cellar <role>` (node, disperser, …) on a free loopback port; resolves on its ready line.
 * The deadline is generous (a loaded machine takes seconds to load the KZG setup): it tells a hang
 * from a slow start, not a fast start from a slow one.
 */
export function startServerProcess(role: string, args: string[], timeoutMs = 120_000): Promise<NodeProcess> {
  const child = spawn(
    process.execPath,
    [CELLAR_BIN, role, "--port", "0", "--json", "--log-level", "warn", ...defaults(role, args), ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    // 'close', not 'exit': the process has ended and its output has been read to the end.
    child.once("close", (code, signal) => resolve(code ?? signal)),
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`cellar ${role} did not start in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => {
      try {
        const ready = JSON.parse(line);
        // A failure's JSON line: the exit below reports it, with stderr.
        if (ready.error !== undefined) return;
        clearTimeout(timer);
        resolve({ child, url: ready.url, ready, exited });
      } catch {
        clearTimeout(timer);
        reject(new Error(`unexpected first line from cellar ${role}: ${line}`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`cellar ${role} exited (${code}) before it was ready: ${stderr}`));
    });
  });
}
