#!/usr/bin/env node
import { availableParallelism } from "node:os";

// KZG work runs on the libuv thread pool; size it to the machine before anything uses it
// (libuv reads this once, at the pool's first use). An operator's own setting wins.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()));

const { main } = await import("./program.js");
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
