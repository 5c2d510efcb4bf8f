import { buildEncoderApp, Encoder } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { readKeyFile } from "@cellar/node";
import { Command, Option } from "@commander-js/extra-typings";
import { positiveInt, postgresArg } from "../args.js";
import type { CommandModule, OptionsOf } from "../command.js";
import { hostOption, logLevelOption, portOption } from "../options.js";
import type { Io } from "../output.js";
import { runServer } from "../runtime.js";

export const encoderDefinition = () =>
  new Command("encoder")
    .description("run an encoder: take blob-encoding jobs from the disperser replicas through their database")
    .addOption(
      new Option("--store <postgres://…>", "the replicas' PostgreSQL database")
        .argParser(postgresArg)
        .env("CELLAR_STORE")
        .makeOptionMandatory(),
    )
    .addOption(new Option("--key <file>", "BLS key file the encoder signs its requests with").env("CELLAR_KEY"))
    .addOption(new Option("--slots <n>", "blobs encoded at once (one core each)").argParser(positiveInt).default(1))
    .addOption(
      new Option("--lease <seconds>", "how long a job is this encoder's before another may redo it")
        .argParser(positiveInt)
        .default(10),
    )
    .addOption(hostOption())
    .addOption(portOption(7300))
    .addOption(logLevelOption())
    .option("--json", "print the ready line as JSON", false)
    .addHelpText(
      "after",
      `
Examples:
  $ cellar encoder --store postgres://cellar@db:5432/cellar              one slot, /metrics on :7300
  $ cellar encoder --store postgres://cellar@db:5432/cellar --slots 4    a 4-core machine

Jobs are leased from the database; each blob and result goes over HTTP to the replica that
posted it, signed with the encoder's key. Logs go to stderr as JSON lines.`,
    );

export type EncoderCommandOptions = OptionsOf<typeof encoderDefinition>;

export const encoder: CommandModule = ({ io, run }) =>
  encoderDefinition().action((options) => run(encoderCommand(options, io)));

/**
 * `cellar encoder`: one member of the encoder fleet, until SIGINT or SIGTERM. It takes blob
 * encoding jobs from the replicas through their PostgreSQL database and serves `/healthz`,
 * `/readyz` and `/metrics` on --host:--port.
 */
export async function encoderCommand(options: EncoderCommandOptions, io: Io): Promise<void> {
  await runServer(io, { role: "encoder", ...options }, async (logger) => {
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
    let app: ReturnType<typeof buildEncoderApp> | undefined;
    return {
      service: {
        start: async () => {
          await encoder.start();
          app = buildEncoderApp(encoder, { logger });
          return app.listen({ host: options.host, port: options.port });
        },
        stop: async () => {
          await app?.close();
          await encoder.stop();
        },
      },
      ready: (url) => ({
        json: { id: encoder.id, slots: encoder.opts.slots },
        text: `cellar encoder ${encoder.id.slice(0, 18)}… on ${url}: ${encoder.opts.slots} slot(s), taking jobs from the database\n`,
      }),
    };
  });
}
