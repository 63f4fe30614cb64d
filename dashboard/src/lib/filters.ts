// The view's filters live in the URL (share, bookmark, back button) under the same names the API
// takes, so a page passes them on unchanged. Before they reach the API they are checked against
// GET /api/dimensions: an unknown value is dropped and the page says which and why, rather than
// showing a figure for something the user did not ask for.
import type { Dimensions } from './api.ts';

export const FILTER_KEYS = ['service', 'service_group', 'agency', 'channel', 'area', 'area_kind'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

/** Period presets in weeks; "custom" uses from/to. */
export const PRESETS = [4, 12, 26, 52] as const;
export const DEFAULT_WEEKS = 12;

export interface Filters {
  weeks: number;
  from?: string;
  to?: string;
  service?: string;
  service_group?: string;
  agency?: string;
  channel?: string;
  area?: string;
  area_kind?: string;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
const isDay = (s: string) => ISO_DAY.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);

/** The filters as the URL gives them (not yet checked against the data). */
export function readFilters(search: URLSearchParams): Filters {
  const weeks = Number(search.get('weeks'));
  const f: Filters = { weeks: Number.isInteger(weeks) && weeks >= 1 && weeks <= 520 ? weeks : DEFAULT_WEEKS };
  for (const k of ['from', 'to', ...FILTER_KEYS] as const) {
    const v = search.get(k)?.trim();
    if (v) f[k] = v;
  }
  return f;
}

export interface Checked { filters: Filters; problems: string[] }

/** Keeps only what the data has; each dropped value is named in `problems`. */
export function checkFilters(f: Filters, dims: Dimensions): Checked {
  const problems: string[] = [];
  const out: Filters = { weeks: f.weeks };
  const drop = (key: string, value: string, why: string) => problems.push(`Ignored ${key} “${value}”: ${why}.`);

  if (f.from && !isDay(f.from)) drop('from', f.from, 'not a date (YYYY-MM-DD)');
  else if (f.from) out.from = f.from;
  if (f.to && !isDay(f.to)) drop('to', f.to, 'not a date (YYYY-MM-DD)');
  else if (f.to) out.to = f.to;
  if (out.from && out.to && out.from > out.to) {
    drop('from', out.from, `it is after “to” (${out.to})`);
    delete out.from;
  }
  if (f.service) {
    const s = dims.services.find((x) => x.code === f.service || x.name === f.service);
    if (s) out.service = s.code ?? s.name;
    else drop('service', f.service, 'no such service in the data');
  }
  if (f.service_group) {
    if (dims.service_groups.includes(f.service_group)) out.service_group = f.service_group;
    else drop('service group', f.service_group, 'no such service group');
  }
  if (f.agency) {
    if (dims.agencies.includes(f.agency)) out.agency = f.agency;
    else drop('agency', f.agency, 'no such agency (or not one you may see)');
  }
  if (f.channel) {
    if (dims.channels.includes(f.channel)) out.channel = f.channel;
    else drop('channel', f.channel, 'no such channel');
  }
  const kind = f.area_kind ?? defaultKind(dims);
  if (f.area_kind) {
    if (dims.area_kinds.some((k) => k.kind === f.area_kind)) out.area_kind = f.area_kind;
    else drop('area kind', f.area_kind, `the data has ${dims.area_kinds.map((k) => k.kind).join(', ') || 'no areas'}`);
  }
  if (f.area) {
    const a = dims.areas.find((x) => x.kind === (out.area_kind ?? defaultKind(dims)) && (x.id === f.area || x.name === f.area));
    if (a) out.area = a.id;
    else if (f.area === dims.no_area_label) out.area = f.area;
    else drop('area', f.area, `no such area of kind ${out.area_kind ?? kind}`);
  }
  return { filters: out, problems };
}

export const defaultKind = (dims: Dimensions) => dims.area_kinds.find((k) => k.default)?.kind ?? dims.area_kinds[0]?.kind ?? 'source';

/** The API's parameters for these filters (`weeks` only when no `from` is given). */
export function apiParams(f: Filters): Record<string, string | undefined> {
  const p: Record<string, string | undefined> = {};
  if (f.from) p.from = f.from;
  else p.weeks = String(f.weeks);
  if (f.to) p.to = f.to;
  for (const k of FILTER_KEYS) p[k] = f[k];
  return p;
}

/** The URL's query string for these filters plus a page's own parameters. */
export function searchFor(f: Filters, extra: Record<string, string | number | undefined | null> = {}): string {
  const q = new URLSearchParams();
  if (f.weeks !== DEFAULT_WEEKS && !f.from) q.set('weeks', String(f.weeks));
  if (f.from) q.set('from', f.from);
  if (f.to) q.set('to', f.to);
  for (const k of FILTER_KEYS) if (f[k]) q.set(k, f[k] as string);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** "Pothole Repair in District 6, phone" — what the filters narrow the view to, in words. */
export function describeFilters(f: Filters, dims: Dimensions | null): string {
  const parts: string[] = [];
  const service = f.service && dims?.services.find((s) => s.code === f.service || s.name === f.service);
  if (f.service) parts.push(service ? service.name : f.service);
  if (f.service_group) parts.push(`service group ${f.service_group}`);
  if (f.agency) parts.push(`agency ${f.agency}`);
  if (f.channel) parts.push(`channel ${f.channel.replaceAll('_', ' ')}`);
  if (f.area) parts.push(areaName(f, dims));
  return parts.length ? parts.join(' · ') : 'All requests';
}

export function areaName(f: Filters, dims: Dimensions | null): string {
  const kind = f.area_kind ?? (dims ? defaultKind(dims) : undefined);
  const a = dims?.areas.find((x) => x.kind === kind && (x.id === f.area || x.name === f.area));
  return a ? a.name : f.area ?? '';
}

/**
 * The period a chart of a window is drawn by: days for a window of four weeks or less (a real
 * export may cover a few days only: one weekly point is no chart), else weeks.
 */
export function chartPeriod(from: string, to: string): 'day' | 'week' {
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  return days <= 28 ? 'day' : 'week';
}
