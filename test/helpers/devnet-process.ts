import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { type DevnetInfo, isAlive } from "@cellar/cli";
import { CELLAR_BIN } from "./cli.js";

export interface DevnetProcess {
  readonly child: ChildProcess;
  /** The ready line: devnet.json's content plus `file`, its path. */
  readonly info: DevnetInfo & { file: string };
  /** Lines printed on stdout after the ready line (the `stopped` event). */
  readonly lines: string[];
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** SIGTERM, as Ctrl-C or a service manager would; resolves with the exit code. */
  stop(): Promise<number | NodeJS.Signals | null>;
}

/** Runs `cellar devnet --json ARGS` as a user would and resolves once it prints its ready line. */
export function startDevnetProcess(args: string[], timeoutMs = 240_000): Promise<DevnetProcess> {
  const child = spawn(process.execPath, [CELLAR_BIN, "devnet", "--json", "--log-level", "warn", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    // 'close', not 'exit': the process has ended and its output has been read to the end.
    child.once("close", (code, signal) => resolve(code ?? signal)),
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`cellar devnet did not start in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    const input = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    input.once("line", (line) => {
      clearTimeout(timer);
      input.on("line", (l) => lines.push(l));
      const info = JSON.parse(line);
      resolve({
        child,
        info,
        lines,
        exited,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          return exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`cellar devnet exited (${code}) before it was ready: ${stderr}`));
    });
  });
}

/** Every pid a devnet file names (the devnet itself, anvil, disperser replicas, encoders, light node, storage nodes). */
export function devnetPids(info: DevnetInfo): number[] {
  const fleet = [...(info.replicas ?? []), ...(info.encoders ?? [])].map((s) => s.pid);
  return [info.pid, info.l1?.pid, info.disperser.pid, info.light.pid, ...info.nodes.map((n) => n.pid), ...fleet].filter(
    (pid): pid is number => pid !== undefined,
  );
}

/** Waits until none of `pids` is alive (a parent reaps its children a moment after they exit). */
export async function waitGone(pids: readonly number[], timeoutMs = 30_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    alive = alive.filter(isAlive);
  }
  return alive;
}
