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
}

/**
 * A bounded queue for expensive work (KZG verification, encoding, sampling rounds): a fixed
 * number of jobs run, a fixed number wait, and anything beyond is refused before it costs
 * anything. A per-client cap keeps one caller from taking every slot.
 */
export class WorkQueue {
  readonly opts: Required<WorkQueueOptions>;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  readonly #perClient = new Map<string, number>();
  refused = 0;

  constructor(opts: WorkQueueOptions) {
    for (const key of ["concurrency", "maxQueued"] as const) {
      if (!Number.isInteger(opts[key]) || opts[key] < (key === "concurrency" ? 1 : 0)) {
        throw new ServiceError("CELLAR_ERR_SERVICE_CONFIG", `${opts.name} queue: ${key} must be an integer`, {});
      }
    }
    this.opts = { maxPerClient: 0, ...opts };
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
    if (this.#running >= this.opts.concurrency && this.#waiting.length >= this.opts.maxQueued) {
      this.refused++;
      throw new ServiceError(
        "CELLAR_ERR_SERVICE_BUSY",
        `${this.opts.name}: ${this.#running} job(s) running and ${this.#waiting.length} waiting, try again shortly`,
        { queue: this.opts.name, retryAfterSeconds: 1 },
      );
    }
    this.#perClient.set(client, mine + 1);
    try {
      if (this.#running >= this.opts.concurrency) await new Promise<void>((resolve) => this.#waiting.push(resolve));
      else this.#running++;
      try {
        return await job();
      } finally {
        const next = this.#waiting.shift();
        if (next) next();
        else this.#running--;
      }
    } finally {
      const left = (this.#perClient.get(client) ?? 1) - 1;
      if (left === 0) this.#perClient.delete(client);
      else this.#perClient.set(client, left);
    }
  }
}
