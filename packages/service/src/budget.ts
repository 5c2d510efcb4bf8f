/**
 * A request budget per client address: at most `max` requests in each fixed window of
 * `windowMs`. It is checked on Node's raw request, before Fastify builds a request, runs hooks
 * or routes it, so a refusal costs a map lookup and a canned answer: a flooding address is
 * refused at a fraction of what serving anyone costs (docs/RELIABILITY.md, floods).
 */
export class AddressBudget {
  readonly #windows = new Map<string, { count: number; resetAt: number }>();

  /**
   * @param maxAddresses addresses tracked at once: past it, finished windows are dropped, and if
   *   every window is current the oldest goes (that address starts a new window): memory stays
   *   bounded whatever the number of addresses.
   */
  constructor(
    readonly max: number,
    readonly windowMs: number,
    readonly maxAddresses = 100_000,
  ) {}

  /** Addresses with a window now. */
  get size(): number {
    return this.#windows.size;
  }

  /**
   * Counts one request from `address`: 0 when it is within the budget, else the seconds until
   * the address's window ends (its `Retry-After`, at least 1).
   */
  take(address: string, now = Date.now()): number {
    let window = this.#windows.get(address);
    if (window === undefined || now >= window.resetAt) {
      if (window === undefined && this.#windows.size >= this.maxAddresses) this.#sweep(now);
      window = { count: 0, resetAt: now + this.windowMs };
      this.#windows.set(address, window);
    }
    window.count++;
    return window.count <= this.max ? 0 : Math.max(1, Math.ceil((window.resetAt - now) / 1000));
  }

  /** True when `address`'s current window has just been exhausted (its first refusal). */
  firstRefusal(address: string): boolean {
    return this.#windows.get(address)?.count === this.max + 1;
  }

  #sweep(now: number): void {
    for (const [address, window] of this.#windows) if (now >= window.resetAt) this.#windows.delete(address);
    if (this.#windows.size >= this.maxAddresses) {
      const oldest = this.#windows.keys().next().value as string;
      this.#windows.delete(oldest);
    }
  }
}
