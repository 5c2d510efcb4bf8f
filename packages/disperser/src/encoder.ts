import { randomBytes } from "node:crypto";
import { Http } from "@cellar/client";
import { encodeBlob } from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import { BYTES_PER_BLOB } from "@cellar/params";
import { generateSecretKey, type SecretKey, signEncodeRequest } from "@cellar/protocol";
import { createService, DEFAULT_LIMITS, type ServiceLimits } from "@cellar/service";
import { toHex } from "@cellar/utils";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type pg from "pg";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { DisperserError } from "./errors.js";
import { serializeEncoded } from "./fleet.js";
import { createPool, DB_NOW_MS, guarded, migrate } from "./pg-store.js";

export interface EncoderOptions {
  /** The replicas' PostgreSQL database (`postgres://…`). */
  readonly store: string;
  /** The key the encoder signs its requests with. Default: a fresh one. */
  readonly key?: SecretKey;
  /** Blobs encoded at once (each on one thread). Default 1. */
  readonly slots?: number;
  /** How long a lease on a job lasts. Default 10 s. */
  readonly leaseMs?: number;
  /** How often an idle slot looks for work. Default 100 ms. */
  readonly pollMs?: number;
  /** How often the encoder tells the database it is alive. Default 1 s. */
  readonly heartbeatMs?: number;
  /** Deadline of each request to a replica. Default 10 s. */
  readonly requestTimeoutMs?: number;
}

export interface EncoderModules {
  readonly kzg: Pick<Kzg, "blobToCommitmentAsync" | "computeCellsAndProofsAsync">;
  readonly logger?: FastifyBaseLogger;
}

interface LeasedJob {
  readonly id: string;
  readonly replica_url: string;
}

/**
 * One member of the encoder fleet (`cellar encoder`): it announces itself in `cellar_encoders`,
 * leases blob-encoding jobs from `cellar_encode_jobs` (`FOR UPDATE SKIP LOCKED`, so encoders
 * never take the same job), fetches each blob from the replica named in the job, computes the
 * commitment, cells and proofs, and sends them back; every request is signed with its BLS key.
 * A job it cannot finish is handed back; if it dies, the lease lapses and the job is redone.
 */
export class Encoder {
  readonly opts: Required<Omit<EncoderOptions, "key" | "store">>;
  readonly id: string;
  readonly registry = new Registry();
  readonly #key: SecretKey;
  readonly #pool: pg.Pool;
  readonly #http: Http;
  readonly #kzg: EncoderModules["kzg"];
  readonly #log: FastifyBaseLogger | undefined;
  readonly #jobs: Counter<"result">;
  readonly #seconds: Histogram;
  #running = false;
  #loops: Promise<void>[] = [];
  #heartbeat: NodeJS.Timeout | undefined;
  #stopped: Promise<void> | undefined;
  readonly #wake = new Set<() => void>();

