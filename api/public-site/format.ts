// How public figures read: the dashboard's one rule for units (warehouse/analytics/format.ts),
// with what disclosure control adds — a withheld figure is named as withheld, never 0 or blank.
import { formatHours } from '../../warehouse/analytics/format.ts';
import type { PublicRow } from '../../warehouse/analytics/public-kpis.ts';
import type { Flag, PublicPeriod } from '../../warehouse/privacy/policy.ts';
import { html, type SafeHtml } from './html.ts';

export const FLAG_WORDS: Record<Flag, string> = {
  suppressed: 'suppressed',
  too_few_cases: 'too few cases',
  not_reached: 'not reached',
  not_available: 'not available',
};

export const count = (n: number) => n.toLocaleString('en-US');
export const percent = (share: number) => `${Math.round(share * 100)}%`;

export type Figure = 'opened' | 'median_hours_to_close' | 'on_time_rate' | 'csat_top2';

/** Figures the data cannot give at all, with why ("no due times in the data"). */
export type Missing = Partial<Record<Figure, string>>;

/** One figure of a row as a table cell's content: the value, or why there is none. */
export function figure(row: PublicRow | null | undefined, m: Figure, missing: Missing = {}): SafeHtml {
  if (!row) return html`<span class="flag">no data</span>`;
  const v = row[m];
  if (v === null) {
    const flag = row.suppressed ? 'suppressed' : row.flags[m];
    return html`<span class="flag">${flag === 'too_few_cases' && missing[m] ? missing[m] : flag ? FLAG_WORDS[flag] : 'no data'}</span>`;
  }
  return html`${m === 'opened' ? count(v) : m === 'median_hours_to_close' ? formatHours(v) : percent(v)}`;
}

/** The text of a figure, for sentences (null when it is not published). */
export function figureText(row: PublicRow | null | undefined, m: Figure): string | null {
  const v = row?.[m];
  if (v === null || v === undefined) return null;
  return m === 'opened' ? count(v) : m === 'median_hours_to_close' ? formatHours(v) : percent(v);
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "November 2025", or "week of 3 November 2025". */
export function periodLabel(period: PublicPeriod, start: string): string {
  const [y, m, d] = start.split('-').map(Number);
  return period === 'month' ? `${MONTHS[m - 1]} ${y}` : `week of ${d} ${MONTHS[m - 1]} ${y}`;
}

/** "3 November 2025" for a YYYY-MM-DD day. */
export function dayLabel(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

/** The local day of an instant in the jurisdiction's zone: public pages give nothing finer. */
export function localDay(instant: string, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(instant));
}
