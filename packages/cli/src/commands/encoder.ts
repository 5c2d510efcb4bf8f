import { buildEncoderApp, Encoder } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { readKeyFile } from "@cellar/node";
import type { Io } from "../output.js";
import { serverLogger, untilStopped } from "../server.js";

export interface EncoderCommandOptions {
  readonly store: string;
  readonly key?: string;
  readonly slots: number;
  readonly lease: number;
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  readonly json: boolean;
}

/**
 * `cellar encoder`: one member of the encoder fleet, until SIGINT or SIGTERM. It takes blob
 * encoding jobs from the replicas through their PostgreSQL database and serves `/healthz`,
 * `/readyz` and `/metrics` on --host:--port.
 */
export async function encoderCommand(options: EncoderCommandOptions, io: Io): Promise<void> {
  const logger = serverLogger("encoder", options.logLevel);
  const identity = options.key === undefined ? undefined : await readKeyFile(options.key);
  const encoder = new Encoder(
    {
      store: options.store,
      slots: options.slots,
      leaseMs: options.lease * 1000,
      ...(identity ? { key: identity.secretKey } : {}),
    },
    { kzg: sharedKzg({ precompute: true }), logger },
  );
  await encoder.start();
  const app = buildEncoderApp(encoder, { logger });
  const url = await app.listen({ host: options.host, port: options.port });
  const ready = { event: "listening", url, id: encoder.id, slots: encoder.opts.slots };
  io.stdout.write(
    options.json
      ? `${JSON.stringify(ready)}\n`
      : `cellar encoder ${encoder.id.slice(0, 18)}… on ${url}: ${ready.slots} slot(s), taking jobs from the database\n`,
  );
  await untilStopped(logger);
  await app.close();
  await encoder.stop();
}
