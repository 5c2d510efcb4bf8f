import type { ChildProcess } from "node:child_process";

const running = new Set<ChildProcess>();

/** SIGKILL for every tracked child still running when this process exits. */
function reap(): void {
  for (const child of running) child.kill("SIGKILL");
}

/**
 * Makes sure `child` does not outlive this process: an orderly stop ends it first, and if this
 * process exits any other way (an uncaught error, `process.exit`), it is killed on the way out.
 * Only SIGKILL of this process itself can orphan it.
 */
export function killOnExit(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (running.size === 0) process.once("exit", reap);
  running.add(child);
  child.once("exit", () => {
    running.delete(child);
    if (running.size === 0) process.off("exit", reap);
  });
}
