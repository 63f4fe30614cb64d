// Equity: the same service measured area by area — time to close, on-time rate, satisfaction —
// with the spread between the best and worst areas and a test of whether the differences are
// beyond chance, so a planner sees where service is unequal rather than where it is noisy.
import { query, type Warehouse } from '../db.ts';
import { kaplanMeier, kmSummary, type KmObservation } from '../stats/kaplan-meier.ts';
import { gammaQ } from '../stats/distributions.ts';

export interface EquityOptions { from: string; to: string; as_of: string; timezone: string; service?: string; minCases?: number }

export interface EquityArea {
  area: string;
  cases: number;
  median_hours_to_close: number | null;
  on_time_rate: number | null;
  csat_top2: number | null;
  survey_responses: number;
}

export interface EquityTest { statistic: number; df: number; p: number; method: string }

export interface EquityResult {
  service: string | null;
  areas: EquityArea[];
  time_to_close: { best: string | null; worst: string | null; ratio: number | null; test: EquityTest | null };
  on_time: { best: string | null; worst: string | null; gap: number | null; test: EquityTest | null };
  satisfaction: { best: string | null; worst: string | null; gap: number | null; test: EquityTest | null };
  sentence: string;
}

const chiSquareP = (x: number, df: number) => (df > 0 ? gammaQ(df / 2, x / 2) : 1);

/**
 * The k-sample log-rank test, as R's survdiff: U = O − E per group, V its covariance (with the
 * ties correction), χ² = Uᵀ V⁻¹ U over k − 1 groups.
 */
