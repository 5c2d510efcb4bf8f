import { createHash, randomBytes } from "node:crypto";

/**
 * The seed of a test's random choices: `CELLAR_TEST_SEED` when set (to replay a failure), else a
 * fresh one. Log it (`t.comment`) so that a failing run can be repeated exactly.
 */
export function testSeed(): string {
  return process.env.CELLAR_TEST_SEED ?? randomBytes(8).toString("hex");
}

/**
 * A uniform integer in [0, bound) drawn from a SHA-256 counter stream keyed by `seed` (rejection
 * sampling, so without modulo bias): the same seed gives the same sequence.
 */
export function seededRandom(seed: string): (bound: number) => number {
  let counter = 0;
  let pool = Buffer.alloc(0);
  const next = (): number => {
    if (pool.length < 4) pool = createHash("sha256").update(`${seed}:${counter++}`).digest();
    const value = pool.readUInt32BE(0);
    pool = pool.subarray(4);
    return value;
  };
  return (bound) => {
    const limit = Math.floor(0x1_0000_0000 / bound) * bound;
    for (;;) {
      const value = next();
      if (value < limit) return value % bound;
    }
  };
}

/**
 * The least k with P(X > k) <= alpha for X ~ Binomial(n, p): a bound on a count of independent
 * events that a correct implementation exceeds with probability at most alpha.
 */
export function binomialUpperBound(n: number, p: number, alpha: number): number {
  const logChoose = (k: number) => {
    let sum = 0;
    for (let i = 1; i <= k; i++) sum += Math.log((n - k + i) / i);
    return sum;
  };
  let tail = 1;
  for (let k = 0; k <= n; k++) {
    tail -= Math.exp(logChoose(k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
    if (tail <= alpha) return k;
  }
  return n;
}
