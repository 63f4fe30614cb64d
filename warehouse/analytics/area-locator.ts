// Which loaded area (of one kind) a point falls in — to name an H3 cell by the area its centre is
// in. Polygons are tried in the order ingest assigns cases by (first feature of the boundary file
// wins an overlap), each behind its bounding box, so a thousand cells against LA's 99
// neighbourhood councils is a few thousand box checks and a handful of polygon tests each.
import { booleanPointInPolygon } from '@turf/turf';
import type { Warehouse } from '../db.ts';
import { buildAreaPolygonsQuery } from '../queries/map-sql.ts';

export interface AreaPolygon {
  area_id: string;
  name: string;
  kind: string;
  population: number | null;
  geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: number[][][] | number[][][][] };
}

export interface AreaLocator {
  areas: AreaPolygon[];
  /** The first area whose polygon contains [lng, lat] (boundary included), else null. */
  locate(lng: number, lat: number): AreaPolygon | null;
}

/** The polygons of `kind` (only `area` when given: an id or name), in assignment order. */
export async function loadAreaPolygons(wh: Warehouse, kind: string, area: string | null = null): Promise<AreaPolygon[]> {
  const q = buildAreaPolygonsQuery(kind, area);
  const rows = await wh.all<{ area_id: string; name: string; kind: string; population: number | null; geometry: string }>(q.sql, q.params);
  return rows.map((r) => ({ ...r, population: r.population === null ? null : Number(r.population), geometry: JSON.parse(r.geometry) }));
}

function bbox(g: AreaPolygon['geometry']): [number, number, number, number] {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  const polygons = g.type === 'MultiPolygon' ? (g.coordinates as number[][][][]) : [g.coordinates as number[][][]];
  for (const poly of polygons) for (const [x, y] of poly[0]) {
    if (x < w) w = x;
    if (x > e) e = x;
    if (y < s) s = y;
    if (y > n) n = y;
  }
  return [w, s, e, n];
}

export function areaLocator(areas: AreaPolygon[]): AreaLocator {
  const boxes = areas.map((a) => bbox(a.geometry));
  return {
    areas,
    locate(lng, lat) {
      for (let i = 0; i < areas.length; i++) {
        const [w, s, e, n] = boxes[i];
        if (lng < w || lng > e || lat < s || lat > n) continue;
        if (booleanPointInPolygon([lng, lat], areas[i].geometry as never)) return areas[i];
      }
      return null;
    },
  };
}
