// What every staff page needs before its panels: the jurisdiction (name, zone), the dimensions the
// filters are checked against, and the measure registry's labels and definitions. Fetched once
// per visit and shared by the pages (they change only when data is loaded).
import { getDimensions, getHealth, getMeasures, type Dimensions, type Health, type MeasureInfo } from './api.ts';
import { MIN_DENOMINATOR } from './format.ts';

export interface PageContext { health: Health; dims: Dimensions; measures: MeasureInfo[]; contactMeasures: MeasureInfo[]; /** display.min_denominator: under it, "too few cases". */ min: number }

let cached: Promise<PageContext> | null = null;

export function loadContext(): Promise<PageContext> {
  cached ??= Promise.all([getHealth(), getDimensions(), getMeasures()]).then(([health, dims, m]) => ({ health, dims, measures: m.measures, contactMeasures: m.contact_measures ?? [], min: m.min_denominator ?? MIN_DENOMINATOR }));
  // A failure (e.g. signed out) is not kept: the next page tries again.
  cached.catch(() => (cached = null));
  return cached;
}

export const measureInfo = (ctx: PageContext, name: string): MeasureInfo | undefined =>
  ctx.measures.find((m) => m.name === name) ?? ctx.contactMeasures.find((m) => m.name === name);
