// The Wilson score interval of a proportion (Wilson 1927; Newcombe 1998, method 3): unlike the
// normal ("Wald") interval it stays inside [0, 1] and keeps its coverage for small counts and rates
// near 0% or 100% — the on-time rates and satisfaction shares of small areas are exactly those.
import { normalQuantile } from './distributions.ts';

export interface Interval { lower: number; upper: number }

/**
 * The two-sided Wilson score interval for `successes` of `trials` at `level` (default 95%):
 * (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n). null when there are no trials.
 */
export function wilsonInterval(successes: number, trials: number, level = 0.95): Interval | null {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || successes < 0 || successes > trials) {
    throw new RangeError(`wilsonInterval needs whole numbers 0 <= successes <= trials (got ${successes} of ${trials})`);
  }
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be between 0 and 1 (got ${level})`);
  if (trials === 0) return null;
  const z = normalQuantile(1 - (1 - level) / 2);
  const n = trials;
  const p = successes / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const den = 1 + z2 / n;
  // At 0 or n successes one end is exactly 0 or 1; rounding must not push it a hair past.
  return {
    lower: successes === 0 ? 0 : Math.max(0, (centre - half) / den),
    upper: successes === n ? 1 : Math.min(1, (centre + half) / den),
  };
}
