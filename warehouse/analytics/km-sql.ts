// Kaplan–Meier summaries computed inside DuckDB with window functions, so a query over millions
// of cases ships one row per group instead of one row per distinct duration. The same rules as
// survival.ts (R survival): events before censorings at a tied time; median = first time S < ½,
// or the midpoint of a stretch where S is exactly ½; log-interval bands from Greenwood's sum; a
// band is undefined once S reaches 0. survival.ts stays the reference the tests hold this to.

/**
 * SQL over `obs` (a CTE or table with the grouping columns `keys`, `seconds`, `events`,
 * `censored`: one row per group and distinct duration) → one row per group with `km_n`,
 * `km_events`, `km_median`, `km_median_lower`, `km_median_upper`, `km_p90` (seconds, NULL when
 * not reached). `keys` must come from an allow-list.
 */
export function kmSummarySql(obs: string, keys: readonly string[]): string {
  const part = keys.length ? `PARTITION BY ${keys.join(', ')}` : '';
  const group = keys.length ? `GROUP BY ${keys.join(', ')}` : '';
  const tol = 'sqrt(2.220446049250313e-16)';
  // A quantile of one curve column (`col`) at survival level `lvl`.
  const quantile = (col: string, lvl: number) => `CASE
      WHEN min(seconds) FILTER (WHERE abs(${col} - ${lvl}) < ${tol}) IS NOT NULL
       AND (min(seconds) FILTER (WHERE ${col} < ${lvl} - ${tol}) IS NULL
            OR min(seconds) FILTER (WHERE abs(${col} - ${lvl}) < ${tol}) < min(seconds) FILTER (WHERE ${col} < ${lvl} - ${tol}))
      THEN (min(seconds) FILTER (WHERE abs(${col} - ${lvl}) < ${tol}) + coalesce(min(seconds) FILTER (WHERE ${col} < ${lvl} - ${tol}), max(seconds))) / 2
      ELSE min(seconds) FILTER (WHERE ${col} < ${lvl} - ${tol}) END`;
  return `
km_risk AS (
  SELECT *, sum(events + censored) OVER (${part} ORDER BY seconds DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n_risk
  FROM ${obs}
), km_curve AS (
  SELECT *,
    -- S(t) as a running product, through logs; a factor of 0 (all at risk ended) makes S 0 from there on.
    CASE WHEN bool_or(events = n_risk) OVER w THEN 0.0
         ELSE exp(sum(CASE WHEN events > 0 THEN ln(greatest(1 - events / n_risk, 1e-300)) ELSE 0 END) OVER w) END AS surv,
    sum(CASE WHEN events > 0 AND events < n_risk THEN events / (n_risk * (n_risk - events)) ELSE 0 END) OVER w AS greenwood
  FROM km_risk
  WINDOW w AS (${part} ORDER BY seconds ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), km_bands AS (
  SELECT *,
    CASE WHEN surv > 0 THEN surv * exp(-1.959963984540054 * sqrt(greenwood)) END AS lower_band,
    CASE WHEN surv > 0 THEN least(1.0, surv * exp(1.959963984540054 * sqrt(greenwood))) END AS upper_band
  FROM km_curve
), km AS (
  SELECT ${keys.map((k) => `${k}, `).join('')}
    sum(events + censored)::INTEGER AS km_n, sum(events)::INTEGER AS km_events,
    ${quantile('surv', 0.5)} AS km_median,
    ${quantile('lower_band', 0.5)} AS km_median_lower,
    ${quantile('upper_band', 0.5)} AS km_median_upper,
    ${quantile('surv', 0.1)} AS km_p90
  FROM km_bands ${group}
)`;
}
