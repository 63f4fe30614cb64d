// Kaplan–Meier product-limit estimator, matching R's survival package (survfit, conf.type =
// "log", quantile rules). Ours because the numbers must match the reference exactly.

/** Observations at one distinct time: how many ended (event) and how many were censored. */
export interface KmObservation { time: number; events: number; censored: number }

export interface KmPoint {
  time: number;
  n_risk: number;
  n_event: number;
  n_censor: number;
  surv: number;
  std_err: number | null; // standard error of S (Greenwood), as summary.survfit prints it
  lower: number | null;
  upper: number | null;
}

export interface KmCurve { n: number; events: number; points: KmPoint[] }

const Z95 = 1.959963984540054;
// R compares survival to a quantile level with this tolerance (sqrt of double epsilon).
const TOLERANCE = Math.sqrt(Number.EPSILON);

/** Groups raw durations into distinct-time observations. */
export function observationsFrom(times: readonly number[], status: readonly (0 | 1 | boolean)[]): KmObservation[] {
  const byTime = new Map<number, KmObservation>();
  times.forEach((t, i) => {
    const o = byTime.get(t) ?? { time: t, events: 0, censored: 0 };
    if (status[i]) o.events += 1;
    else o.censored += 1;
    byTime.set(t, o);
  });
  return [...byTime.values()];
}

export function kaplanMeier(observations: readonly KmObservation[]): KmCurve {
  const obs = [...observations].filter((o) => o.events + o.censored > 0).sort((a, b) => a.time - b.time);
  const n = obs.reduce((s, o) => s + o.events + o.censored, 0);
  let atRisk = n;
  let surv = 1;
  let greenwood = 0; // Σ d / (n (n − d))
  let events = 0;
  const points: KmPoint[] = [];
  for (const o of obs) {
    // At a tied time events count first and the censored are still at risk.
    if (o.events > 0) {
      surv *= 1 - o.events / atRisk;
      greenwood += atRisk > o.events ? o.events / (atRisk * (atRisk - o.events)) : Number.POSITIVE_INFINITY;
      events += o.events;
    }
    const se = Number.isFinite(greenwood) && surv > 0 ? Math.sqrt(greenwood) : null;
    points.push({
      time: o.time,
      n_risk: atRisk,
      n_event: o.events,
      n_censor: o.censored,
      surv,
      std_err: se === null ? null : surv * se,
      lower: se === null ? null : surv * Math.exp(-Z95 * se),
      upper: se === null ? null : Math.min(1, surv * Math.exp(Z95 * se)),
    });
    atRisk -= o.events + o.censored;
  }
  return { n, events, points };
}

/**
 * The time by which a share q of cases has ended: the first time the curve drops below 1 − q;
 * if it sits exactly on 1 − q over a flat stretch, the midpoint of that stretch (R's rule).
 * null when the curve never gets there (too many still open).
 */
export function kmQuantile(curve: KmCurve, q: number, band: 'surv' | 'lower' | 'upper' = 'surv'): number | null {
  const target = 1 - q;
  const pts = curve.points;
  const value = (p: KmPoint) => (band === 'surv' ? p.surv : band === 'lower' ? p.lower : p.upper);
  for (let i = 0; i < pts.length; i++) {
    const s = value(pts[i]);
    // Once S reaches 0 R leaves the bands undefined (NA), so a band never crosses there.
    if (s === null) continue;
    if (Math.abs(s - target) < TOLERANCE) {
      // Flat at exactly the target: the stretch ends where the curve next drops, or at the end of follow-up.
      const next = pts.slice(i + 1).find((p) => {
        const v = value(p);
        return v !== null && v < target - TOLERANCE;
      });
      return (pts[i].time + (next ?? pts[pts.length - 1]).time) / 2;
    }
    if (s < target) return pts[i].time;
  }
  return null;
}

export interface KmSummary { n: number; events: number; median: number | null; median_lower: number | null; median_upper: number | null; p90: number | null }

export function kmSummary(curve: KmCurve): KmSummary {
  return {
    n: curve.n,
    events: curve.events,
    median: kmQuantile(curve, 0.5),
    // The median's CI: where the lower band crosses 0.5 gives the lower limit, the upper band the upper.
    median_lower: kmQuantile(curve, 0.5, 'lower'),
    median_upper: kmQuantile(curve, 0.5, 'upper'),
    p90: kmQuantile(curve, 0.9),
  };
}