  constructor(options: EncoderOptions, modules: EncoderModules) {
    this.opts = {
      slots: options.slots ?? 1,
      leaseMs: options.leaseMs ?? 10_000,
      pollMs: options.pollMs ?? 100,
      heartbeatMs: options.heartbeatMs ?? 1_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    };
    if (!Number.isInteger(this.opts.slots) || this.opts.slots < 1 || this.opts.slots > 64) {
      throw new DisperserError("CELLAR_ERR_DISPERSER_CONFIG", "slots must be an integer in 1..64");
    }
    if (!(this.opts.leaseMs >= 100 && this.opts.pollMs >= 1 && this.opts.heartbeatMs >= 10)) {
      throw new DisperserError("CELLAR_ERR_DISPERSER_CONFIG", "leaseMs >= 100, pollMs >= 1 and heartbeatMs >= 10");
    }
    this.#key = options.key ?? generateSecretKey(randomBytes(32));
    this.id = toHex(this.#key.toPublicKey().toBytes());
    this.#pool = createPool({
      url: options.store,
      poolSize: this.opts.slots + 2,
      ...(modules.logger ? { logger: modules.logger } : {}),
    });
    this.#http = new Http({ timeoutMs: this.opts.requestTimeoutMs, attempts: 2 });
    this.#kzg = modules.kzg;
    this.#log = modules.logger;
    collectDefaultMetrics({ register: this.registry, prefix: "cellar_encoder_" });
    this.#jobs = new Counter({
      name: "cellar_encoder_jobs_total",
      help: "Encode jobs by outcome (done, refused by the replica, failed, unreachable replica)",
      labelNames: ["result"],
      registers: [this.registry],
    });
    this.#seconds = new Histogram({
      name: "cellar_encoder_job_seconds",
      help: "Time of one job: fetch the blob, encode it, send the result",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  /** Migrates the schema if needed, announces the encoder and starts its slots. */
  async start(): Promise<void> {
    if (this.#running) return;
    if (this.#stopped)
      throw new DisperserError("CELLAR_ERR_DISPERSER_CONFIG", "a stopped encoder does not start again");
    await migrate(this.#pool, this.#log);
    await this.#beat();
    this.#running = true;
    this.#heartbeat = setInterval(
      () => void this.#beat().catch((err) => this.#log?.warn({ err: (err as Error).message }, "heartbeat failed")),
      this.opts.heartbeatMs,
    );
    this.#loops = Array.from({ length: this.opts.slots }, () => this.#loop());
  }

  /** `true` when the database answers; the reason otherwise. */
  async ready(): Promise<true | string> {
    try {
      await guarded("ready", () => this.#pool.query("SELECT 1"));
      return this.#running ? true : "not started";
    } catch (err) {
      return (err as Error).message;
    }
  }

  async #beat(): Promise<void> {
    await guarded("heartbeat", () =>
      this.#pool.query(
        `INSERT INTO cellar_encoders (id, slots, seen_at) VALUES ($1, $2, ${DB_NOW_MS})
         ON CONFLICT (id) DO UPDATE SET slots = EXCLUDED.slots, seen_at = EXCLUDED.seen_at`,
        [this.id, this.opts.slots],
      ),
    );
  }

  /**
   * Leases the oldest open job of a batch whose replica still holds its claim, the least tried
   * first (a job given back after a failure does not keep a slot from the others).
   */
  async #lease(): Promise<LeasedJob | undefined> {
    const { rows } = await guarded("lease", () =>
      this.#pool.query<LeasedJob>(
        `UPDATE cellar_encode_jobs SET state = 'leased', leased_by = $1, lease_until = ${DB_NOW_MS} + $2,
           attempts = attempts + 1
         WHERE id = (
           SELECT j.id FROM cellar_encode_jobs j
           WHERE (j.state = 'queued' OR (j.state = 'leased' AND j.lease_until <= ${DB_NOW_MS}))
             AND EXISTS (SELECT 1 FROM cellar_claims c WHERE c.payload_hash = j.payload_hash
                         AND c.owner = j.owner AND c.lease_until > ${DB_NOW_MS})
           ORDER BY j.attempts, j.created_at, j.blob
           FOR UPDATE SKIP LOCKED
           LIMIT 1)
         RETURNING id, replica_url`,
        [this.id, this.opts.leaseMs],
      ),
    );
    return rows[0];
  }

  async #release(id: string): Promise<void> {
    await guarded("release", () =>
      this.#pool.query(
        "UPDATE cellar_encode_jobs SET state = 'queued', leased_by = NULL, lease_until = 0 WHERE id = $1 AND leased_by = $2 AND state = 'leased'",
        [id, this.id],
      ),
    ).catch(() => {});
  }

  async #loop(): Promise<void> {
    // The result of one job travels (and the replica verifies it) while this slot encodes the
    // next: at most one result in flight per slot.
    let sending: Promise<void> = Promise.resolve();
    while (this.#running) {
      let job: LeasedJob | undefined;
      try {
        job = await this.#lease();
      } catch (err) {
        this.#log?.warn({ err: (err as Error).message }, "could not lease a job");
      }
      if (!job) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            this.#wake.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, this.opts.pollMs);
          this.#wake.add(wake);
        });
        continue;
      }
      const { sent } = await this.#work(job);
      await sending;
      sending = sent;
    }
    await sending;
  }

  /** Fetches and encodes one job's blob; resolves with the result's delivery (which never rejects). */
  async #work(job: LeasedJob): Promise<{ sent: Promise<void> }> {
    const started = performance.now();
    const url = `${job.replica_url}/v1/encode/jobs/${job.id}`;
    try {
      const got = await this.#http.send("GET", `${url}/blob`, {
        headers: signEncodeRequest(this.#key, "GET", job.id, new Uint8Array()),
        maxResponseBytes: BYTES_PER_BLOB,
      });
      if (got.status !== 200 || got.body.length !== BYTES_PER_BLOB) {
        this.#jobs.inc({ result: "refused" });
        this.#log?.warn({ job: job.id, status: got.status }, "the replica refused the blob");
        await this.#release(job.id);
        return { sent: Promise.resolve() };
      }
      const encoded = await encodeBlob(new Uint8Array(got.body), this.#kzg);
      return { sent: this.#deliver(job, url, serializeEncoded(encoded), started) };
    } catch (err) {
      await this.#failed(job, err);
      return { sent: Promise.resolve() };
    }
  }

  async #deliver(job: LeasedJob, url: string, body: Uint8Array, started: number): Promise<void> {
    try {
      const put = await this.#http.send("PUT", `${url}/result`, {
        body,
        headers: signEncodeRequest(this.#key, "PUT", job.id, body),
        maxResponseBytes: 64 * 1024,
      });
      if (put.status !== 200) {
        this.#jobs.inc({ result: "refused" });
        this.#log?.warn({ job: job.id, status: put.status, body: put.body.toString().slice(0, 200) }, "result refused");
        return;
      }
      this.#jobs.inc({ result: "done" });
      this.#seconds.observe((performance.now() - started) / 1000);
    } catch (err) {
      await this.#failed(job, err);
    }
  }

  async #failed(job: LeasedJob, err: unknown): Promise<void> {
    this.#jobs.inc({ result: "failed" });
    this.#log?.warn({ job: job.id, err: (err as Error).message }, "encode job failed");
    await this.#release(job.id);
  }

  /** Stops taking work, finishes the jobs in hand, and leaves the fleet (idempotent). */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    const wasRunning = this.#running;
    this.#running = false;
    for (const wake of [...this.#wake]) wake();
    await Promise.all(this.#loops);
    if (wasRunning) {
      await guarded("leave", () => this.#pool.query("DELETE FROM cellar_encoders WHERE id = $1", [this.id])).catch(
        () => {},
      );
    }
    await this.#http.close();
    await this.#pool.end();
  }
}

/** The encoder's HTTP face on the service base: `/healthz`, `/readyz` (database reachable) and `/metrics`. */
export function buildEncoderApp(
  encoder: Encoder,
  options: { logger?: FastifyBaseLogger; limits?: Partial<ServiceLimits> } = {},
): FastifyInstance {
  return createService(
    {
      area: "DISPERSER",
      status: {},
      defaults: DEFAULT_LIMITS,
      ...(options.limits ? { limits: options.limits } : {}),
      metrics: encoder.registry,
      health: () => ({ role: "encoder", id: encoder.id, slots: encoder.opts.slots }),
      ready: { store: () => encoder.ready() },
      ...(options.logger ? { logger: options.logger } : {}),
    },
    () => {},
  );
}
