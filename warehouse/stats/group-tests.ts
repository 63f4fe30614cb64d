// Tests of whether groups differ: the k-sample log-rank test (as R's survdiff) for durations, and
// Pearson's χ² test that a proportion is the same in every group. Pure functions.
import type { KmObservation } from './kaplan-meier.ts';
import { gammaQ } from './distributions.ts';

export interface GroupTest { statistic: number; df: number; p: number; method: string }

const chiSquareP = (x: number, df: number) => (df > 0 ? gammaQ(df / 2, x / 2) : 1);

/**
 * The k-sample log-rank test, as R's survdiff: U = O − E per group, V its covariance (with the
 * ties correction), χ² = Uᵀ V⁻¹ U over k − 1 groups.
 */
export function logRank(groups: ReadonlyMap<string, KmObservation[]>): GroupTest | null {
  const names = [...groups.keys()];
  const k = names.length;
  if (k < 2) return null;
  const times = [...new Set(names.flatMap((g) => groups.get(g)!.map((o) => o.time)))].sort((a, b) => a - b);
  const at = names.map((g) => new Map(groups.get(g)!.map((o) => [o.time, o])));
  const atRisk = names.map((g) => groups.get(g)!.reduce((s, o) => s + o.events + o.censored, 0));
  const u = new Array<number>(k).fill(0);
  const v = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const t of times) {
    const d = at.map((m) => m.get(t)?.events ?? 0);
    const dt = d.reduce((a, b) => a + b, 0);
    const n = atRisk.reduce((a, b) => a + b, 0);
    if (dt > 0 && n > 1) {
      const ties = (n - dt) / (n - 1);
      for (let i = 0; i < k; i++) {
        u[i] += d[i] - (dt * atRisk[i]) / n;
        for (let j = 0; j < k; j++) {
          v[i][j] += ((i === j ? atRisk[i] / n : 0) - (atRisk[i] * atRisk[j]) / (n * n)) * dt * ties;
        }
      }
    }
    for (let i = 0; i < k; i++) atRisk[i] -= (at[i].get(t)?.events ?? 0) + (at[i].get(t)?.censored ?? 0);
  }
  // Drop the last group (the covariance of all k is singular) and solve V x = U.
  const m = k - 1;
  const a = v.slice(0, m).map((row, i) => [...row.slice(0, m), u[i]]);
  for (let c = 0; c < m; c++) {
    let pivot = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) pivot = r;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    if (Math.abs(a[c][c]) < 1e-12) return null;
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let cc = c; cc <= m; cc++) a[r][cc] -= f * a[c][cc];
    }
  }
  const statistic = a.reduce((s, row, i) => s + u[i] * (row[m] / row[i]), 0);
  return { statistic, df: m, p: chiSquareP(statistic, m), method: 'log-rank (as R survdiff)' };
}

/** Pearson's χ² test that a proportion is the same in every group. */
export function proportionsTest(groups: { successes: number; trials: number }[]): GroupTest | null {
  const g = groups.filter((x) => x.trials > 0);
  if (g.length < 2) return null;
  const s = g.reduce((a, x) => a + x.successes, 0);
  const n = g.reduce((a, x) => a + x.trials, 0);
  const p = s / n;
  if (p === 0 || p === 1) return { statistic: 0, df: g.length - 1, p: 1, method: 'χ² test of proportions' };
  const statistic = g.reduce((a, x) => a + (x.successes - x.trials * p) ** 2 / (x.trials * p * (1 - p)), 0);
  return { statistic, df: g.length - 1, p: chiSquareP(statistic, g.length - 1), method: 'χ² test of proportions' };
}

