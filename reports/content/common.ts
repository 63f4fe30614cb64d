// What staff and public reports share: the report's window (the last whole week or month up to
// the newest request), local times in the report's zone, labels, and the measure definitions
// printed from the registry.
import type { Warehouse } from '../../warehouse/db.ts';
import { lastWholeWeek, requestSpan } from '../../warehouse/analytics/window.ts';
import { areaPhrase } from '../../warehouse/analytics/format.ts';
import { methodology } from '../../warehouse/queries/measures.ts';
import type { CaseFilter } from '../../warehouse/queries/case-predicates.ts';

export interface ReportWindow {
  from: string;
  to: string;
  /** The first day of the trend charts: 12 weeks (week) or 12 months (month) ending with `to`. */
  trend_from: string;
  /** The first local day with a request (charts start there when the data starts later). */
  first_day: string | null;
}

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const ms = (d: string) => Date.parse(`${d}T00:00:00Z`);

/** The last whole Monday–Sunday week, or calendar month, up to the newest request by the as-of time. */
export async function reportWindow(wh: Warehouse, period: 'week' | 'month', asOf: string, timezone: string): Promise<ReportWindow> {
  const span = await requestSpan(wh, asOf, timezone);
  if (period === 'week') {
    const w = await lastWholeWeek(wh, asOf, timezone);
    return { from: w.start, to: w.end, trend_from: w.trend_start, first_day: span.first_day };
  }
  // A month is whole when the newest request falls on its last day; else the month before.
  const last = span.last_day ?? asOf.slice(0, 10);
  const d = new Date(ms(last));
  const lastIsMonthEnd = new Date(ms(last) + DAY).getUTCDate() === 1;
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() - (lastIsMonthEnd ? 0 : 1);
  const from = iso(Date.UTC(y, m, 1));
  const to = iso(Date.UTC(y, m + 1, 0));
  return { from, to, trend_from: iso(Date.UTC(y, m - 11, 1)), first_day: span.first_day };
}

/** The later of the trend's first day and the data's: a chart does not start with weeks of nothing. */
export function chartFrom(w: ReportWindow): string {
  return w.first_day && w.first_day > w.trend_from ? w.first_day : w.trend_from;
}

export const daysBetween = (from: string, to: string) => (ms(to) - ms(from)) / DAY + 1;

/** "2026-11-15 23:22 EST": a time as people in the report's zone read it. */
export function localStamp(instant: string, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' })
      .formatToParts(new Date(instant)).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

/** "Monday 9 November to Sunday 15 November 2026". */
export function periodText(period: 'week' | 'month', from: string, to: string): string {
  const d = (x: string) => new Date(`${x}T00:00:00Z`);
  const f = (x: string, o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', ...o }).format(d(x));
  if (period === 'month') return f(from, { month: 'long', year: 'numeric' });
  const day = (x: string) => `${f(x, { weekday: 'long' })} ${f(x, { month: 'long' })} ${d(x).getUTCDate()}`;
  return `Week of ${day(from)} to ${day(to)}, ${d(to).getUTCFullYear()}`;
}

/** An area as a heading or a table names it: "Council district 9", "District 6". */
export function areaLabel(name: string, kind: string): string {
  const p = areaPhrase(name, kind);
  return p.charAt(0).toUpperCase() + p.slice(1);
}

/** "Areas" by their kind: "Council districts", "Districts". */
export function areaKindPlural(kind: string): string {
  if (kind === 'source') return 'Areas';
  const k = kind.replaceAll('_', ' ');
  return `${k.charAt(0).toUpperCase()}${k.slice(1)}s`;
}

export function filterText(filter: CaseFilter, areaKind: string): string {
  const parts = Object.entries(filter).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => (k === 'area' ? `area: ${areaLabel(String(v), areaKind)}` : `${k.replaceAll('_', ' ')}: ${v}`));
  return parts.length ? parts.join('; ') : 'none (every request)';
}

/** The registry's definitions of the measures named, in the registry's order: "Label: definition". */
export function measureDefinitions(names: readonly string[]): string[] {
  const shown = new Set(names);
  return methodology().flatMap((c) => c.measures.filter((m) => shown.has(m.name)).map((m) => `${m.label} (${m.unit}): ${m.definition}`));
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
