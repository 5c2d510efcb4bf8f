import { fileURLToPath } from "node:url";
import type { FastifyBaseLogger } from "fastify";
import { runner } from "node-pg-migrate";
import pg from "pg";
import { DisperserError } from "./errors.js";
import type { BatchRecord, DisperserStore } from "./store.js";

/** The database's clock in milliseconds: leases are judged by one clock, whatever the machines say. */
export const DB_NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/** Versioned schema migrations (node-pg-migrate, plain SQL files), run at start-up. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
const MIGRATIONS_TABLE = "cellar_migrations";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  readonly url: string;
  /** Connections in the pool. Default 10. */
  readonly poolSize?: number;
  /** Time to get a connection before a request answers 503. Default 2 s. */
  readonly connectTimeoutMs?: number;
  /** Longest one statement may run. Default 10 s. */
  readonly statementTimeoutMs?: number;
  readonly logger?: FastifyBaseLogger;
}

const CONNECTION_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"]);

/**
 * Whether `err` says the database cannot be reached right now (refused, reset, restarting,
 * shutting down, out of connections): such a request answers 503 and may be retried.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : "";
  if (CONNECTION_ERRNOS.has(code)) return true;
  // SQLSTATE classes 08 (connection exception), 57 (operator intervention: shutdown, restart),
  // 53 (insufficient resources: too many connections).
  if (/^(08|57|53)[0-9A-Z]{3}$/.test(code)) return true;
  const message = typeof e?.message === "string" ? e.message : "";
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(
    message,
  );
}

/** Runs one database call; a lost connection becomes 503 CELLAR_ERR_DISPERSER_STORE_UNAVAILABLE. */
export async function guarded<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isConnectionError(err)) {
      throw new DisperserError(
        "CELLAR_ERR_DISPERSER_STORE_UNAVAILABLE",
        `the database is unreachable (${what}): ${(err as Error).message}`,
        { retryAfterSeconds: 1 },
        { cause: err },
      );
    }
    throw err;
  }
}

/** A pool whose idle connections may die with the server without taking the process down. */
export function createPool(options: PostgresStoreOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2_000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    query_timeout: (options.statementTimeoutMs ?? 10_000) + 1_000,
    idleTimeoutMillis: 30_000,
    application_name: "cellar",
  });
  // An idle client whose server went away emits here; the pool replaces it on the next query.
  pool.on("error", (err) => options.logger?.warn({ err: err.message }, "database connection lost"));
  return pool;
}

/** Brings the schema up to date; concurrent start-ups wait on node-pg-migrate's advisory lock. */
export async function migrate(pool: pg.Pool, logger?: FastifyBaseLogger): Promise<string[]> {
  const client = await guarded("migrate", () => pool.connect());
  try {
    const ran = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: "up",
      migrationsTable: MIGRATIONS_TABLE,
      count: Number.POSITIVE_INFINITY,
      singleTransaction: true,
      checkOrder: true,
      // Replicas and encoders starting together: the first migrates, the others wait for it.
      advisoryLockMode: "wait",
      log: (message: string) => logger?.debug({ migration: message }, "schema migration"),
    });
    const names = ran.map((m) => m.name);
    if (names.length > 0) logger?.info({ migrations: names }, "database schema migrated");
    return names;
  } finally {
    client.release();
  }
}

/**
 * The disperser's store in PostgreSQL, shared by any number of replicas: `cellar_batches` holds
 * each batch's record (keyed by root, indexed by payload hash and age), `cellar_claims` which
 * replica is encoding and dispersing which payload, under a lease it renews. Every write is one
 * statement, committed (durable) before it resolves.
 */
export class PostgresDisperserStore implements DisperserStore {
  readonly pool: pg.Pool;
  readonly shared = true;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** Connects and migrates; refuses with 503 CELLAR_ERR_DISPERSER_STORE_UNAVAILABLE when unreachable. */
  static async open(options: PostgresStoreOptions): Promise<PostgresDisperserStore> {
    const pool = createPool(options);
    try {
      await migrate(pool, options.logger);
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
    return new PostgresDisperserStore(pool);
  }

  async #query<R extends pg.QueryResultRow>(what: string, text: string, values: unknown[] = []) {
    return guarded(what, () => this.pool.query<R>(text, values));
  }

