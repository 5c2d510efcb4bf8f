import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { type EncodedBlob, encodeBlob } from "@cellar/codec";
import type { Kzg } from "@cellar/kzg";
import {
  BYTES_PER_BLOB as BLOB_BYTES,
  BYTES_PER_CELL as CELL_BYTES,
  CELLS_PER_EXT_BLOB as CELLS_PER_BLOB,
  BYTES_PER_PROOF as PROOF_BYTES,
} from "@cellar/params";
import { ProtocolError, verifyEncodeRequest } from "@cellar/protocol";
import { mapConcurrent, toHex } from "@cellar/utils";
import type { FastifyBaseLogger } from "fastify";
import type pg from "pg";
import { Counter, Histogram, Registry } from "prom-client";
import type { BlobEncoder } from "./disperser.js";
import { DisperserError } from "./errors.js";
import { DB_NOW_MS, guarded } from "./pg-store.js";

/** An encode result's body: the commitment, the 128 cells, the 128 proofs, back to back. */
export const ENCODE_RESULT_BYTES = 48 + CELLS_PER_BLOB * CELL_BYTES + CELLS_PER_BLOB * PROOF_BYTES;

/** Serialises one blob's encoding as an encode result body. */
export function serializeEncoded(blob: EncodedBlob): Uint8Array {
  const out = new Uint8Array(ENCODE_RESULT_BYTES);
  out.set(blob.commitment, 0);
  const proofsAt = 48 + CELLS_PER_BLOB * CELL_BYTES;
  for (let i = 0; i < CELLS_PER_BLOB; i++) {
    out.set(blob.cells[i] as Uint8Array, 48 + i * CELL_BYTES);
    out.set(blob.proofs[i] as Uint8Array, proofsAt + i * PROOF_BYTES);
  }
  return out;
}

/** Reads an encode result body; only its length is checked here, the proofs by the replica. */
export function parseEncoded(body: Uint8Array): EncodedBlob {
  if (body.length !== ENCODE_RESULT_BYTES) {
    throw new DisperserError(
      "CELLAR_ERR_DISPERSER_BAD_ENCODING",
      `an encode result is ${ENCODE_RESULT_BYTES} bytes, not ${body.length}`,
      { size: body.length },
    );
  }
  const proofsAt = 48 + CELLS_PER_BLOB * CELL_BYTES;
  return {
    commitment: body.slice(0, 48),
    cells: Array.from({ length: CELLS_PER_BLOB }, (_, i) => body.slice(48 + i * CELL_BYTES, 48 + (i + 1) * CELL_BYTES)),
    proofs: Array.from({ length: CELLS_PER_BLOB }, (_, i) =>
      body.slice(proofsAt + i * PROOF_BYTES, proofsAt + (i + 1) * PROOF_BYTES),
    ),
  };
}

export interface EncoderFleetOptions {
  /** The shared database (the replicas' store's pool). */
  readonly pool: pg.Pool;
  /** Where encoders reach this replica (`http://host:port`), written into each job; settable once listening. */
  readonly publicUrl?: string;
  /** How long an encoder's lease on a job lasts; an encoder that died is replaced after it. Default 10 s. */
  readonly leaseMs?: number;
  /** An encoder counts as alive this long after its last heartbeat. Default 5 s. */
  readonly encoderFreshMs?: number;
  /** How often the replica looks whether any encoder is left for its open jobs. Default 500 ms. */
  readonly checkMs?: number;
  /** Longest one batch's encode may take before the post fails. Default 10 min. */
  readonly deadlineMs?: number;
  /** Blobs encoded at once when the replica encodes itself. Default: the machine's parallelism. */
  readonly localConcurrency?: number;
}

export interface EncoderFleetModules {
  readonly kzg: Pick<Kzg, "blobToCommitmentAsync" | "computeCellsAndProofsAsync" | "verifyCellProofBatchAsync">;
  readonly logger?: FastifyBaseLogger;
  /** Where the fleet's metrics are registered (the disperser's registry). */
  readonly registry?: Registry;
}

interface OpenJob {
  readonly id: string;
  readonly payloadHash: string;
  readonly blob: Uint8Array;
  resolve(encoded: EncodedBlob): void;
  done: boolean;
}

