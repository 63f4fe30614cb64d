// Loads area boundaries (districts, neighborhood councils, …) from a GeoJSON FeatureCollection
// into `areas`. Only polygons can contain a case, so every other feature is rejected with its
// reason rather than dropped silently.
import { CivicError } from '../warehouse/errors.ts';
import { SOURCE_AREA_KIND } from '../warehouse/queries/case-predicates.ts';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Warehouse } from '../warehouse/db.ts';

export interface LoadAreasOptions {
  /** Area kind, e.g. `district`, `neighborhood_council`; also the prefix of every area_id. */
  kind: string;
  /** Feature property holding the area's own id (area_id = `${kind}:${id}`). */
  idProperty: string;
  nameProperty: string;
  populationProperty?: string;
  /** Normalises the id property, e.g. so it matches the ids a city's case export uses. */
  idTransform?: (v: unknown) => string;
  /** The caller already holds a transaction (DuckDB cannot nest BEGIN). */
  inTransaction?: boolean;
}

export interface AreaReject { feature: number; reason: string }

export interface LoadAreasResult {
  read: number;
  loaded: number;
  rejected: number;
  rejects: AreaReject[];
}

interface AreaRow { area_id: string; name: string; kind: string; population: number | null; geometry: string; feature: number }

const KIND = /^[a-z][a-z0-9_]*$/;

export async function loadAreasGeoJson(wh: Warehouse, file: string, opts: LoadAreasOptions): Promise<LoadAreasResult> {
  if (!KIND.test(opts.kind)) {
    throw new CivicError(`Area kind "${opts.kind}" must be lower-case letters, digits and underscores (e.g. "district").`, { parameter: 'kind' });
  }
  // `source` names the areas the export's own rows carry; a boundary file of that kind would make
  // two different things answer to one name.
  if (opts.kind === SOURCE_AREA_KIND) {
    throw new CivicError(`Area kind "${SOURCE_AREA_KIND}" is reserved for the area names in the source rows; choose another (e.g. "district", "neighborhood_council").`, { parameter: 'kind' });
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CivicError(`Cannot read the area file ${file}: ${(err as Error).message}`, { cause: err, status: 400 });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CivicError(`The area file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const features = (doc as { type?: unknown; features?: unknown } | null);
  if (!features || features.type !== 'FeatureCollection' || !Array.isArray(features.features)) {
    throw new CivicError(`The area file ${file} is not a GeoJSON FeatureCollection (expected {"type":"FeatureCollection","features":[…]}).`);
  }

  const rows: AreaRow[] = [];
  const rejects: AreaReject[] = [];
  const seen = new Map<string, number>();
  features.features.forEach((f: unknown, i: number) => {
    const feature = i + 1; // 1-based, as people count features in a file
    const r = toAreaRow(f, feature, opts);
    if (typeof r === 'string') {
      rejects.push({ feature, reason: r });
    } else if (seen.has(r.area_id)) {
      rejects.push({ feature, reason: `duplicate area id ${r.area_id} (first at feature ${seen.get(r.area_id)})` });
    } else {
      seen.set(r.area_id, feature);
      rows.push(r);
    }
  });

  const write = async () => {
    for (const r of rows) {
      await wh.run(
        `INSERT INTO areas (area_id, name, kind, population, geometry) VALUES ($area_id, $name, $kind, $population, $geometry)
         ON CONFLICT (area_id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
           population = excluded.population, geometry = excluded.geometry`,
        { area_id: r.area_id, name: r.name, kind: r.kind, population: r.population, geometry: r.geometry },
      );
      await wh.run(
        `INSERT INTO area_sources (area_id, file_name, feature, loaded_at) VALUES ($area_id, $file, $feature, now())
         ON CONFLICT (area_id) DO UPDATE SET file_name = excluded.file_name, feature = excluded.feature, loaded_at = excluded.loaded_at`,
        { area_id: r.area_id, file: basename(file), feature: r.feature },
      );
    }
  };
  await (opts.inTransaction ? write() : wh.transaction(write));
  return { read: features.features.length, loaded: rows.length, rejected: rejects.length, rejects };
}

/** The row for one feature, or why it cannot be one. */
function toAreaRow(f: unknown, feature: number, opts: LoadAreasOptions): AreaRow | string {
  if (!isObject(f) || f.type !== 'Feature') return 'not a GeoJSON Feature';
  const geom = f.geometry;
  if (!isObject(geom)) return 'no geometry';
  if (geom.type !== 'Polygon' && geom.type !== 'MultiPolygon') {
    return `geometry is ${String(geom.type)}, not Polygon or MultiPolygon`;
  }
  const bad = geom.type === 'Polygon' ? checkPolygon(geom.coordinates) : checkMultiPolygon(geom.coordinates);
  if (bad) return `invalid ${geom.type}: ${bad}`;

  const props = isObject(f.properties) ? f.properties : {};
  const rawId = props[opts.idProperty];
  if (rawId === undefined || rawId === null || rawId === '') return `no ${opts.idProperty} property`;
  let id: string;
  try {
    id = opts.idTransform ? opts.idTransform(rawId) : String(rawId).trim();
  } catch (err) {
    return `${opts.idProperty} ${JSON.stringify(rawId)} rejected by idTransform: ${(err as Error).message}`;
  }
  if (!id) return `${opts.idProperty} ${JSON.stringify(rawId)} gives an empty id`;

  const rawName = props[opts.nameProperty];
  const name = rawName === undefined || rawName === null ? '' : String(rawName).trim();
  if (!name) return `no ${opts.nameProperty} property`;

  let population: number | null = null;
  if (opts.populationProperty) {
    const p = props[opts.populationProperty];
    if (p !== undefined && p !== null && p !== '') {
      const n = typeof p === 'number' ? p : Number(String(p).replaceAll(',', ''));
      if (!Number.isInteger(n) || n < 0 || n > 2_147_483_647) {
        return `${opts.populationProperty} ${JSON.stringify(p)} is not a whole number of people`;
      }
      population = n;
    }
  }
  return {
    area_id: `${opts.kind}:${id}`,
    name,
    kind: opts.kind,
    population,
    geometry: JSON.stringify({ type: geom.type, coordinates: geom.coordinates }),
    feature,
  };
}

function checkMultiPolygon(c: unknown): string | null {
  if (!Array.isArray(c) || c.length === 0) return 'no polygons';
  for (let i = 0; i < c.length; i++) {
    const bad = checkPolygon(c[i]);
    if (bad) return `polygon ${i + 1}: ${bad}`;
  }
  return null;
}

function checkPolygon(c: unknown): string | null {
  if (!Array.isArray(c) || c.length === 0) return 'no rings';
  for (let i = 0; i < c.length; i++) {
    const ring = c[i];
    if (!Array.isArray(ring) || ring.length < 4) return `ring ${i + 1} has fewer than 4 positions`;
    for (const pos of ring) {
      if (!Array.isArray(pos) || pos.length < 2) return `ring ${i + 1} has a position that is not [lon, lat]`;
      const [lon, lat] = pos as unknown[];
      if (typeof lon !== 'number' || typeof lat !== 'number' || !(Math.abs(lon) <= 180) || !(Math.abs(lat) <= 90)) {
        return `ring ${i + 1} has a position outside WGS84 longitude/latitude: ${JSON.stringify(pos)}`;
      }
    }
  }
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
