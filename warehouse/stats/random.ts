// Seeded randomness: the same seed gives the same sequence on every platform, so permutation
// tests and the demo city are reproducible.

/** mulberry32: small, fast, good enough for simulation (not for anything secret). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = mulberry32Step(a);
    return mulberry32Value(a);
  };
}

/**
 * mulberry32 unrolled, for a hot loop that keeps the state in a local variable: `a =
 * mulberry32Step(a)` then `mulberry32Value(a)` is the next draw of `seededRandom` started from the
 * same seed. A draw through the closure costs several times more: its state lives on the heap.
 */
export const mulberry32Step = (a: number): number => (a + 0x6d2b79f5) >>> 0;
export function mulberry32Value(a: number): number {
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