const INDICES = Array.from({ length: CELLS_PER_BLOB }, (_, i) => i);

/**
 * The replica's side of the encoder fleet. A batch's blobs become rows of `cellar_encode_jobs`
 * naming this replica's URL; encoders lease rows (`FOR UPDATE SKIP LOCKED`), fetch each blob over
 * HTTP and send back the commitment, cells and proofs, every request signed with the encoder's BLS
 * key and checked against the job's lease holder. A result is accepted only when cells 0..63 are
 * the blob itself and every cell proof verifies against the commitment (one batch verification),
 * so no blob reaches a storage node unverified. A lease that lapses (the encoder died) is taken by
 * another encoder; with no encoder alive, the replica encodes what is left itself.
 */
export class EncoderFleet implements BlobEncoder {
  readonly opts: Required<Omit<EncoderFleetOptions, "pool" | "publicUrl">>;
  #publicUrl: string | undefined;
  readonly #pool: pg.Pool;
  readonly #kzg: EncoderFleetModules["kzg"];
  readonly #log: FastifyBaseLogger | undefined;
  readonly #jobs = new Map<string, OpenJob>();
  readonly #results: Counter<"result">;
  readonly #blobSeconds: Histogram<"where">;
  /** The lease holder's name when the replica encodes its own jobs. */
  readonly #self = `replica-${randomBytes(8).toString("hex")}`;
  /** Where the fleet's counters are: the disperser's registry when given. */
  readonly registry: Registry;

