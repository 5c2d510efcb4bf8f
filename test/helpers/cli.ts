import { execFile } from "node:child_process";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { type Io, main } from "@cellar/cli";
import { PROJECT_ROOT } from "./vectors.js";

export const CELLAR_BIN = join(PROJECT_ROOT, "packages", "cli", "bin", "cellar.js");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

function collector(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean }; bytes: () => Buffer } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 100;
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, bytes: () => Buffer.concat(chunks) };
}

/** Runs the CLI in this process (sharing its KZG context) with captured streams. */
export async function runCli(argv: string[], opts: { stdin?: Uint8Array; tty?: boolean } = {}): Promise<RunResult> {
  const out = collector(false);
  const err = collector(opts.tty ?? false);
  const io: Io = {
    stdout: out.stream,
    stderr: err.stream,
    stdin: Readable.from(opts.stdin ? [Buffer.from(opts.stdin)] : []),
  };
  const code = await main(argv, io);
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out.bytes().toString(), stderr: err.bytes().toString(), stdoutBytes: out.bytes() };
}

/** Runs the built `cellar` binary as a child process, as a user would. */
export function runBin(argv: string[], opts: { cwd?: string; input?: Uint8Array } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CELLAR_BIN, ...argv],
      { cwd: opts.cwd ?? PROJECT_ROOT, encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString(), stdoutBytes: stdout });
      },
    );
    if (opts.input) child.stdin?.end(Buffer.from(opts.input));
    else child.stdin?.end();
  });
}
