import { CellarError } from "@cellar/utils";
import { SingleBar } from "cli-progress";

/** Where a command writes: injected so tests and embedders can capture it. */
export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream;
}

export interface Progress {
  update(done: number, total: number, stage?: string): void;
  stop(): void;
}

const silent: Progress = { update() {}, stop() {} };

/** A progress bar on stderr when it is a terminal and the output is for people; otherwise none. */
export function progressBar(io: Io, enabled: boolean): Progress {
  if (!enabled || !io.stderr.isTTY) return silent;
  const bar = new SingleBar({
    stream: io.stderr,
    format: "{stage} [{bar}] {value}/{total} blobs | {percentage}% | ETA {eta_formatted}",
    barCompleteChar: "█",
    barIncompleteChar: "░",
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  return {
    update(done, total, stage = "working") {
      if (!started) {
        bar.start(total, done, { stage });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { stage });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** One clear line for an error: the message and, for Cellar errors, the stable code. */
export function describeError(err: unknown): string {
  if (err instanceof CellarError) return `${err.message} [${err.code}]`;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}
