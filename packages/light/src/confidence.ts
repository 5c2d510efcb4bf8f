import { CELLS_PER_EXT_BLOB, DATA_COLUMNS } from "@cellar/params";
import { LightError } from "./errors.js";

/** Columns that may be missing while a batch can still be rebuilt is 64; one more and it cannot. */
const AVAILABLE_IF_UNRECOVERABLE = DATA_COLUMNS - 1;

/**
 * The chance that S distinct random columns all land among the 63 columns an adversary could
 * still serve for an unrecoverable batch: C(63, S) / C(128, S). Zero once S > 63.
 */
export function missProbability(samples: number): number {
  let p = 1;
  for (let i = 0; i < samples; i++) p *= Math.max(0, AVAILABLE_IF_UNRECOVERABLE - i) / (CELLS_PER_EXT_BLOB - i);
  return p;
}

/** Confidence after S verified samples: `1 - C(63,S)/C(128,S)`; zero samples are no evidence. */
export function confidenceOf(samples: number): number {
  return samples <= 0 ? 0 : 1 - missProbability(samples);
}

/** The smallest S with `C(63,S)/C(128,S) ≤ 1 - target`. */
export function samplesFor(target: number): number {
  if (!(target > 0 && target < 1)) {
    throw new LightError("CELLAR_ERR_LIGHT_INVALID_TARGET", `target confidence must be in (0, 1), got ${target}`, {
      target,
    });
  }
  for (let s = 1; s <= CELLS_PER_EXT_BLOB; s++) if (missProbability(s) <= 1 - target) return s;
  /* c8 ignore next */
  return AVAILABLE_IF_UNRECOVERABLE + 1;
}

/** The default target: 1 - 1e-6. */
export const DEFAULT_TARGET = 1 - 1e-6;
