// The planners' map layers (issue 12 item 1), as GeoJSON that Vega-Lite draws without a tile
// server. Nothing here defines a figure of its own: the choropleth's values are computeKpis by
// area (under the KPI route's memo key, so /api/kpis?by=area answers the same numbers from the
// same table), the cells are computeHotspots' (under /api/hotspots' key: one computation). This
// module adds geometry, classes (natural breaks), rates per 1,000 residents and place names.
import { cellToBoundary, cellToLatLng } from 'h3-js';
import type { Warehouse } from '../db.ts';
import { ParameterError } from '../errors.ts';
import { NO_AREA, SOURCE_AREA_KIND, type CaseFilter, type CaseScope, type CaseWindow } from '../queries/case-predicates.ts';
import { MEASURES, type Measure } from '../queries/measures.ts';
import { naturalBreaks } from '../stats/natural-breaks.ts';
import { areaLocator, loadAreaPolygons, type AreaLocator } from './area-locator.ts';
import { computeHotspots, type HotspotResult } from './hotspots.ts';
import { computeKpis, type KpiResult } from './kpis.ts';
import { memoByData, memoKey } from './memo.ts';
import { denominatorOf } from './overview.ts';
import { DEFAULT_MIN_DENOMINATOR, tooFewCases } from './format.ts';
import { resolveSelection } from './dimensions.ts';
import { mapInTurns } from '../turns.ts';

/** Measures a map can show: one number per area (a channel mix is a set of shares, not one). */
export const MAP_MEASURES = (MEASURES as readonly Measure[]).filter((m) => m.kind !== 'mix').map((m) => m.name);
/** Classes of the choropleth at most (ckmeans, k = min(this, distinct values)). */
export const MAX_CLASSES = 5;
/** The significance levels of the confidence bins (±3, ±2, ±1), as stats/hotspots.ts applies them. */
export const HOTSPOT_LEVELS = [{ bin: 3, alpha: 0.01, confidence: '99%' }, { bin: 2, alpha: 0.05, confidence: '95%' }, { bin: 1, alpha: 0.1, confidence: '90%' }] as const;

export interface MapWindow { from: string; to: string; as_of: string; timezone: string }

export interface AreaLayerOptions {
  measure: string;
  window: CaseWindow;
  filter?: CaseFilter;
  area_kind?: string;
  scope?: CaseScope;
  minDenominator?: number;
}

export interface AreaFeatureProperties {
  area_id: string;
  name: string;
  kind: string;
  /** The measure's value for the area (null when too few cases, or nothing to compute it from). */
  value: number | null;
  /** A rate's numerator and denominator; a time to close's closed cases as denominator; null for counts. */
  numerator: number | null;
  denominator: number | null;
  /** A median time to close's 95% interval (the KPI's median_hours_ci_lower/upper); null otherwise. */
  ci_lower: number | null;
  ci_upper: number | null;
  /** Cases opened in the window in the area (the KPI's `opened`). */
  opened: number;
  population: number | null;
  /** Counts only, where the area file gave a population: value ÷ population × 1,000. */
  per_1000: number | null;
  /** Below the minimum denominator: no value and no class. */
  too_few: boolean;
  /** 0…k−1 by natural breaks of the classified figure (`classified_by`); null without a value. */
  class: number | null;
}

export interface AreaLayer {
  type: 'FeatureCollection';
  features: { type: 'Feature'; id: string; properties: AreaFeatureProperties; geometry: AreaLocator['areas'][number]['geometry'] }[];
  properties: {
    measure: { name: string; label: string; unit: string; definition: string; cohort: string };
    window: MapWindow;
    area_kind: string;
    filter: CaseFilter;
    /** `per_1000`: counts per 1,000 residents (every area has a population); else the value itself. */
    classified_by: 'value' | 'per_1000';
    /** The classes, lowest first: class i holds the figures from `lower` to `upper`. */
    breaks: { class: number; lower: number; upper: number }[];
    min_denominator: number;
    too_few_areas: string[];
    /** Cases opened in the window in no area of the kind (not on this map). */
    cases_in_no_area: number;
    features: number;
  };
}

/** computeKpis under the KPI route's memo key: the map and /api/kpis share one table. */
export function kpisByArea(wh: Warehouse, window: CaseWindow, filter: CaseFilter, o: { area_kind?: string; scope?: CaseScope }): Promise<KpiResult> {
  return memoByData(wh, memoKey('kpis', ['area'], window, filter, o.area_kind, o.scope),
    () => computeKpis(wh, ['area'], window, filter, { area_kind: o.area_kind, scope: o.scope }), (r) => r.rows.length);
}