  /** `true` when a trivial query answers; the reason otherwise (for `/readyz`). */
  async ready(): Promise<true | string> {
    try {
      await this.#query("ready", "SELECT 1");
      return true;
    } catch (err) {
      return (err as Error).message;
    }
  }

  async get(root: string): Promise<BatchRecord | undefined> {
    const { rows } = await this.#query<{ record: BatchRecord }>(
      "get",
      "SELECT record FROM cellar_batches WHERE root = $1",
      [root],
    );
    return rows[0]?.record;
  }

  async byPayload(payloadHash: string): Promise<BatchRecord | undefined> {
    const { rows } = await this.#query<{ record: BatchRecord }>(
      "byPayload",
      "SELECT record FROM cellar_batches WHERE payload_hash = $1 AND status <> 'failed' ORDER BY updated_at DESC LIMIT 1",
      [payloadHash],
    );
    return rows[0]?.record;
  }

  async put(record: BatchRecord): Promise<void> {
    // An update keeps the batch's first createdAt, in the column and in the record, and never
    // replaces a certificate (keepsStored).
    await this.#query(
      "put",
      `INSERT INTO cellar_batches (root, payload_hash, status, record, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (root) DO UPDATE SET payload_hash = EXCLUDED.payload_hash, status = EXCLUDED.status,
         record = EXCLUDED.record || jsonb_build_object('createdAt', cellar_batches.created_at),
         updated_at = EXCLUDED.updated_at
       WHERE cellar_batches.status NOT IN ('certified', 'available') OR EXCLUDED.status = 'available'`,
      [record.root, record.payloadHash, record.status, record, record.createdAt, record.updatedAt],
    );
  }

  async recent(limit: number): Promise<BatchRecord[]> {
    const { rows } = await this.#query<{ record: BatchRecord }>(
      "recent",
      "SELECT record FROM cellar_batches ORDER BY created_at DESC, root DESC LIMIT $1",
      [limit],
    );
    return rows.map((r) => r.record);
  }

  async claim(payloadHash: string, owner: string, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.#query(
      "claim",
      `INSERT INTO cellar_claims (payload_hash, owner, lease_until) VALUES ($1, $2, ${DB_NOW_MS} + $3)
       ON CONFLICT (payload_hash) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
       WHERE cellar_claims.owner = EXCLUDED.owner OR cellar_claims.lease_until <= ${DB_NOW_MS}`,
      [payloadHash, owner, Math.ceil(leaseMs)],
    );
    return rowCount === 1;
  }

  async release(payloadHash: string, owner: string): Promise<void> {
    await this.#query("release", "DELETE FROM cellar_claims WHERE payload_hash = $1 AND owner = $2", [
      payloadHash,
      owner,
    ]);
  }

  async failInFlight(error: { code: string; message: string }, now = Date.now()): Promise<BatchRecord[]> {
    const { rows } = await this.#query<{ record: BatchRecord }>(
      "failInFlight",
      `UPDATE cellar_batches b SET status = 'failed', updated_at = $2,
         record = b.record || jsonb_build_object('status', 'failed', 'error', $1::jsonb, 'updatedAt', $2::bigint)
       WHERE b.status IN ('encoding', 'dispersing') AND NOT EXISTS (
         SELECT 1 FROM cellar_claims c WHERE c.payload_hash = b.payload_hash AND c.lease_until > ${DB_NOW_MS})
       RETURNING b.record`,
      [JSON.stringify(error), now],
    );
    // Encode jobs of batches nobody holds any more: no replica waits for their results.
    await this.#query(
      "failInFlight",
      `DELETE FROM cellar_encode_jobs j WHERE NOT EXISTS (
         SELECT 1 FROM cellar_claims c WHERE c.payload_hash = j.payload_hash AND c.owner = j.owner
           AND c.lease_until > ${DB_NOW_MS})`,
    );
    return rows.map((r) => r.record);
  }

  async prune(before: number): Promise<number> {
    const { rowCount } = await this.#query("prune", "DELETE FROM cellar_batches WHERE created_at < $1", [before]);
    return rowCount ?? 0;
  }

  async count(): Promise<number> {
    const { rows } = await this.#query<{ n: number }>("count", "SELECT count(*)::int AS n FROM cellar_batches");
    return rows[0]?.n ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
