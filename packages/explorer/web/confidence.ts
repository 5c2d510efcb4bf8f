// The light client's confidence rule, for the page (the same formula as `@cellar/light`, which
// the tests cross-check; the page does not import the Node package).

const COLUMNS = 128;
/** A batch that cannot be rebuilt still serves at most 63 columns. */
const SERVABLE_IF_UNRECOVERABLE = 63;

/** C(63, S) / C(128, S): the chance that S distinct random columns all miss the gap. */
export function missProbability(samples: number): number {
  let p = 1;
  for (let i = 0; i < samples; i++) p *= Math.max(0, SERVABLE_IF_UNRECOVERABLE - i) / (COLUMNS - i);
  return p;
}

/** `1 - C(63,S)/C(128,S)`; zero verified columns are no evidence. */
export function confidenceOf(samples: number): number {
  return samples <= 0 ? 0 : 1 - missProbability(samples);
}

/** The smallest S whose confidence reaches `target` (64 always does). */
export function samplesFor(target: number): number {
  for (let s = 1; s < SERVABLE_IF_UNRECOVERABLE + 1; s++) if (missProbability(s) <= 1 - target) return s;
  return SERVABLE_IF_UNRECOVERABLE + 1;
}

/** S distinct columns out of 128, uniformly, from `crypto.getRandomValues` (no modulo bias). */
export function randomColumns(count: number, random: (out: Uint32Array) => void): number[] {
  const pool = Array.from({ length: COLUMNS }, (_, i) => i);
  const word = new Uint32Array(1);
  const below = (bound: number): number => {
    const limit = Math.floor(0x1_0000_0000 / bound) * bound;
    for (;;) {
      random(word);
      if ((word[0] as number) < limit) return (word[0] as number) % bound;
    }
  };
  const n = Math.min(count, COLUMNS);
  for (let i = 0; i < n; i++) {
    const j = i + below(COLUMNS - i);
    [pool[i], pool[j]] = [pool[j] as number, pool[i] as number];
  }
  return pool.slice(0, n);
}

/** A confidence for people: "1 − 7.0×10⁻⁷" rather than 0.9999993. */
export function formatConfidence(confidence: number): string {
  if (confidence <= 0) return "0";
  if (confidence >= 1) return "1";
  const miss = 1 - confidence;
  if (miss > 0.01) return confidence.toFixed(3);
  const exponent = Math.floor(Math.log10(miss));
  const mantissa = miss / 10 ** exponent;
  return `1 − ${mantissa.toFixed(1)}×10${superscript(exponent)}`;
}

function superscript(n: number): string {
  const digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
  return `${n < 0 ? "⁻" : ""}${[...String(Math.abs(n))].map((d) => digits[Number(d)]).join("")}`;
}
