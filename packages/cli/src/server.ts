import type { AttestationDomain } from "@cellar/protocol";
import { fromHex } from "@cellar/utils";
import pino, { type Logger } from "pino";
import { parseChainId } from "./config.js";

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

/** Resolves at the first SIGINT or SIGTERM, once it is logged: a server's cue to stop. */
export async function untilStopped(logger: Pick<Logger, "info">): Promise<void> {
  const signal = await firstSignal().received;
  logger.info({ signal }, "stopping");
}