  constructor(options: EncoderFleetOptions, modules: EncoderFleetModules) {
    this.#pool = options.pool;
    this.opts = {
      leaseMs: options.leaseMs ?? 10_000,
      encoderFreshMs: options.encoderFreshMs ?? 5_000,
      checkMs: options.checkMs ?? 500,
      deadlineMs: options.deadlineMs ?? 600_000,
      localConcurrency: options.localConcurrency ?? availableParallelism(),
    };
    if (options.publicUrl !== undefined) this.publicUrl = options.publicUrl;
    this.#kzg = modules.kzg;
    this.#log = modules.logger;
    this.registry = modules.registry ?? new Registry();
    const registers = [this.registry];
    this.#results = new Counter({
      name: "cellar_disperser_encode_results_total",
      help: "Blob encodings by where they were done and whether they verified (fleet, local, rejected, lease-lost)",
      labelNames: ["result"],
      registers,
    });
    this.#blobSeconds = new Histogram({
      name: "cellar_disperser_encode_blob_seconds",
      help: "Time from a blob's job being queued to its verified result, by where it was encoded",
      labelNames: ["where"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  get publicUrl(): string | undefined {
    return this.#publicUrl;
  }

  set publicUrl(url: string | undefined) {
    const trimmed = url?.replace(/\/+$/, "");
    if (trimmed !== undefined && !/^https?:\/\/[^/]+$/.test(trimmed)) {
      throw new DisperserError("CELLAR_ERR_DISPERSER_CONFIG", `the public URL must be http(s)://host:port, not ${url}`);
    }
    this.#publicUrl = trimmed;
  }

  /** Encoders whose heartbeat is fresh, and the slots they offer. */
  async liveEncoders(): Promise<{ encoders: number; slots: number }> {
    const { rows } = await guarded("encoders", () =>
      this.#pool.query<{ encoders: number; slots: number }>(
        `SELECT count(*)::int AS encoders, coalesce(sum(slots), 0)::int AS slots FROM cellar_encoders
         WHERE seen_at > ${DB_NOW_MS} - $1`,
        [this.opts.encoderFreshMs],
      ),
    );
    return rows[0] ?? { encoders: 0, slots: 0 };
  }

  async encodeBlobs(blobs: readonly Uint8Array[], payloadHash: string, owner: string): Promise<readonly EncodedBlob[]> {
    if (blobs.length === 0) return [];
    const publicUrl = this.#publicUrl;
    if (publicUrl === undefined || (await this.liveEncoders()).encoders === 0) {
      this.#log?.info({ blobs: blobs.length }, "no encoder alive: encoding here");
      return this.#encodeHere(blobs);
    }
    const started = performance.now();
    const jobs = blobs.map((blob) => {
      let resolve: (encoded: EncodedBlob) => void = () => {};
      const promise = new Promise<EncodedBlob>((r) => {
        resolve = r;
      });
      const job: OpenJob = { id: randomBytes(16).toString("hex"), payloadHash, blob, resolve, done: false };
      return { job, promise };
    });
    for (const { job } of jobs) this.#jobs.set(job.id, job);
    const ids = jobs.map(({ job }) => job.id);
    try {
      await guarded("enqueue", () =>
        this.#pool.query(
          `INSERT INTO cellar_encode_jobs (id, payload_hash, owner, blob, replica_url, state, created_at)
           SELECT id, $2, $4, ord - 1, $3, 'queued', ${DB_NOW_MS} FROM unnest($1::text[]) WITH ORDINALITY AS t(id, ord)`,
          [ids, payloadHash, publicUrl, owner],
        ),
      );
      const all = Promise.all(
        jobs.map(({ promise }) =>
          promise.then((encoded) => {
            this.#blobSeconds.observe({ where: "fleet" }, (performance.now() - started) / 1000);
            return encoded;
          }),
        ),
      );
      const deadline = Date.now() + this.opts.deadlineMs;
      for (;;) {
        const finished = await Promise.race([all, sleepFor(this.opts.checkMs)]);
        if (finished) return finished;
        if (Date.now() > deadline) {
          throw new DisperserError(
            "CELLAR_ERR_DISPERSER_ENCODE_FAILED",
            `the batch's blobs were not encoded within ${this.opts.deadlineMs} ms`,
            { retryAfterSeconds: 5 },
          );
        }
        await this.#rescue(jobs.map(({ job }) => job));
      }
    } finally {
      for (const id of ids) this.#jobs.delete(id);
      await guarded("dequeue", () =>
        this.#pool.query("DELETE FROM cellar_encode_jobs WHERE id = ANY($1::text[])", [ids]),
      ).catch((err) => this.#log?.warn({ err: (err as Error).message }, "encode jobs left for the sweep"));
    }
  }

  /** With no encoder alive, the replica leases its own open jobs and encodes them here. */
  async #rescue(jobs: readonly OpenJob[]): Promise<void> {
    const open = jobs.filter((j) => !j.done);
    if (open.length === 0 || (await this.liveEncoders()).encoders > 0) return;
    const { rows } = await guarded("rescue", () =>
      this.#pool.query<{ id: string }>(
        `UPDATE cellar_encode_jobs SET state = 'leased', leased_by = $2, lease_until = ${DB_NOW_MS} + $3,
           attempts = attempts + 1
         WHERE id = ANY($1::text[]) AND (state = 'queued' OR (state = 'leased' AND lease_until <= ${DB_NOW_MS}))
         RETURNING id`,
        [open.map((j) => j.id), this.#self, this.opts.leaseMs],
      ),
    );
    const mine = new Set(rows.map((r) => r.id));
    const taken = open.filter((j) => mine.has(j.id));
    if (taken.length === 0) return;
    this.#log?.warn({ blobs: taken.length }, "no encoder alive for open jobs: encoding them here");
    const encoded = await this.#encodeHere(taken.map((j) => j.blob));
    for (const [i, job] of taken.entries()) this.#finish(job, encoded[i] as EncodedBlob);
  }

  async #encodeHere(blobs: readonly Uint8Array[]): Promise<EncodedBlob[]> {
    return mapConcurrent(blobs, this.opts.localConcurrency, async (blob) => {
      const started = performance.now();
      const encoded = await encodeBlob(blob, this.#kzg);
      this.#results.inc({ result: "local" });
      this.#blobSeconds.observe({ where: "local" }, (performance.now() - started) / 1000);
      return encoded;
    });
  }

  #finish(job: OpenJob, encoded: EncodedBlob): void {
    if (job.done) return;
    job.done = true;
    job.resolve(encoded);
  }

  /** The job, when the signed request comes from its live lease holder; 401, 404 or 409 otherwise. */
  async #authorised(
    jobId: string,
    method: "GET" | "PUT",
    headers: Readonly<Record<string, string | string[] | undefined>>,
    body: Uint8Array,
  ): Promise<{ job: OpenJob; encoder: string }> {
    if (!/^[0-9a-f]{32}$/.test(jobId)) {
      throw new DisperserError("CELLAR_ERR_DISPERSER_BAD_REQUEST", "a job id is 32 lowercase hex digits");
    }
    let encoder: string;
    try {
      encoder = toHex(verifyEncodeRequest(headers, method, jobId, body));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      throw new DisperserError("CELLAR_ERR_DISPERSER_UNAUTHORIZED", err.message, {}, { cause: err });
    }
    const job = this.#jobs.get(jobId);
    if (!job || job.done) {
      throw new DisperserError("CELLAR_ERR_DISPERSER_NOT_FOUND", `no open encode job ${jobId} on this replica`);
    }
    return { job, encoder };
  }

  /** `GET /v1/encode/jobs/:id/blob`: the blob, to the encoder holding the job's live lease. */
  async blobFor(jobId: string, headers: Readonly<Record<string, string | string[] | undefined>>): Promise<Uint8Array> {
    const { job, encoder } = await this.#authorised(jobId, "GET", headers, new Uint8Array());
    await this.#holdsLease(jobId, encoder);
    return job.blob;
  }

  /** Throws LEASE_LOST unless `encoder` holds the job's live lease (one indexed read). */
  async #holdsLease(jobId: string, encoder: string): Promise<void> {
    const { rowCount } = await guarded("lease", () =>
      this.#pool.query(
        `SELECT 1 FROM cellar_encode_jobs WHERE id = $1 AND state = 'leased' AND leased_by = $2
         AND lease_until > ${DB_NOW_MS}`,
        [jobId, encoder],
      ),
    );
    if (rowCount !== 1) throw leaseLost(jobId);
  }

  /**
   * `PUT /v1/encode/jobs/:id/result`: checks the result against the blob (cells 0..63 are the
   * blob's bytes; all 128 proofs verify against the commitment in one batch call) before it is
   * taken; a bad result puts the job back in the queue for another encoder.
   */
  async complete(
    jobId: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    body: Uint8Array,
  ): Promise<void> {
    const { job, encoder } = await this.#authorised(jobId, "PUT", headers, body);
    // Cheap before expensive: a result from anyone but the lease holder is refused before its
    // 128 proofs are verified.
    await this.#holdsLease(jobId, encoder);
    let encoded: EncodedBlob | undefined;
    let valid = false;
    try {
      const parsed = parseEncoded(body);
      encoded = parsed;
      valid =
        Buffer.compare(Buffer.from(body.buffer, body.byteOffset + 48, BLOB_BYTES), Buffer.from(job.blob)) === 0 &&
        (await this.#kzg.verifyCellProofBatchAsync(
          INDICES.map(() => parsed.commitment),
          INDICES,
          parsed.cells,
          parsed.proofs,
        ));
    } catch (err) {
      if (!(err instanceof DisperserError))
        this.#log?.warn({ err: (err as Error).message }, "encode result unreadable");
    }
    if (!valid || encoded === undefined) {
      this.#results.inc({ result: "rejected" });
      await guarded("requeue", () =>
        this.#pool.query(
          "UPDATE cellar_encode_jobs SET state = 'queued', leased_by = NULL, lease_until = 0 WHERE id = $1 AND leased_by = $2",
          [jobId, encoder],
        ),
      );
      this.#log?.warn({ job: jobId, encoder }, "an encoder's result did not verify: job queued again");
      throw new DisperserError(
        "CELLAR_ERR_DISPERSER_BAD_ENCODING",
        "the cells do not match the blob or a proof does not verify against the commitment",
      );
    }
    const { rowCount } = await guarded("complete", () =>
      this.#pool.query(
        "UPDATE cellar_encode_jobs SET state = 'done' WHERE id = $1 AND state = 'leased' AND leased_by = $2",
        [jobId, encoder],
      ),
    );
    if (rowCount !== 1) {
      this.#results.inc({ result: "lease-lost" });
      throw leaseLost(jobId);
    }
    this.#results.inc({ result: "fleet" });
    this.#finish(job, encoded);
  }
}

function leaseLost(jobId: string): DisperserError {
  return new DisperserError(
    "CELLAR_ERR_DISPERSER_LEASE_LOST",
    `this encoder does not hold a live lease on job ${jobId} (it lapsed and the job went elsewhere)`,
  );
}

function sleepFor(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
