/** Times `fn` over as many calls as fill `minMs` (fast work is below a timer tick) and returns seconds per call. */
export function timeRepeated(fn: () => void, minMs = 50): number {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    fn();
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return elapsed / 1000 / calls;
}

/** `amount` per second, kept finite when a fake or a trivial step takes no measurable time. */
export function rate(amount: number, seconds: number): number {
  return amount / Math.max(seconds, 1e-9);
}

/** Four significant digits: what a benchmark can honestly claim, and a tidy JSON. */
export function sig(x: number): number {
  return Number(x.toPrecision(4));
}
