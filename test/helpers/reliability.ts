// What the adversarial suite (`test/reliability/`) shares: how many rounds each check runs (a
// short count in the default suite, a long one under `npm run test:reliability`), the figures it
// reports, and the binomial interval the observed rates are judged by.
import { appendFileSync } from "node:fs";
import type { Test } from "tap";

/** True under `npm run test:reliability` (CELLAR_RELIABILITY=long). */
export const LONG = process.env.CELLAR_RELIABILITY === "long";

/**
 * How many rounds a check runs: `short` in the default suite, `long` under the long run, or the
 * number in `CELLAR_RELIABILITY_<NAME>` (upper case) when that is set.
 */
export function rounds(name: string, short: number, long: number): number {
  const env = process.env[`CELLAR_RELIABILITY_${name.toUpperCase()}`];
  if (env !== undefined && /^\d+$/.test(env)) return Number(env);
  return LONG ? long : short;
}

/** One published figure: the guarantee, the attack, how many times it ran, what was seen, the bound. */
export interface Figure {
  readonly area: string;
  readonly guarantee: string;
  readonly attack: string;
  readonly count: number;
  readonly observed: string;
  readonly bound: string;
}

/**
 * Reports a figure: as a tap comment, and as a JSON line appended to the file named by
 * `CELLAR_RELIABILITY_FIGURES` (the long run's report reads them from there).
 */
export function figure(t: Test, f: Figure): void {
  t.comment(`figure: ${f.area} | ${f.guarantee} | ${f.attack} | ${f.count} | ${f.observed} | ${f.bound}`);
  const out = process.env.CELLAR_RELIABILITY_FIGURES;
  if (out) appendFileSync(out, `${JSON.stringify(f)}\n`);
}

/**
 * The Wilson score interval of `k` successes in `n` trials at normal quantile `z` (1.96: 95%,
 * 3.29: 99.9%, 3.89: 99.99%).
 */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Formats a rate with its interval: `0.0551 (95% CI 0.0508–0.0597)`. */
export function rateWithInterval(k: number, n: number): string {
  const [lo, hi] = wilson(k, n);
  return `${k}/${n} = ${(k / n).toFixed(4)} (95% CI ${lo.toFixed(4)}–${hi.toFixed(4)})`;
}
