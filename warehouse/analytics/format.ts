// How numbers read in sentences and tables (DESIGN.md "Showing numbers"): durations in hours
// under 48 h, then days, with the unit stated; a percentage with its denominator; never
// "Infinity" or "NaN" — an undefined figure reads as "—" or is left out of the sentence.

/** 31.5 h, or 3.2 days from 48 h on; "—" when there is no figure. */
export function formatHours(hours: number | null | undefined): string {
  if (hours === null || hours === undefined || !Number.isFinite(hours)) return '—';
  if (hours < 48) return `${hours < 10 ? hours.toFixed(1) : Math.round(hours)} h`;
  const days = hours / 24;
  return `${days < 10 ? days.toFixed(1) : Math.round(days)} days`;
}

/**
 * The smallest denominator (judged cases for an on-time rate, closed cases for a median time to
 * close, answers for CSAT) a staff screen or report shows a rate or median for (DESIGN.md: "too
 * few cases" instead of a 100% over a handful). Configurable as `display.min_denominator`.
 */
export const DEFAULT_MIN_DENOMINATOR = 20;

/**
 * THE "too few cases" rule, the one place it is decided: the API's `status` fields, the
 * dashboard and the reports all ask here. A missing or non-finite denominator is too few.
 */
export function tooFewCases(denominator: number | null | undefined, minDenominator = DEFAULT_MIN_DENOMINATOR): boolean {
  return !(typeof denominator === 'number' && Number.isFinite(denominator) && denominator >= minDenominator);
}

export type TargetStatus = 'meets target' | 'below target' | 'too few cases';

/**
 * A rate against its target in words (never by colour alone): "too few cases" under the minimum
 * denominator, else whether it meets the target (a rate equal to it does). null when there is
 * no rate or no target to judge.
 */
export function targetStatus(rate: number | null | undefined, target: number | null | undefined, denominator: number | null | undefined, minDenominator = DEFAULT_MIN_DENOMINATOR): TargetStatus | null {
  if (tooFewCases(denominator, minDenominator)) return 'too few cases';
  if (rate === null || rate === undefined || !Number.isFinite(rate) || target === null || target === undefined) return null;
  // A rate that equals its target in every shown digit but not in the last bit still meets it.
  return rate >= target - 1e-12 ? 'meets target' : 'below target';
}

/** 75.3% (of 120); "too few cases" under the minimum denominator. */
export function formatShare(numerator: number, denominator: number, minDenominator = 1): string {
  if (tooFewCases(denominator, minDenominator) || !Number.isFinite(numerator / denominator)) return 'too few cases';
  return `${((100 * numerator) / denominator).toFixed(1)}% (of ${denominator.toLocaleString('en-US')})`;
}

export const formatP = (p: number) => (p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

/** A finite ratio, or null (a zero or missing denominator has no ratio). */
export const finiteRatio = (num: number | null, den: number | null): number | null =>
  num === null || den === null || !(den > 0) || !Number.isFinite(num / den) ? null : num / den;

/**
 * An area as a sentence names it: a bare number ("9", as LA's council districts are named) reads
 * as "council district 9"; a name ("District 6", "BOYLE HEIGHTS NC") stays as it is.
 */
export function areaPhrase(name: string, kind: string): string {
  return kind !== 'source' && /^\d+[A-Za-z]?$/.test(name) ? `${kind.replaceAll('_', ' ')} ${name}` : name;
}

/**
 * An interval of durations in one unit — the unit its upper end takes by the rule above — so it
 * never reads "47.7 h – 2.3 days": "1.99 to 2.3 days", "16 to 20 h"; an open upper end reads
 * "from 3.1 days, open-ended".
 */
export function formatHoursRange(lower: number | null | undefined, upper: number | null | undefined): string {
  const ok = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v);
  if (!ok(lower)) return '—';
  if (!ok(upper)) return `from ${formatHours(lower)}, open-ended`;
  if (upper < 48) {
    const f = (h: number) => (h < 10 ? h.toFixed(1) : String(Math.round(h)));
    return `${f(lower)} to ${f(upper)} h`;
  }
  const f = (d: number) => (d < 10 ? d.toFixed(1) : String(Math.round(d)));
  return `${f(lower / 24)} to ${f(upper / 24)} days`;
}

/**
 * Seconds as a contact centre states them (call waits and handle times keep their precision):
 * "45 s" under two minutes, else "6.2 min"; "—" when there is no figure.
 */
export function formatSeconds(seconds: number | null | undefined, unit: 's' | 'min' = seconds !== null && seconds !== undefined && seconds < 120 ? 's' : 'min'): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (unit === 's') return `${Math.round(seconds)} s`;
  const min = seconds / 60;
  return `${Math.abs(min) < 0.1 && min !== 0 ? min.toFixed(2) : min.toFixed(1)} min`;
}
