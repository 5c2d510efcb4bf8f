import { reportFormatFor } from "@cellar/bench";
import { rootFromBatchId } from "@cellar/codec";
import { type CommandUnknownOpts, InvalidArgumentError } from "@commander-js/extra-typings";
import { EXIT_USAGE } from "./errors.js";

/**
 * Every argument and flag-value parser of the CLI, in one place. Each throws commander's
 * InvalidArgumentError, so a malformed value is always a usage error (exit 2, and with --json
 * `CELLAR_ERR_CLI_USAGE`), wherever the flag is defined, and nothing has run yet.
 */

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a non-negative integer");
  return n;
}

/** A TCP port to listen on; 0 picks a free one. */
export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("must be a port number (0 picks a free one)");
  return n;
}

/** A chain id: a non-negative integer (decimal or 0x-hex) below 2^256; kept as given. */
export function chainIdArg(value: string): string {
  let id: bigint;
  try {
    id = BigInt(value);
  } catch {
    throw new InvalidArgumentError("must be an integer chain id");
  }
  if (id < 0n || id >= 1n << 256n) throw new InvalidArgumentError("must be a uint256 chain id");
  return value;
}

/** A duration: seconds, or a number with s, m, h or d ("14d"); 0 means forever where allowed. */
export function parseDuration(value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError("must be a duration such as 3600, 90m, 12h or 14d");
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

/** A fraction in (0, 1]. */
export function fraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError("must be a fraction in (0, 1]");
  return n;
}

/** A number strictly between 0 and 1 (a target confidence). */
export function openFraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError("must be a number strictly between 0 and 1");
  return n;
}

/** An OP alt-DA DA-layer byte: the spec allows [0, 127). */
export function daLayerByte(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 126)
    throw new InvalidArgumentError(
      "must be a DA-layer byte in 0..126 (0x00..0x7e), as the OP Stack alt-DA spec allows",
    );
  return n;
}

/** "2/3" or a fraction such as 0.75 → numerator and denominator of the inbox's quorum. */
export function quorumRatio(value: string): { numerator: number; denominator: number } {
  const ratio = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (ratio) {
    const numerator = Number(ratio[1]);
    const denominator = Number(ratio[2]);
    if (numerator >= 1 && numerator <= denominator) return { numerator, denominator };
  } else {
    const x = Number(value);
    if (x > 0 && x <= 1) {
      const denominator = 10_000;
      return { numerator: Math.max(1, Math.round(x * denominator)), denominator };
    }
  }
  throw new InvalidArgumentError(`--quorum must be a fraction in (0, 1] such as 2/3 or 0.75, got ${value}`);
}

/** A non-negative integer too large for a JS number (wei, block counts), kept as its digits. */
export function uintDigits(value: string): string {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`must be a non-negative integer, got ${value}`);
  return value;
}

/** A registry index (0, 1, …). */
export function registryIndex(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a registry index (0, 1, …)");
  return n;
}

/** Disperser public keys (0x + 96 hex digits), comma-separated or repeated. */
export function collectKeys(value: string, previous: string[] = []): string[] {
  const keys = value
    .split(/[\s,]+/)
    .filter((k) => k !== "")
    .map((k) => {
      if (!/^0x[0-9a-fA-F]{96}$/.test(k)) throw new InvalidArgumentError("a disperser key is 0x + 96 hex digits");
      return k.toLowerCase();
    });
  return [...previous, ...keys];
}

/** `--mib`: a positive batch size in MiB (fractions allowed: 0.2 is about two blobs). */
export function parseMib(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number of MiB");
  return n;
}

/** `--workers`: worker counts as a list and/or ranges, "1,2,4" or "1-4". */
export function parseWorkerList(value: string): number[] {
  const counts: number[] = [];
  for (const part of value.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (!m || from < 1 || to < from || to > 1024) {
      throw new InvalidArgumentError('must be worker counts from 1 to 1024, such as "1,2,4" or "1-4"');
    }
    for (let w = from; w <= to; w++) counts.push(w);
  }
  return counts;
}

/** `--out` of the benchmark: a report file ending in .html or .svg. */
export function parseReportPath(value: string): string {
  try {
    reportFormatFor(value);
  } catch {
    throw new InvalidArgumentError("must end in .html or .svg");
  }
  return value;
}

/** A batch id (CID) or 0x root, checked before any network call: a usage error otherwise. */
export function validateId(command: CommandUnknownOpts, id: string): void {
  try {
    rootFromBatchId(id);
  } catch (err) {
    command.error(`${command.name()}: ${(err as Error).message}`, { exitCode: EXIT_USAGE });
  }
}

/** A server or sampler needs --nodes or --registry (with --rpc): a usage error otherwise. */
export function needNodeSet<
  T extends { nodes?: string | undefined; registry?: string | undefined; rpc?: string | undefined },
>(options: T, command: CommandUnknownOpts): T {
  if (options.nodes === undefined && options.registry === undefined)
    command.error(`${command.name()} needs a node set: --nodes FILE, or --rpc URL --registry ADDRESS`, {
      exitCode: EXIT_USAGE,
    });
  if (options.registry !== undefined && options.rpc === undefined)
    command.error(`${command.name()}: --registry needs --rpc URL`, { exitCode: EXIT_USAGE });
  return options;
}

/** `--store`: `lmdb`, or a `postgres://` / `postgresql://` URL. */
export function storeArg(value: string): string {
  if (value === "lmdb" || /^postgres(ql)?:\/\/\S+$/.test(value)) return value;
  throw new InvalidArgumentError("expected lmdb or a postgres://… URL");
}

/** `--store` of an encoder: a `postgres://` / `postgresql://` URL. */
export function postgresArg(value: string): string {
  if (value === "lmdb") throw new InvalidArgumentError("expected a postgres://… URL");
  return storeArg(value);
}
