import type { ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnServer } from "@cellar/cli";
import { toHex } from "@cellar/utils";
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
 * Starts `cellar <role>` (node, disperser, …) on a free loopback port; resolves on its ready line
 * (the CLI's own `spawnServer`, as the devnet starts its children). The deadline is generous (a
 * loaded machine takes seconds to load the KZG setup): it tells a hang from a slow start, not a
 * fast start from a slow one. A child still running when this process exits is killed with it.
 */
export async function startServerProcess(role: string, args: string[], timeoutMs = 120_000): Promise<NodeProcess> {
  const server = await spawnServer({
    args: [role, "--port", "0", "--log-level", "warn", ...defaults(role, args), ...args],
    timeoutMs,
  });
  return { child: server.child, url: server.url, ready: server.ready as NodeProcess["ready"], exited: server.exited };
}
