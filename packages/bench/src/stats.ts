/** Above this run-to-run spread a figure is reported as too noisy to trust (as in bench/encode.ts). */
export const SPREAD_LIMIT = 0.1;

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of an empty list");
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** (largest − smallest) ÷ median: 0 for one sample, and for a median of 0. */
export function spread(xs: readonly number[]): number {
  const mid = median(xs);
  return mid === 0 ? 0 : (Math.max(...xs) - Math.min(...xs)) / mid;
}

/** What a list of timings says: its median, extremes, spread and whether it can be trusted. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly spread: number;
  readonly samples: number;
  /** At least two samples and a spread within the limit: one sample cannot show its own noise. */
  readonly trusted: boolean;
}

export function summarize(xs: readonly number[], limit = SPREAD_LIMIT): Summary {
  const s = spread(xs);
  return {
    median: median(xs),
    min: Math.min(...xs),
    max: Math.max(...xs),
    spread: s,
    samples: xs.length,
    trusted: xs.length >= 2 && s <= limit,
  };
}
