/** Watches the process's resident set size and keeps its peak, sampling on a timer. */
export interface RssSampler {
  /** Takes one sample now (call it around synchronous work the timer cannot see into). */
  sample(): void;
  /** The peak since the last call (or since start), in bytes; the next window starts at the current RSS. */
  takePeak(): number;
  /** The peak over the sampler's whole life, in bytes. */
  readonly overallPeak: number;
  stop(): void;
}

export function startRssSampler(intervalMs = 25, read: () => number = () => process.memoryUsage.rss()): RssSampler {
  let window = read();
  let overall = window;
  const sample = () => {
    const rss = read();
    if (rss > window) window = rss;
    if (rss > overall) overall = rss;
  };
  // KZG work runs on the libuv pool, so the event loop is free to take samples meanwhile.
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    sample,
    takePeak() {
      sample();
      const peak = window;
      window = read();
      return peak;
    },
    get overallPeak() {
      return overall;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

export const MIB = 1024 * 1024;