export function logRank(groups: ReadonlyMap<string, KmObservation[]>): EquityTest | null {
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
export function proportionsTest(groups: { successes: number; trials: number }[]): EquityTest | null {
  const g = groups.filter((x) => x.trials > 0);
  if (g.length < 2) return null;
  const s = g.reduce((a, x) => a + x.successes, 0);
  const n = g.reduce((a, x) => a + x.trials, 0);
  const p = s / n;
  if (p === 0 || p === 1) return { statistic: 0, df: g.length - 1, p: 1, method: 'χ² test of proportions' };
  const statistic = g.reduce((a, x) => a + (x.successes - x.trials * p) ** 2 / (x.trials * p * (1 - p)), 0);
  return { statistic, df: g.length - 1, p: chiSquareP(statistic, g.length - 1), method: 'χ² test of proportions' };
}

export async function computeEquity(wh: Warehouse, o: EquityOptions): Promise<EquityResult> {
  const minCases = o.minCases ?? 20;
  const where = `WHERE c.opened_at >= timezone($tz, $from::DATE::TIMESTAMP) AND c.opened_at < timezone($tz, ($to::DATE + 1)::TIMESTAMP)
      AND c.opened_at <= $as_of::TIMESTAMPTZ AND (c.area_id IS NOT NULL OR c.area_name IS NOT NULL)
      AND ($service IS NULL OR c.service_code = $service OR c.service_name = $service)
      AND NOT coalesce(c.closed_at < c.opened_at, false)`;
  const base = `FROM cases c LEFT JOIN areas a ON a.area_id = c.area_id ${where}`;
  const area = `coalesce(a.name, c.area_id, c.area_name)`;
  const closed = `(c.closed_at IS NOT NULL AND c.closed_at <= $as_of::TIMESTAMPTZ)`;
  const params = { tz: o.timezone, from: o.from, to: o.to, as_of: o.as_of, service: o.service ?? null };
  const counts = query(
    `WITH answers AS (
       SELECT case_id, count(csat)::INTEGER AS answers, count(*) FILTER (WHERE csat >= 4)::INTEGER AS top2
       FROM survey_responses WHERE case_id IS NOT NULL GROUP BY 1
     )
     SELECT ${area} AS area, count(*)::INTEGER AS cases, any_value(c.service_name) AS service_name,
       count(*) FILTER (WHERE c.due_at IS NOT NULL AND c.status <> 'cancelled' AND ${closed} AND c.closed_at <= c.due_at)::INTEGER AS on_time,
       count(*) FILTER (WHERE c.due_at IS NOT NULL AND c.status <> 'cancelled' AND (${closed} OR c.due_at < $as_of::TIMESTAMPTZ))::INTEGER AS on_time_den,
       coalesce(sum(s.top2), 0)::INTEGER AS top2, coalesce(sum(s.answers), 0)::INTEGER AS answers
     FROM cases c LEFT JOIN areas a ON a.area_id = c.area_id LEFT JOIN answers s ON s.case_id = c.case_id
     ${where} GROUP BY 1 ORDER BY 1`,
    params,
  );
  const obs = query(
    `SELECT ${area} AS area, CASE WHEN ${closed} THEN epoch(c.closed_at - c.opened_at) ELSE epoch($as_of::TIMESTAMPTZ - c.opened_at) END AS seconds,
       count(*) FILTER (WHERE ${closed})::INTEGER AS events, count(*) FILTER (WHERE NOT ${closed})::INTEGER AS censored
     ${base} AND NOT (c.status = 'cancelled' AND c.cancelled_at <= $as_of::TIMESTAMPTZ) GROUP BY ALL`,
    params,
  );
  const all = await wh.all<{ area: string; cases: number; service_name: string | null; on_time: number; on_time_den: number; top2: number; answers: number }>(counts.sql, counts.params);
  const rows = all.filter((r) => r.cases >= minCases);
  const byArea = new Map<string, KmObservation[]>();
  for (const r of await wh.all<{ area: string; seconds: number; events: number; censored: number }>(obs.sql, obs.params)) {
    if (!rows.some((x) => x.area === r.area)) continue;
    const list = byArea.get(r.area) ?? [];
    list.push({ time: Number(r.seconds), events: r.events, censored: r.censored });
    byArea.set(r.area, list);
  }
  const areas: EquityArea[] = rows.map((r) => {
    const median = kmSummary(kaplanMeier(byArea.get(r.area) ?? [])).median;
    return {
      area: r.area,
      cases: r.cases,
      median_hours_to_close: median === null ? null : Math.round((median / 3600) * 10) / 10,
      on_time_rate: r.on_time_den > 0 ? r.on_time / r.on_time_den : null,
      csat_top2: r.answers > 0 ? r.top2 / r.answers : null,
      survey_responses: r.answers,
    };
  });
  const extreme = <K extends keyof EquityArea>(key: K, better: 'low' | 'high') => {
    const ok = areas.filter((a) => a[key] !== null) as (EquityArea & Record<K, number>)[];
    if (ok.length < 2) return { best: null, worst: null };
    const sorted = [...ok].sort((a, b) => (better === 'low' ? a[key] - b[key] : b[key] - a[key]));
    return { best: sorted[0], worst: sorted[sorted.length - 1] };
  };
  const ttc = extreme('median_hours_to_close', 'low');
  const ot = extreme('on_time_rate', 'high');
  const sat = extreme('csat_top2', 'high');
  const ttcTest = logRank(byArea);
  const result: EquityResult = {
    service: o.service ? (all.find((r) => r.service_name)?.service_name ?? o.service) : null,
    areas,
    time_to_close: { best: ttc.best?.area ?? null, worst: ttc.worst?.area ?? null, ratio: ttc.best && ttc.worst ? ttc.worst.median_hours_to_close / ttc.best.median_hours_to_close : null, test: ttcTest },
    on_time: { best: ot.best?.area ?? null, worst: ot.worst?.area ?? null, gap: ot.best && ot.worst ? ot.best.on_time_rate - ot.worst.on_time_rate : null, test: proportionsTest(rows.map((r) => ({ successes: r.on_time, trials: r.on_time_den }))) },
    satisfaction: { best: sat.best?.area ?? null, worst: sat.worst?.area ?? null, gap: sat.best && sat.worst ? sat.best.csat_top2 - sat.worst.csat_top2 : null, test: proportionsTest(rows.map((r) => ({ successes: r.top2, trials: r.answers }))) },
    sentence: '',
  };
  result.sentence = describeEquity(result);
  return result;
}

function describeEquity(r: EquityResult): string {
  const what = r.service ? `${r.service} requests` : 'Requests';
  const t = r.time_to_close;
  if (!t.best || !t.worst || t.ratio === null || !t.test) return `${what}: too few cases per area to compare areas.`;
  const best = r.areas.find((a) => a.area === t.best)!;
  const worst = r.areas.find((a) => a.area === t.worst)!;
  const sure = t.test.p < 0.05 ? `the difference between areas is beyond chance (${t.test.p < 0.001 ? 'p < 0.001' : `p = ${t.test.p.toFixed(3)}`})` : `the difference between areas could be chance (p = ${t.test.p.toFixed(2)})`;
  return `${what} take longest to close in ${worst.area} (median ${worst.median_hours_to_close} h, ${t.ratio.toFixed(1)} times ${best.area}'s ${best.median_hours_to_close} h); ${sure}.`;
}
