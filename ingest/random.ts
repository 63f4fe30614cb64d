// Seeded randomness for the demo city: the same seed gives the same city, byte for byte.

export { seededRandom } from '../warehouse/stats/random.ts';

export function poisson(rand: () => number, mean: number): number {
  if (mean > 30) {
    // Normal approximation keeps large means fast; rounding keeps it an integer count.
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rand)));
  }
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k += 1;
    p *= rand();
  } while (p > l);
  return k - 1;
}

export function normal(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function pick<T>(rand: () => number, items: readonly T[], weights: readonly number[]): T {
  const total = weights.reduce((s, w) => s + w, 0);
  let r = rand() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i];
    if (r <= 0) return items[i];
  }
  return items[items.length - 1];
}
