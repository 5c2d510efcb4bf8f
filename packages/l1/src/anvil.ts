import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { killOnExit } from "@cellar/utils";
import { L1Error } from "./errors.js";

type Hex = `0x${string}`;

/** A running anvil: its RPC URL, pid, chain id and pre-funded development accounts. */
export interface Anvil {
  readonly rpcUrl: string;
  readonly port: number;
  readonly pid: number;
  readonly chainId: bigint;
  readonly accounts: readonly { address: Hex; privateKey: Hex }[];
  readonly child: ChildProcess;
  /** Stops anvil (SIGTERM, then SIGKILL after 5 s) and resolves once it has exited. */
  stop(): Promise<void>;
}

export interface AnvilOptions {
  /** Loopback port; 0 (the default) lets the OS pick a free one. */
  port?: number;
  chainId?: number;
  /** Seconds between blocks; by default a block is mined for every transaction. */
  blockTimeSeconds?: number;
  /** EVM hardfork (default osaka, Ethereum mainnet's since December 2025). */
  hardfork?: string;
  /** Give up when anvil has not listened after this long (default 30 s). */
  timeoutMs?: number;
}

/** The anvil binary of the `@foundry-rs/anvil` package's platform build. */
export function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  const platform = { linux: "linux", darwin: "darwin", win32: "win32" }[process.platform as string];
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
  if (!platform || !arch)
    throw new L1Error("CELLAR_ERR_L1_ANVIL", `no anvil build for ${process.platform}/${process.arch}`);
  const pkg = `@foundry-rs/anvil-${platform}-${arch}`;
  try {
    return join(
      dirname(require.resolve(`${pkg}/package.json`)),
      "bin",
      process.platform === "win32" ? "anvil.exe" : "anvil",
    );
  } catch (err) {
    throw new L1Error("CELLAR_ERR_L1_ANVIL", `${pkg} is not installed (run npm ci)`, {}, { cause: err });
  }
}

/**
 * Starts anvil on 127.0.0.1 and resolves once it listens. The pid, URL and accounts come from
 * its start-up output; the caller stops it with `stop()`.
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    String(options.port ?? 0),
    "--chain-id",
    String(options.chainId ?? 31337),
    "--hardfork",
    options.hardfork ?? "osaka",
  ];
  if (options.blockTimeSeconds !== undefined) args.push("--block-time", String(options.blockTimeSeconds));
  const child = spawn(anvilBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  const ready = await new Promise<{ port: number } | Error>((resolve) => {
    const timer = setTimeout(() => resolve(new Error("anvil did not start in time")), options.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]) });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve(err);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(new Error(`anvil exited with code ${code}: ${output.trim().split("\n").slice(-3).join(" ")}`));
    });
  });
  if (ready instanceof Error) {
    child.kill("SIGKILL");
    throw new L1Error("CELLAR_ERR_L1_ANVIL", `anvil failed: ${ready.message}`, {}, { cause: ready });
  }
  child.stdout.removeAllListeners("data");
  child.stdout.resume();
  child.stderr.resume();
  const addresses = [...output.matchAll(/^\(\d+\) (0x[0-9a-fA-F]{40})/gm)].map((m) => m[1] as Hex);
  const keys = [...output.matchAll(/^\(\d+\) (0x[0-9a-fA-F]{64})$/gm)].map((m) => m[1] as Hex);
  // Anvil does not notice its parent's death: take it down when this process exits in any way
  // but SIGKILL (an uncaught error included).
  killOnExit(child);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  return {
    rpcUrl: `http://127.0.0.1:${ready.port}`,
    port: ready.port,
    pid: child.pid as number,
    chainId: BigInt(options.chainId ?? 31337),
    accounts: addresses.map((address, i) => ({ address, privateKey: keys[i] as Hex })),
    child,
    stop,
  };
}
