// The loaded area polygons of one kind, for the map layers and for naming places (H3 cells).
// In the order a point in an overlap is assigned by (ingest/places.ts): the feature that comes
// first in its boundary file, as a GIS spatial join does.
import { query, type Query } from '../db.ts';

/** area_id, name, kind, population (null when the file gave none) and the GeoJSON geometry as text. */
export function buildAreaPolygonsQuery(kind: string, area: string | null = null): Query {
  return query(
    `SELECT a.area_id, a.name, a.kind, a.population, a.geometry::VARCHAR AS geometry
     FROM areas a LEFT JOIN area_sources s ON s.area_id = a.area_id
     WHERE a.kind = $kind AND ($area IS NULL OR a.area_id = $area OR a.name = $area)
     ORDER BY s.feature NULLS LAST, a.area_id`,
    { kind, area },
  );
}