export async function computeAreaLayer(wh: Warehouse, o: AreaLayerOptions): Promise<AreaLayer> {
  const m = (MEASURES as readonly Measure[]).find((x) => x.name === o.measure);
  if (!m || m.kind === 'mix') throw new ParameterError('measure', `measure "${o.measure}" is not a measure the map can show; one of: ${MAP_MEASURES.join(', ')} (GET /api/measures defines them)`);
  const min = o.minDenominator ?? DEFAULT_MIN_DENOMINATOR;
  const filter = o.filter ?? {};
  const sel = await resolveSelection(wh, o.window, { filter, area_kind: o.area_kind, scope: o.scope });
  if (sel.area_kind === SOURCE_AREA_KIND) throw new ParameterError('area_kind', 'the map needs area polygons, and area kind "source" (the names in the source rows) has none; load boundaries with `civic areas` or choose a loaded kind (GET /api/dimensions)');
  const [kpis, polygons] = await Promise.all([kpisByArea(wh, o.window, filter, o), loadAreaPolygons(wh, sel.area_kind, filter.area ?? null)]);
  const rows = new Map(kpis.rows.map((r) => [r.area!, r as unknown as Record<string, unknown>]));
  const num = (r: Record<string, unknown> | undefined, name: string) => (typeof r?.[name] === 'number' ? (r[name] as number) : null);
  const den = denominatorOf(m);
  const props: AreaFeatureProperties[] = polygons.map((a) => {
    // Area labels in the KPI rows are the polygon names (case-predicates' area of a loaded kind).
    const r = rows.get(a.name);
    const denominator = den ? num(r, den) ?? 0 : null;
    const tooFew = den !== null && tooFewCases(denominator, min);
    const raw = num(r, m.name) ?? (m.kind === 'count' ? 0 : null);
    const value = tooFew ? null : raw;
    const perResident = m.kind === 'count' && value !== null && a.population !== null && a.population > 0;
    return {
      area_id: a.area_id,
      name: a.name,
      kind: a.kind,
      value,
      numerator: m.kind === 'ratio' ? num(r, m.numerator) ?? 0 : null,
      denominator,
      ci_lower: m.kind === 'km' && m.statistic === 'median' && m.duration === 'close' && !tooFew ? num(r, 'median_hours_ci_lower') : null,
      ci_upper: m.kind === 'km' && m.statistic === 'median' && m.duration === 'close' && !tooFew ? num(r, 'median_hours_ci_upper') : null,
      opened: num(r, 'opened') ?? 0,
      population: a.population,
      per_1000: perResident ? (value! / a.population!) * 1000 : null,
      too_few: tooFew,
      class: null,
    };
  });
  // Per resident only when every area has a population: a mix of rates and counts is no scale.
  const classifiedBy = m.kind === 'count' && props.length > 0 && props.every((p) => p.population !== null && p.population > 0) ? 'per_1000' : 'value';
  const figure = (p: AreaFeatureProperties) => (classifiedBy === 'per_1000' ? p.per_1000 : p.value);
  const withFigure = props.filter((p) => figure(p) !== null && Number.isFinite(figure(p)!));
  const nb = naturalBreaks(withFigure.map((p) => figure(p)!), MAX_CLASSES);
  withFigure.forEach((p, i) => (p.class = nb.classOf[i]));
  return {
    type: 'FeatureCollection',
    features: polygons.map((a, i) => ({ type: 'Feature', id: a.area_id, properties: props[i], geometry: { type: a.geometry.type, coordinates: roundPositions(a.geometry.coordinates) } as typeof a.geometry })),
    properties: {
      measure: { name: m.name, label: m.label, unit: m.unit, definition: m.definition, cohort: m.cohort },
      window: { from: o.window.from, to: o.window.to, as_of: o.window.as_of, timezone: o.window.timezone },
      area_kind: sel.area_kind,
      filter: kpis.filter,
      classified_by: classifiedBy,
      breaks: nb.classes.map((c, i) => ({ class: i, ...c })),
      min_denominator: min,
      too_few_areas: props.filter((p) => p.too_few).map((p) => p.name),
      cases_in_no_area: num(rows.get(NO_AREA), 'opened') ?? 0,
      features: polygons.length,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Hot-spot cells

export interface HotspotLayerOptions {
  resolution: number;
  k: number;
  fdr: boolean;
  window: CaseWindow;
  filter?: CaseFilter;
  area_kind?: string;
  scope?: CaseScope;
  /** `significant`: only cells with a non-zero bin (a lighter layer). */
  cells?: 'all' | 'significant';
}

export interface HotspotFeatureProperties {
  h3: string;
  count: number;
  z: number | null;
  p: number | null;
  bin: number;
  /** "hot spot, 99% confidence", "cold spot, 90% confidence", "not significant". */
  confidence: string;
  cluster: string;
  /** The area (of the layer's kind) the cell's centre lies in; null outside every loaded polygon. */
  area_id: string | null;
  area: string | null;
  /** The cell's centre, [lng, lat]. */
  centre: [number, number];
}

export interface HotspotLayer {
  type: 'FeatureCollection';
  features: { type: 'Feature'; id: string; properties: HotspotFeatureProperties; geometry: { type: 'Polygon'; coordinates: number[][][] } }[];
  properties: {
    resolution: number;
    k: number;
    fdr: boolean;
    /** The confidence bins' significance levels (two-sided p, Benjamini–Hochberg adjusted when fdr). */
    alpha: typeof HOTSPOT_LEVELS;
    window: MapWindow;
    area_kind: string;
    filter: CaseFilter;
    study_area: HotspotResult['study_area'];
    /** How a cell is named: the area its centre falls in (point in polygon). */
    naming: 'centre_in_polygon' | 'none';
    cells_total: number;
    hot: number;
    cold: number;
    features: number;
  };
}

/** The hot-spot analysis under /api/hotspots' memo key (the same object the route builds). */
export function hotspotsMemo(wh: Warehouse, o: { resolution: number; k: number; window: CaseWindow; filter: CaseFilter; area_kind?: string; fdr: boolean; scope?: CaseScope }): Promise<HotspotResult> {
  return memoByData(wh, memoKey('hotspots', o), () => computeHotspots(wh, o), (h) => h.cells.length);
}

export function confidenceLabel(bin: number): string {
  if (bin === 0) return 'not significant';
  const level = HOTSPOT_LEVELS.find((l) => l.bin === Math.abs(bin))!;
  return `${bin > 0 ? 'hot' : 'cold'} spot, ${level.confidence} confidence`;
}

/**
 * Coordinates to 6 decimals (about 0.1 m): full doubles made LA's 99 neighbourhood councils a
 * 2.5 MB layer, and no map drawn in a browser can show the difference. Nothing is simplified:
 * every vertex stays, so shared borders still meet and rings stay closed.
 */
export const roundCoordinate = (v: number) => Math.round(v * 1e6) / 1e6;
function roundPositions<T>(c: T): T {
  return (typeof c === 'number' ? roundCoordinate(c) : (c as unknown[]).map(roundPositions)) as T;
}

/** A ring closed as GeoJSON requires, in [lng, lat] order (6 decimals). */
export function cellRing(h3: string): number[][] {
  const ring = cellToBoundary(h3, true).map(([lng, lat]) => [roundCoordinate(lng), roundCoordinate(lat)]);
  return [...ring, ring[0]];
}

export async function computeHotspotLayer(wh: Warehouse, o: HotspotLayerOptions): Promise<HotspotLayer> {
  const base = { resolution: o.resolution, k: o.k, window: o.window, filter: o.filter ?? {}, area_kind: o.area_kind, fdr: o.fdr, scope: o.scope };
  const r = await hotspotsMemo(wh, base);
  const kind = r.parameters.area_kind;
  const locator = kind === SOURCE_AREA_KIND ? null : areaLocator(await loadAreaPolygons(wh, kind));
  const cells = o.cells === 'significant' ? r.cells.filter((c) => c.bin !== 0) : r.cells;
  // A slice of cells per turn of the event loop: a centre, its area and its boundary each.
  const features = await mapInTurns(cells, (c) => {
    const [lat, lng] = cellToLatLng(c.h3);
    const a = locator?.locate(lng, lat) ?? null;
    return {
      type: 'Feature' as const,
      id: c.h3,
      properties: { h3: c.h3, count: c.count, z: c.z, p: c.p, bin: c.bin, confidence: confidenceLabel(c.bin), cluster: c.cluster, area_id: a?.area_id ?? null, area: a?.name ?? null, centre: [lng, lat] as [number, number] },
      geometry: { type: 'Polygon' as const, coordinates: [cellRing(c.h3)] },
    };
  });
  const p = r.parameters;
  return {
    type: 'FeatureCollection',
    features,
    properties: {
      resolution: p.resolution, k: p.k, fdr: p.fdr, alpha: HOTSPOT_LEVELS,
      window: { from: p.from, to: p.to, as_of: p.as_of, timezone: p.timezone },
      area_kind: kind, filter: p.filter, study_area: r.study_area,
      naming: locator && locator.areas.length > 0 ? 'centre_in_polygon' : 'none',
      cells_total: r.cells.length,
      hot: r.cells.filter((c) => c.bin > 0).length,
      cold: r.cells.filter((c) => c.bin < 0).length,
      features: features.length,
    },
  };
}
