// Tests of whether groups differ: the k-sample log-rank test (as R's survdiff) for durations, and
// Pearson's χ² test that a proportion is the same in every group. Pure functions.
import type { KmObservation } from './kaplan-meier.ts';
import { gammaQ } from './distributions.ts';

export interface GroupTest { statistic: number; df: number; p: number; method: string }

const chiSquareP = (x: number, df: number) => (df > 0 ? gammaQ(df / 2, x / 2) : 1);

/**
 * A group's observations one distinct time at a time, in increasing time: `peek()` the next time
 * (+∞ once done), `next()` moves to it, and `events` and `censored` are its counts there.
 */
export interface TimeCursor {
  peek(): number;
  next(): number;
  readonly events: number;
  readonly censored: number;
}

/** A cursor over observations (sorted here; observations at the same time added together). */
function observationCursor(observations: readonly KmObservation[]): TimeCursor {
  const obs = [...observations].sort((a, b) => a.time - b.time);
  let at = 0;
  const cursor = {
    events: 0,
    censored: 0,
    peek: () => (at < obs.length ? obs[at].time : Number.POSITIVE_INFINITY),
    next: () => {
      const time = obs[at].time;
      cursor.events = 0;
      cursor.censored = 0;
      for (; at < obs.length && obs[at].time === time; at++) {
        cursor.events += obs[at].events;
        cursor.censored += obs[at].censored;
      }
      return time;
    },
  };
  return cursor;
}

/**
 * The k-sample log-rank test, as R's survdiff: U = O − E per group, V its covariance (with the
 * ties correction), χ² = Uᵀ V⁻¹ U over k − 1 groups.
 */
export function logRank(groups: ReadonlyMap<string, KmObservation[]>): GroupTest | null {
  const lists = [...groups.values()];
  return logRankOf(lists.map(observationCursor), lists.map((l) => l.reduce((s, o) => s + o.events + o.censored, 0)));
}

/**
 * The log-rank test over each group's cursor (its distinct times in increasing order) and its
 * number of cases: a large city's groups are read straight off their sorted durations
 * (kaplan-meier.ts DistinctTimes), not as an object per distinct time. The groups' times are
 * merged as they come; the sums run in the groups' order, time by time, as logRank's always did.
 * `advance(budget)` walks about that many distinct times (a server walks millions in turns).
 */
export class LogRankWalk {
  private readonly k: number;
  private readonly atRisk: number[];
  private readonly u: number[];
  private readonly v: number[][];
  private readonly d: number[];
  private readonly cs: number[];
  done = false;

  constructor(private readonly cursors: readonly TimeCursor[], cases: readonly number[]) {
    const k = (this.k = cursors.length);
    this.atRisk = [...cases];
    this.u = new Array<number>(k).fill(0);
    this.v = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    this.d = new Array<number>(k).fill(0);
    this.cs = new Array<number>(k).fill(0);
    this.done = k < 2;
  }

  advance(budget: number): number {
    const { k, cursors, atRisk, u, v, d, cs } = this;
    let walked = 0;
    while (!this.done && walked < budget) {
      let t = Number.POSITIVE_INFINITY;
      for (const cur of cursors) t = Math.min(t, cur.peek());
      if (t === Number.POSITIVE_INFINITY) {
        this.done = true;
        break;
      }
      walked++;
      for (let i = 0; i < k; i++) {
        if (cursors[i].peek() === t) {
          cursors[i].next();
          d[i] = cursors[i].events;
          cs[i] = cursors[i].censored;
        } else d[i] = cs[i] = 0;
      }
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
      for (let i = 0; i < k; i++) atRisk[i] -= d[i] + cs[i];
    }
    return walked;
  }

  /** The test (null: fewer than two groups, or a singular covariance). */
  result(): GroupTest | null {
    if (!this.done) throw new Error('LogRankWalk: not done yet');
    const { k, u, v } = this;
    if (k < 2) return null;
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
}

/** The log-rank test over cursors, at once. */
export function logRankOf(cursors: readonly TimeCursor[], cases: readonly number[]): GroupTest | null {
  const walk = new LogRankWalk(cursors, cases);
  walk.advance(Number.POSITIVE_INFINITY);
  return walk.result();
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

