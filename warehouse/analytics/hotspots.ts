// Hot-spots of demand on the H3 grid, from the warehouse: counts per cell (SQL), zero cells
// inside the study area, Getis–Ord Gi* with k-ring weights, Benjamini–Hochberg confidence bins,
// and Local Moran's I cluster labels — returned as GeoJSON cells for the map.
import { cellToBoundary, cellToParent, getResolution, polygonToCells } from 'h3-js';
import type { Warehouse } from '../db.ts';
import { appliedFilter, selectCases, type CaseFilter, type CaseScope, type CaseWindow } from '../queries/case-predicates.ts';
import { resolveSelection } from './dimensions.ts';
import { ParameterError } from '../errors.ts';
import { confidenceBins, getisOrdGiStar, h3NeighboursInTurns, h3StudyAreaInTurns, localMoranInTurns, withZeroCells, type MoranCluster } from '../stats/hotspots.ts';
import { memoByData, memoKey } from './memo.ts';
import { mapInTurns, nextTurn, Pacer, VALUES_PER_TURN } from '../turns.ts';

export interface HotspotOptions {
  /** H3 resolution, 5–9 (cases carry cells at 7, 8 and 9; coarser ones are their parents). */
  resolution: number;
  /** Ring size of the neighbourhood (binary weights, self included). */
  k: number;
  window: CaseWindow;
  filter?: CaseFilter;
  /** The area kind whose polygons make the study area (default: the data's default kind). */
  area_kind?: string;
  scope?: CaseScope;
  fdr: boolean;
}

export interface HotspotCell {
  h3: string;
  count: number;
  z: number | null;
  p: number | null;
  /** −3…3: cold/hot spot at 99/95/90 % confidence; 0 = not significant. */
  bin: number;
  cluster: MoranCluster;
}

export interface HotspotResult {
  /** What was computed, stated with the output: parameters, window, as-of, area kind, filters. */
  parameters: { resolution: number; k: number; fdr: boolean; from: string; to: string; as_of: string; timezone: string; area_kind: string; filter: CaseFilter };
  /** `areas`: every cell inside the area kind's polygons (zeros included); `cells_with_data`: no polygons, the cells near the data. */
  study_area: 'areas' | 'cells_with_data';
  cells: HotspotCell[];
}

export class HotspotError extends ParameterError {}

