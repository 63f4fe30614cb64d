// Where a series shifted: the least-squares single change point (the split of a series into two
// segments whose means leave the smallest sum of squared deviations — the maximum-likelihood
// split for one shift in mean under normal noise). Used to say "from X before to Y after <date>"
// beside a Mann–Kendall trend, with the split taken from the data, not assumed. (Pettitt's
// rank-based split was tried first: it moves the split off a step into the longer segment
// whenever that segment's values near the step fall below the overall median.)

export interface ChangePoint {
  /** Index (in the series' own positions) of the first value after the shift; null when too short. */
  index: number | null;
  /** Means of the present values before and from `index`. */
  before: number | null;
  after: number | null;
  /** Present values before and from `index`. */
  n_before: number;
  n_after: number;
}

/**
 * The split of `x`'s present values (null and NaN dropped; positions kept) that minimises the
 * within-segment sum of squares, each segment at least `minSegment` values long (the earliest
 * split at a tie). Equivalently it maximises S₁²/n₁ + S₂²/n₂ over the segments' sums.
 */
export function meanShift(x: readonly (number | null | undefined)[], minSegment = 2): ChangePoint {
  const pos: number[] = [];
  const v: number[] = [];
  x.forEach((value, i) => {
    if (value !== null && value !== undefined && Number.isFinite(value)) {
      pos.push(i);
      v.push(value);
    }
  });
  const n = v.length;
  const m = Math.max(1, minSegment);
  if (n < 2 * m) return { index: null, before: null, after: null, n_before: 0, n_after: 0 };
  const total = v.reduce((a, b) => a + b, 0);
  let best = -Infinity;
  let at = m;
  let s1 = 0;
  for (let k = 1; k <= n - m; k++) {
    s1 += v[k - 1];
    if (k < m) continue;
    const s2 = total - s1;
    const score = (s1 * s1) / k + (s2 * s2) / (n - k);
    if (score > best) {
      best = score;
      at = k;
    }
  }
  const before = v.slice(0, at);
  const after = v.slice(at);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { index: pos[at], before: mean(before), after: mean(after), n_before: before.length, n_after: after.length };
}
