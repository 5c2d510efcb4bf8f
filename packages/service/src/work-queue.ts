import { ServiceError } from "./errors.js";

export interface WorkQueueOptions {
  /** What the queue runs, for messages and metrics ("verify", "encode", "sample"). */
  readonly name: string;
  /** Jobs running at once. */
  readonly concurrency: number;
  /** Jobs waiting at most; one more is refused at once (503) instead of piling up memory. */
  readonly maxQueued: number;
  /** Jobs one client may have running or waiting at once; one more is refused (429). 0: no cap. */
  readonly maxPerClient?: number;
  /**
   * Jobs one client may have running at once (default `concurrency`); its others wait, even
   * with a slot free, so that the rest of the slots stay open for other clients. Jobs without a
   * client (`""`, work the service starts itself) are not capped.
   */
  readonly maxRunningPerClient?: number;
}

/** A job waiting for a slot: its client, and what starts it. */
interface Waiting {
  readonly client: string;
  readonly start: () => void;
}

/**
 * A bounded queue for expensive work (KZG verification, encoding, sampling rounds): a fixed
 * number of jobs run, a fixed number wait, and anything beyond is refused before it costs
 * anything. A per-client cap keeps one caller from taking every waiting place, and a per-client
 * running cap from taking every running slot: a waiting job starts in arrival order among those
 * whose client is under it.
 */
export class WorkQueue {
  readonly opts: Required<WorkQueueOptions>;
  #running = 0;
  readonly #waiting: Waiting[] = [];
  readonly #perClient = new Map<string, number>();
  readonly #runningBy = new Map<string, number>();
  refused = 0;

  constructor(opts: WorkQueueOptions) {
    for (const key of ["concurrency", "maxQueued"] as const) {
      if (!Number.isInteger(opts[key]) || opts[key] < (key === "concurrency" ? 1 : 0)) {
        throw new ServiceError("CELLAR_ERR_SERVICE_CONFIG", `${opts.name} queue: ${key} must be an integer`, {});
      }
    }
    this.opts = { maxPerClient: 0, maxRunningPerClient: opts.concurrency, ...opts };
    const cap = this.opts.maxRunningPerClient;
    if (!Number.isInteger(cap) || cap < 1) {
      throw new ServiceError("CELLAR_ERR_SERVICE_CONFIG", `${opts.name} queue: maxRunningPerClient must be >= 1`, {});
    }
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Runs `job` when a slot is free; refuses at once when the queue or the client's share is full. */
  async run<T>(job: () => Promise<T>, client = ""): Promise<T> {
    const mine = this.#perClient.get(client) ?? 0;
    if (this.opts.maxPerClient > 0 && client !== "" && mine >= this.opts.maxPerClient) {
      this.refused++;
      throw new ServiceError(
        "CELLAR_ERR_SERVICE_CLIENT_BUSY",
        `${this.opts.name}: this client already has ${mine} job(s) in progress, the most one client may have`,
        { queue: this.opts.name, retryAfterSeconds: 1 },
      );
    }
    const now = this.#canStart(client);
    if (!now && this.#waiting.length >= this.opts.maxQueued) {
      this.refused++;
      throw new ServiceError(
        "CELLAR_ERR_SERVICE_BUSY",
        `${this.opts.name}: ${this.#running} job(s) running and ${this.#waiting.length} waiting, try again shortly`,
        { queue: this.opts.name, retryAfterSeconds: 1 },
      );
    }
    this.#perClient.set(client, mine + 1);
    try {
      if (now) this.#begin(client);
      else await new Promise<void>((start) => this.#waiting.push({ client, start }));
      try {
        return await job();
      } finally {
        this.#running--;
        const left = (this.#runningBy.get(client) ?? 1) - 1;
        if (left === 0) this.#runningBy.delete(client);
        else this.#runningBy.set(client, left);
        this.#next();
      }
    } finally {
      const left = (this.#perClient.get(client) ?? 1) - 1;
      if (left === 0) this.#perClient.delete(client);
      else this.#perClient.set(client, left);
    }
  }

  #canStart(client: string): boolean {
    if (this.#running >= this.opts.concurrency) return false;
    return client === "" || (this.#runningBy.get(client) ?? 0) < this.opts.maxRunningPerClient;
  }

  #begin(client: string): void {
    this.#running++;
    this.#runningBy.set(client, (this.#runningBy.get(client) ?? 0) + 1);
  }

  /** Starts waiting jobs, in arrival order, while slots are free for their clients. */
  #next(): void {
    for (let i = 0; i < this.#waiting.length && this.#running < this.opts.concurrency; ) {
      const waiting = this.#waiting[i] as Waiting;
      if (!this.#canStart(waiting.client)) {
        i++;
        continue;
      }
      this.#waiting.splice(i, 1);
      this.#begin(waiting.client);
      waiting.start();
    }
  }
}
