import type { AttestationDomain } from "@cellar/protocol";
import { fromHex } from "@cellar/utils";
import pino, { type Logger } from "pino";
import { parseChainId } from "./config.js";
import type { Io } from "./output.js";

/** What every long-lived role logs with: pino JSON lines on stderr, tagged with the role. */
export function serverLogger(role: string, level: string): Logger {
  return pino({ level, base: { role } }, pino.destination(2));
}

/** The attestation domain from `--chain-id` and `--inbox`. */
export function domainOf(options: { readonly chainId: string; readonly inbox: string }): AttestationDomain {
  return { chainId: parseChainId(options.chainId), inbox: fromHex(options.inbox, 20, "--inbox") };
}

/** The first SIGINT or SIGTERM from now on; `cancel` stops listening. */
export function firstSignal(): { received: Promise<NodeJS.Signals>; cancel(): void } {
  let on: (signal: NodeJS.Signals) => void = () => {};
  const received = new Promise<NodeJS.Signals>((resolve) => {
    on = (signal) => resolve(signal);
  });
  process.once("SIGINT", on);
  process.once("SIGTERM", on);
  return {
    received,
    cancel() {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
    },
  };
}

/** What every long-lived role is to `runServer`: started once (resolving to its URL), stopped once. */
export interface Service {
  start(): Promise<string>;
  stop(): Promise<void>;
}

/** A server as its command builds it from the flags. */
export interface ServerSetup {
  readonly service: Service;
  /** The ready line: fields for --json (beside `event` and `url`), and the lines for people. */
  ready(url: string): { readonly json: Record<string, unknown>; readonly text: string };
}

/**
 * The one lifecycle of `cellar node`, `disperser` and `light`: flags → service (`setup`, with the
 * role's logger; the service follows its node set and L1 itself, from the feeds it is given) →
 * `start()` → the ready line on stdout (JSON with --json) → the first SIGINT or SIGTERM (listened
 * for from the start, so one during start-up is not lost) → `stop()`. The signal listeners are
 * removed whatever happens.
 */
export async function runServer(
  io: Pick<Io, "stdout">,
  flags: { readonly role: string; readonly logLevel: string; readonly json: boolean },
  setup: (logger: Logger) => Promise<ServerSetup>,
): Promise<void> {
  const logger = serverLogger(flags.role, flags.logLevel);
  const signal = firstSignal();
  try {
    const server = await setup(logger);
    const url = await server.service.start();
    const ready = server.ready(url);
    io.stdout.write(flags.json ? `${JSON.stringify({ event: "listening", url, ...ready.json })}\n` : ready.text);
    const received = await signal.received;
    logger.info({ signal: received }, "stopping");
    await server.service.stop();
  } finally {
    signal.cancel();
  }
}