export async function computeHotspots(wh: Warehouse, o: HotspotOptions): Promise<HotspotResult> {
  if (!Number.isInteger(o.resolution) || o.resolution < 5 || o.resolution > 9) throw new HotspotError('resolution', 'resolution must be a whole number from 5 to 9');
  if (!Number.isInteger(o.k) || o.k < 1 || o.k > 5) throw new HotspotError('k', 'k must be a whole number from 1 to 5');
  const sel = await resolveSelection(wh, o.window, { filter: o.filter, area_kind: o.area_kind, scope: o.scope });
  const stored = o.resolution >= 7 ? `h3_r${o.resolution}` : 'h3_r7';
  // `stored` comes from the integer check above, never from the caller's text.
  const cases = selectCases(sel, { columns: [`c.${stored} AS cell`] });
  const rows = await wh.all<{ cell: string; n: number }>(`SELECT cell, count(*)::INTEGER AS n FROM (${cases.sql}) WHERE cell IS NOT NULL GROUP BY 1`, cases.params);
  const counts = new Map<string, number>();
  for (const r of rows) {
    const cell = o.resolution < 7 ? cellToParent(r.cell, o.resolution) : r.cell;
    counts.set(cell, (counts.get(cell) ?? 0) + r.n);
  }

  // The study area: every cell inside the jurisdiction's areas, so empty places count as the
  // zeros they are; without areas, the cells near the data.
  // Polygons of one kind only: two boundary files (districts and councils) overlap each other.
  // With an area filter, the study area is that area alone: the other areas' cells are not zeros
  // of this map, they are outside it (counting them would make the whole area a hot-spot).
  const areaFilter = sel.filter?.area ?? null;
  // The study area's cells depend on the polygons alone: kept until the data changes (a city's
  // resolution-9 cells took h3-js a third of a second to find, every time).
  const inAreas = await memoByData(wh, memoKey('hotspot-study-area', sel.area_kind, areaFilter, o.resolution),
    () => cellsInAreas(wh, sel.area_kind, areaFilter, o.resolution), (cells) => (cells?.length ?? 0) / 15); // a KPI row (a kilobyte) weighs 1
  let area: string[];
  let studyArea: HotspotResult['study_area'];
  if (inAreas) {
    const set = new Set(inAreas);
    for (const c of counts.keys()) set.add(c); // a case just over a boundary still counts
    area = [...set].sort();
    studyArea = 'areas';
  } else {
    area = await h3StudyAreaInTurns([...counts.keys()], o.k);
    studyArea = 'cells_with_data';
  }
  const filled = withZeroCells(counts, area);
  const cells = [...filled.keys()];
  const values = cells.map((c) => filled.get(c)!);
  // In turns of the event loop, so the server answers its other requests meanwhile: the neighbours
  // and Local Moran's permutations (a city's resolution-9 cells: seconds of work) a slice at a
  // time, and a turn between Gi*, its bins and Moran's set-up (tens of milliseconds each).
  const neighbours = await h3NeighboursInTurns(cells, o.k);
  const gi = getisOrdGiStar(values, neighbours);
  await nextTurn();
  const bins = confidenceBins(gi.map((g) => g.z), gi.map((g) => g.p), { fdr: o.fdr });
  await nextTurn();
  const moran = await localMoranInTurns(values, neighbours.map((ns, i) => ns.filter((j) => j !== i)), { permutations: 499, seed: 311 }, new Pacer(VALUES_PER_TURN));
  const w = o.window;
  return {
    parameters: { resolution: o.resolution, k: o.k, fdr: o.fdr, from: w.from, to: w.to, as_of: w.as_of, timezone: w.timezone, area_kind: sel.area_kind, filter: appliedFilter(sel.filter) },
    study_area: studyArea,
    cells: cells.map((h3, i) => ({
      h3,
      count: values[i],
      z: Number.isFinite(gi[i].z) ? gi[i].z : null,
      p: Number.isFinite(gi[i].p) ? gi[i].p : null,
      bin: bins[i],
      cluster: moran[i].cluster,
    })),
  };
}

/**
 * Every cell of `resolution` inside the polygons of an area kind (one area with a filter), sorted;
 * null when the kind has no polygons. A polygon at a time, a turn of the event loop between them.
 */
async function cellsInAreas(wh: Warehouse, kind: string, areaFilter: string | null, resolution: number): Promise<string[] | null> {
  const areas = await wh.all<{ geometry: string }>(
    `SELECT geometry FROM areas WHERE kind = $kind AND ($area IS NULL OR area_id = $area OR name = $area)`,
    { kind, area: areaFilter },
  );
  if (areas.length === 0) return null;
  const set = new Set<string>();
  for (const a of areas) {
    const g = JSON.parse(a.geometry) as { type: string; coordinates: number[][][] | number[][][][] };
    const polygons = g.type === 'MultiPolygon' ? (g.coordinates as number[][][][]) : [g.coordinates as number[][][]];
    for (const poly of polygons) {
      for (const c of polygonToCells(poly, resolution, true)) set.add(c);
      await nextTurn();
    }
  }
  return [...set].sort();
}

/**
 * The cells as a GeoJSON FeatureCollection (polygons in lon/lat), for maps and `/api/hotspots`:
 * built a slice of cells per turn of the event loop (a boundary is some 10 µs of h3-js a cell).
 */
export async function hotspotsGeoJson(r: HotspotResult) {
  return {
    type: 'FeatureCollection' as const,
    features: await mapInTurns(r.cells, (c) => {
      const ring = cellToBoundary(c.h3, true);
      return {
        type: 'Feature' as const,
        id: c.h3,
        properties: { ...c, resolution: getResolution(c.h3) },
        geometry: { type: 'Polygon' as const, coordinates: [[...ring, ring[0]]] },
      };
    }),
  };
}
