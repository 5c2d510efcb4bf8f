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

/** A uniform integer in [0, bound) from `random` (`crypto.getRandomValues`), without modulo bias. */
export function uniform(bound: number, random: (out: Uint32Array) => void): number {
  const limit = Math.floor(0x1_0000_0000 / bound) * bound;
  const word = new Uint32Array(1);
  for (;;) {
    random(word);
    if ((word[0] as number) < limit) return (word[0] as number) % bound;
  }
}

/** A uniformly shuffled copy of `xs` (Fisher–Yates). */
export function shuffled<T>(xs: readonly T[], random: (out: Uint32Array) => void): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = uniform(i + 1, random);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** `count` distinct columns out of 128, uniformly. */
export function randomColumns(count: number, random: (out: Uint32Array) => void): number[] {
  return shuffled(
    Array.from({ length: COLUMNS }, (_, i) => i),
    random,
  ).slice(0, Math.min(count, COLUMNS));
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
