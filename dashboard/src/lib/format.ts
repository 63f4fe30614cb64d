// How figures read on screen. The rules themselves (hours under 48 h then days, a percentage with
// its denominator, "too few cases") are the warehouse's, shared with the findings' sentences and
// the PDF reports: warehouse/analytics/format.ts is pure and imports nothing, so the dashboard
// uses it as it is rather than keeping a copy that could drift.
import { formatHours, formatHoursRange, formatSeconds, formatShare, areaPhrase, tooFewCases } from '../../../warehouse/analytics/format.ts';

export { formatHours, formatHoursRange, formatSeconds, formatShare, areaPhrase };

/** The smallest denominator a rate or median is shown for when the API does not say (DESIGN.md). */
export const MIN_DENOMINATOR = 20;

export const int = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : Math.round(v).toLocaleString('en-US'));

/** A share (0–1) as "75.3%", or "too few cases" under the minimum denominator. */
export function pct(share: number | null | undefined, denominator?: number | null, min = MIN_DENOMINATOR): string {
  if (denominator !== undefined && denominator !== null && tooFewCases(denominator, min)) return 'too few cases';
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  return `${(share * 100).toFixed(1)}%`;
}

/** "75.3% of 1,204" — the denominator beside every percentage. */
export function pctOf(share: number | null | undefined, denominator: number | null | undefined, min = MIN_DENOMINATOR): string {
  const p = pct(share, denominator ?? 0, min);
  return p === 'too few cases' || p === '—' ? p : `${p} of ${int(denominator)}`;
}

/** A figure in its unit, as the registry names units. */
export function formatValue(value: number | null | undefined, unit: string, denominator?: number | null, min = MIN_DENOMINATOR): string {
  if (unit === 'share') return denominator === undefined ? pct(value) : pctOf(value, denominator, min);
  if (unit === 'hours') return denominator !== undefined && denominator !== null && denominator < min ? 'too few cases' : formatHours(value);
  if (unit === 'seconds') return formatSeconds(value);
  if (unit === 'score' || unit === 'contacts per case') return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(2);
  if (unit === 'nps') return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(0);
  return int(value);
}

/**
 * A change against the previous period in words, with its unit: "up 12 cases (3.1%)",
 * "down 4.2 percentage points", "no change". Shares change in percentage points, durations in
 * hours or days by the same rule as the figures.
 */
export function formatChange(change: number | null | undefined, unit: string, previous?: number | null): string {
  if (change === null || change === undefined || !Number.isFinite(change)) return 'no earlier figure to compare';
  if (Math.abs(change) < 1e-9) return 'no change';
  const dir = change > 0 ? 'up' : 'down';
  const a = Math.abs(change);
  // The API gives a share's change in percentage points already (0.78 = 0.78 points).
  if (unit === 'share') return `${dir} ${a.toFixed(1)} percentage point${a.toFixed(1) === '1.0' ? '' : 's'}`;
  if (unit === 'hours') return `${dir} ${formatHours(a)}`;
  if (unit === 'seconds') return `${dir} ${formatSeconds(a)}`;
  if (unit === 'score' || unit === 'contacts per case') return `${dir} ${a.toFixed(2)}`;
  const rel = previous ? ` (${((100 * a) / Math.abs(previous)).toFixed(1)}%)` : '';
  return `${dir} ${int(a)} ${unit === 'cases' ? (a === 1 ? 'case' : 'cases') : unit}${rel}`;
}

/** Whether a change is for the better: more on time is good, longer to close is not. */
export function changeIsGood(name: string, change: number | null | undefined): boolean | null {
  if (change === null || change === undefined || Math.abs(change) < 1e-9) return null;
  const higherIsBetter = /on_time|csat|fcr|service_level|nps/.test(name);
  const lowerIsBetter = /hours|backlog|contacts_per_case|abandon|asa|repeat|reopen/.test(name);
  if (higherIsBetter) return change > 0;
  if (lowerIsBetter) return change < 0;
  return null;
}

/** A local date-time in the jurisdiction's zone: "Nov 15, 2026, 4:59 PM PST". */
export function localTime(iso: string | null | undefined, tz: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: tz, timeZoneName: 'short' }).format(new Date(iso));
}

/** A local day (YYYY-MM-DD, already local) as "Nov 15, 2026". */
export function day(d: string | null | undefined): string {
  if (!d) return '—';
  return new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(`${d}T00:00:00Z`));
}
