// What the analysis commands (kpis, trends, hotspots, equity) share, so they read a window,
// filters and area kind as the API does, and state the window, as-of and area kind they used.
import type { Config } from '../config.ts';
import type { Warehouse } from '../../warehouse/db.ts';
import type { CaseFilter, CaseWindow } from '../../warehouse/queries/case-predicates.ts';

export const ANALYSIS_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  'as-of': { type: 'string' },
  weeks: { type: 'string' },
  service: { type: 'string' },
  'service-group': { type: 'string' },
  agency: { type: 'string' },
  channel: { type: 'string' },
  area: { type: 'string' },
  'area-kind': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export interface AnalysisValues {
  from?: string; to?: string; 'as-of'?: string; weeks?: string; service?: string; 'service-group'?: string; agency?: string; channel?: string; area?: string; 'area-kind'?: string;
}

export function filterFrom(v: AnalysisValues): CaseFilter {
  const f: CaseFilter = {};
  if (v.service) f.service = v.service;
  if (v['service-group']) f.service_group = v['service-group'];
  if (v.agency) f.agency = v.agency;
  if (v.channel) f.channel = v.channel;
  if (v.area) f.area = v.area;
  return f;
}

/** The window the options ask for, in the jurisdiction's zone (config, else what the data recorded). */
export async function windowFrom(wh: Warehouse, config: Config, v: AnalysisValues, defaultWeeks: number): Promise<{ window: CaseWindow; jurisdiction: string }> {
  const [{ resolveWindow, WindowError }, { resolveJurisdiction }] = await Promise.all([
    import('../../warehouse/analytics/window.ts'), import('../../warehouse/analytics/jurisdiction.ts'),
  ]);
  const weeks = v.weeks === undefined ? defaultWeeks : Number(v.weeks);
  if (!Number.isInteger(weeks)) throw new WindowError('weeks', `weeks "${v.weeks}" must be a whole number of weeks from 1 to 520`);
  const j = await resolveJurisdiction(wh, { jurisdiction: config.jurisdiction, timezone: config.timezone });
  const window = await resolveWindow(wh, { from: v.from, to: v.to, as_of: v['as-of'], weeks }, j.timezone);
  return { window, jurisdiction: j.name };
}

/** One line that says what an output covers. */
export function coverage(r: { from: string; to: string; as_of: string; timezone: string; area_kind: string; filter: CaseFilter }, jurisdiction: string): string {
  const filters = Object.entries(r.filter).map(([k, v]) => `${k} = ${v}`);
  return `${jurisdiction}: cases opened ${r.from} to ${r.to} (${r.timezone}), as of ${r.as_of}; areas of kind ${r.area_kind}${filters.length ? `; ${filters.join(', ')}` : ''}`;
}
