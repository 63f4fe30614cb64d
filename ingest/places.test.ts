// Areas by point in polygon and H3 cells, checked against the city of Los Angeles' own
// assignment of its 2017 requests and against a hand-drawn map.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cellToParent, latLngToCell } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAreasGeoJson } from './areas.ts';
import { ingestCasesCsv } from './load-cases.ts';
import { AreaIndex, assignPlaces } from './places.ts';
import { loadProfile } from './profile.ts';
import { fixture, LA311_CSV, tempWarehouse, type TempWarehouse } from '../test/helpers.ts';

const LA_NC = fixture('la311/la_neighborhood_councils_2019.geojson');
const LA_CD = fixture('la311/la_council_districts_2012.geojson');

it('h3-js gives the known cell (H3 documentation example)', () => {
  expect(latLngToCell(37.3615593, -122.0553238, 5)).toBe('85283473fffffff');
});

describe('Los Angeles: requests placed in neighborhood councils and council districts', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse();
    await ingestCasesCsv(t.wh, LA311_CSV, loadProfile('myla311'));
  });
  afterAll(() => t.cleanup());

  it('loads the 99 council and 15 district polygons', async () => {
    const nc = await loadAreasGeoJson(t.wh, LA_NC, { kind: 'neighborhood_council', idProperty: 'nc_id', nameProperty: 'name' });
    expect(nc).toEqual({ read: 99, loaded: 99, rejected: 0, rejects: [] });
    // `name` is the district number ("13"), as the export's CD column writes it.
    const cd = await loadAreasGeoJson(t.wh, LA_CD, {
      kind: 'district', idProperty: 'name', nameProperty: 'name', idTransform: (v) => String(v).replace(/\D/g, ''),
    });
    expect(cd).toEqual({ read: 15, loaded: 15, rejected: 0, rejects: [] });
    const kinds = await t.wh.all(`SELECT kind, count(*)::INTEGER AS n FROM areas GROUP BY 1 ORDER BY 1`);
    expect(kinds).toEqual([{ kind: 'district', n: 15 }, { kind: 'neighborhood_council', n: 99 }]);
    // Loading again replaces, not duplicates.
    await loadAreasGeoJson(t.wh, LA_CD, { kind: 'district', idProperty: 'name', nameProperty: 'name' });
    expect((await t.wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM areas`))?.n).toBe(114);
  });

  it('agrees with the city: 8,064 of 8,246 in its council (110 in none), 8,228 in its district', async () => {
    const r = await assignPlaces(t.wh, {});
    expect(r.cases).toBe(9999);
    expect(r.withPoint).toBe(8246);
    expect(r.byKind.neighborhood_council.point + r.byKind.neighborhood_council.sourceName + r.byKind.neighborhood_council.none).toBe(9999);
    const agreement = await t.wh.one(
      `WITH city AS (
         SELECT case_id, attributes->>'NC' AS nc, attributes->>'CD' AS cd FROM case_events WHERE event_type = 'opened'
       ), ours AS (
         SELECT case_id,
           any_value(area_id) FILTER (WHERE area_kind = 'neighborhood_council') AS nc,
           any_value(area_id) FILTER (WHERE area_kind = 'district') AS cd
         FROM case_areas WHERE method = 'point' GROUP BY case_id
       )
       SELECT count(*)::INTEGER AS geocoded,
         count(*) FILTER (WHERE o.nc = 'neighborhood_council:' || city.nc)::INTEGER AS same_nc,
         count(*) FILTER (WHERE o.nc IS NULL)::INTEGER AS no_nc,
         count(*) FILTER (WHERE o.cd = 'district:' || city.cd)::INTEGER AS same_cd
       FROM cases c JOIN city USING (case_id) LEFT JOIN ours o USING (case_id)
       WHERE c.lat IS NOT NULL`,
    );
    expect(agreement).toEqual({ geocoded: 8246, same_nc: 8064, no_nc: 110, same_cd: 8228 });
    expect(r.byKind.neighborhood_council.point).toBe(8246 - 110);
  });

  it('puts the district on cases.area_id (default primary kind) and H3 cells on every geocoded case', async () => {
    const c = await t.wh.one(
      `SELECT count(*) FILTER (WHERE h3_r9 IS NOT NULL)::INTEGER AS h3,
         count(*) FILTER (WHERE lat IS NOT NULL AND (h3_r7 IS NULL OR h3_r8 IS NULL))::INTEGER AS h3_missing,
         count(*) FILTER (WHERE lat IS NULL AND h3_r7 IS NOT NULL)::INTEGER AS h3_without_point,
         count(*) FILTER (WHERE cases.area_id LIKE 'district:%')::INTEGER AS with_district,
         count(*) FILTER (WHERE cases.area_id IS DISTINCT FROM ca.area_id)::INTEGER AS mismatched
       FROM cases LEFT JOIN case_areas ca ON ca.case_id = cases.case_id AND ca.area_kind = 'district'`,
    );
    const points = await t.wh.one<{ n: number }>(
      `SELECT count(*)::INTEGER AS n FROM case_areas WHERE area_kind = 'district' AND method = 'point'`,
    );
    expect(c).toMatchObject({ h3: 8246, h3_missing: 0, h3_without_point: 0, mismatched: 0 });
    expect((c as { with_district: number }).with_district).toBe(points?.n);
    const one = await t.wh.one<{ lat: number; lon: number; h3_r7: string; h3_r8: string; h3_r9: string; area_id: string }>(
      `SELECT lat, lon, h3_r7, h3_r8, h3_r9, area_id FROM cases WHERE source_case_id = '1-870704831'`,
    );
    expect(one?.h3_r9).toBe(latLngToCell(one!.lat, one!.lon, 9));
    expect(one?.h3_r8).toBe(latLngToCell(one!.lat, one!.lon, 8));
    expect(one?.h3_r7).toBe(latLngToCell(one!.lat, one!.lon, 7));
    expect(one?.area_id).toBe('district:13'); // the export says CD 13
  });

  it('places the same in pages of a few points as in one, with h3-js\'s cell on every geocoded case', async () => {
    const snapshot = async () => ({
      cases: await t.wh.all(`SELECT case_id, area_id, h3_r7, h3_r8, h3_r9 FROM cases ORDER BY case_id`),
      areas: await t.wh.all(`SELECT * FROM case_areas ORDER BY case_id, area_kind`),
    });
    const before = await snapshot();
    // Set apart first, so the paged placing has everything to write again.
    await t.wh.run(`UPDATE cases SET area_id = NULL, h3_r7 = NULL, h3_r8 = NULL, h3_r9 = NULL`);
    await t.wh.run(`DELETE FROM case_areas`);
    // 8,246 points in pages of 5,000 and of 1,000 (nine pages), cells numbered across pages. (A
    // batch computes a page this small on its own thread; warehouse/h3-cells.test.ts holds the
    // workers' cells to the same.)
    for (const pointsPerPage of [5000, 1000]) {
      const r = await assignPlaces(t.wh, { pointsPerPage });
      expect(r.withPoint).toBe(8246);
      expect(await snapshot()).toEqual(before);
    }
    const rows = await t.wh.all<{ lat: number; lon: number; h3_r7: string; h3_r8: string; h3_r9: string }>(`SELECT lat, lon, h3_r7, h3_r8, h3_r9 FROM cases WHERE h3_r9 IS NOT NULL`);
    expect(rows).toHaveLength(8246);
    // The point's resolution-9 cell, and that cell's parents (a point's own coarser cell can differ:
    // H3's children do not tile their parent exactly).
    for (const c of rows) {
      const r9 = latLngToCell(c.lat, c.lon, 9);
      expect([c.h3_r7, c.h3_r8, c.h3_r9]).toEqual([cellToParent(r9, 7), cellToParent(r9, 8), r9]);
    }
  });

  it('gives requests without a point the council their NCName names, and no district', async () => {
    const r = await t.wh.all(
      `SELECT area_kind, method, count(*)::INTEGER AS n FROM case_areas c JOIN cases USING (case_id)
       WHERE cases.lat IS NULL GROUP BY ALL ORDER BY ALL`,
    );
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ area_kind: 'neighborhood_council', method: 'source_name' });
    const named = await t.wh.one<{ n: number; same: number }>(
      `SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE a.area_id = 'neighborhood_council:' || (e.attributes->>'NC'))::INTEGER AS same
       FROM case_areas ca JOIN areas a USING (area_id) JOIN case_events e ON e.case_id = ca.case_id AND e.event_type = 'opened'
       WHERE ca.method = 'source_name'`,
    );
    expect(named!.n).toBeGreaterThan(1500); // of 1,743 ungeocoded rows with an NCName
    expect(named!.same).toBe(named!.n); // matched by name, the council is the one the city's NC id says
  });

  it('inside the batch transaction, only the batch\'s cases are reassigned and nothing else moves', async () => {
    const before = await t.wh.all(`SELECT * FROM case_areas ORDER BY case_id, area_kind`);
    const batch = await t.wh.one<{ batch_id: string }>(`SELECT batch_id FROM ingest_batches ORDER BY started_at LIMIT 1`);
    const r = await t.wh.transaction(async () => {
      // The batch's cases as a rebuild leaves them before placing (no area, no cells), then placed.
      await t.wh.run(
        `UPDATE cases SET area_id = NULL, h3_r7 = NULL, h3_r8 = NULL, h3_r9 = NULL
         WHERE case_id IN (SELECT case_id FROM case_events WHERE batch_id = $b)`,
        { b: batch!.batch_id },
      );
      return assignPlaces(t.wh, { batchId: batch!.batch_id, inTransaction: true });
    });
    expect(r.cases).toBe(9999);
    expect(await t.wh.all(`SELECT * FROM case_areas ORDER BY case_id, area_kind`)).toEqual(before);
    expect((await t.wh.one<{ n: number }>(`SELECT count(h3_r9)::INTEGER AS n FROM cases`))?.n).toBe(8246);
  });
});

describe('a hand-drawn map', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  const square = (x0: number, y0: number, x1: number, y1: number) => ({
    type: 'Polygon',
    coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
  });
  const feature = (geometry: unknown, properties: Record<string, unknown>) => ({ type: 'Feature', geometry, properties });

  it('loads polygons, rejects the rest with reasons, and names the file when it is not JSON', async () => {
    const file = join(t.dir, 'wards.geojson');
    writeFileSync(file, JSON.stringify({
      type: 'FeatureCollection',
      features: [
        feature(square(0, 0, 1, 1), { ward: 'W1', label: 'West', pop: 1200 }),
        feature(square(2, 0, 3, 1), { ward: 'W2', label: 'East', pop: '3,400' }),
        feature({ type: 'Point', coordinates: [0.5, 0.5] }, { ward: 'W3', label: 'Pin' }),
        feature(square(5, 5, 6, 6), { label: 'No id' }),
        feature(square(0, 0, 1, 1), { ward: 'W1', label: 'Again' }),
        feature({ type: 'Polygon', coordinates: [[[0, 0], [1, 1]]] }, { ward: 'W4', label: 'Line' }),
      ],
    }));
    const r = await loadAreasGeoJson(t.wh, file, { kind: 'ward', idProperty: 'ward', nameProperty: 'label', populationProperty: 'pop' });
    expect(r).toEqual({
      read: 6,
      loaded: 2,
      rejected: 4,
      rejects: [
        { feature: 3, reason: 'geometry is Point, not Polygon or MultiPolygon' },
        { feature: 4, reason: 'no ward property' },
        { feature: 5, reason: 'duplicate area id ward:W1 (first at feature 1)' },
        { feature: 6, reason: 'invalid Polygon: ring 1 has fewer than 4 positions' },
      ],
    });
    expect(await t.wh.all(`SELECT area_id, name, kind, population, geometry->>'type' AS type FROM areas ORDER BY 1`)).toEqual([
      { area_id: 'ward:W1', name: 'West', kind: 'ward', population: 1200, type: 'Polygon' },
      { area_id: 'ward:W2', name: 'East', kind: 'ward', population: 3400, type: 'Polygon' },
    ]);
    // Kept so that where polygons overlap, the one earlier in its file wins.
    expect(await t.wh.all(`SELECT area_id, file_name, feature FROM area_sources ORDER BY 1`)).toEqual([
      { area_id: 'ward:W1', file_name: 'wards.geojson', feature: 1 },
      { area_id: 'ward:W2', file_name: 'wards.geojson', feature: 2 },
    ]);

    const bad = join(t.dir, 'broken.geojson');
    writeFileSync(bad, '{"type": "FeatureCollection", "features": [');
    await expect(loadAreasGeoJson(t.wh, bad, { kind: 'ward', idProperty: 'ward', nameProperty: 'label' }))
      .rejects.toThrow(`The area file ${bad} is not valid JSON`);
  });

  it('places points inside each square, none outside, and a pointless case by its area name', async () => {
    const rows = [
      // case_id, lat, lon, area_name
      ['t:in-west', 0.5, 0.5, 'East'], // the point wins over the name
      ['t:in-east', 0.25, 2.75, null],
      ['t:on-edge', 1, 0.5, null], // on the boundary counts as inside
      ['t:outside', 0.5, 1.5, 'West'], // between the squares: no ward, though a name is given
      ['t:no-point', null, null, '  west '],
      ['t:no-point-unknown', null, null, 'North'],
    ] as const;
    for (const [id, lat, lon, name] of rows) {
      await t.wh.run(
        `INSERT INTO cases (case_id, source, source_case_id, status, reopen_count, lat, lon, area_name)
         VALUES ($id, 't', $id, 'open', 0, $lat, $lon, $name)`,
        { id, lat, lon, name },
      );
    }
    const r = await assignPlaces(t.wh);
    expect(r).toEqual({ cases: 6, withPoint: 4, byKind: { ward: { point: 3, sourceName: 1, none: 2 } } });
    expect(await t.wh.all(`SELECT case_id, area_kind, area_id, method FROM case_areas ORDER BY case_id`)).toEqual([
      { case_id: 't:in-east', area_kind: 'ward', area_id: 'ward:W2', method: 'point' },
      { case_id: 't:in-west', area_kind: 'ward', area_id: 'ward:W1', method: 'point' },
      { case_id: 't:no-point', area_kind: 'ward', area_id: 'ward:W1', method: 'source_name' },
      { case_id: 't:on-edge', area_kind: 'ward', area_id: 'ward:W1', method: 'point' },
    ]);
    // Only kind loaded, so it is the primary one.
    const cases = await t.wh.all(`SELECT case_id, area_id, h3_r9 IS NOT NULL AS has_h3 FROM cases ORDER BY case_id`);
    expect(cases).toEqual([
      { case_id: 't:in-east', area_id: 'ward:W2', has_h3: true },
      { case_id: 't:in-west', area_id: 'ward:W1', has_h3: true },
      { case_id: 't:no-point', area_id: 'ward:W1', has_h3: false },
      { case_id: 't:no-point-unknown', area_id: null, has_h3: false },
      { case_id: 't:on-edge', area_id: 'ward:W1', has_h3: true },
      { case_id: 't:outside', area_id: null, has_h3: true },
    ]);
  });

  it('reassigns only the given cases, and refuses a primary kind that is not loaded', async () => {
    // One case moves to the other ward, one out of both, and one that moved is not asked about.
    await t.wh.run(`UPDATE cases SET lat = 0.5, lon = 2.5 WHERE case_id = 't:in-west'`);
    await t.wh.run(`UPDATE cases SET lat = 0.5, lon = 1.5 WHERE case_id = 't:in-east'`);
    await t.wh.run(`UPDATE cases SET lat = 0.5, lon = 2.5 WHERE case_id = 't:on-edge'`);
    const r = await assignPlaces(t.wh, { caseIds: ['t:in-west', 't:in-east'] });
    expect(r).toEqual({ cases: 2, withPoint: 2, byKind: { ward: { point: 1, sourceName: 0, none: 1 } } });
    expect(await t.wh.all(`SELECT case_id, area_id FROM case_areas ORDER BY case_id`)).toEqual([
      { case_id: 't:in-west', area_id: 'ward:W2' },
      { case_id: 't:no-point', area_id: 'ward:W1' },
      { case_id: 't:on-edge', area_id: 'ward:W1' },
    ]);
    expect(await t.wh.all(`SELECT case_id, area_id FROM cases WHERE case_id IN ('t:in-west', 't:in-east') ORDER BY 1`)).toEqual([
      { case_id: 't:in-east', area_id: null },
      { case_id: 't:in-west', area_id: 'ward:W2' },
    ]);

    // Placing every case also clears rows left by cases that are gone.
    await t.wh.run(`INSERT INTO case_areas VALUES ('t:gone', 'ward', 'ward:W1', 'point')`);
    await assignPlaces(t.wh);
    expect(await t.wh.all(`SELECT case_id, area_id FROM case_areas ORDER BY case_id`)).toEqual([
      { case_id: 't:in-west', area_id: 'ward:W2' },
      { case_id: 't:no-point', area_id: 'ward:W1' },
      { case_id: 't:on-edge', area_id: 'ward:W2' },
    ]);
    await expect(assignPlaces(t.wh, { primaryKind: 'district' })).rejects.toThrow('No areas of kind "district"');
  });

  it('finds the same area with the grid index as by testing every polygon, holes included', () => {
    // A ring with a hole, and a neighbour sharing its edge and filling the hole: random points
    // must agree with brute force.
    const donut = { type: 'Polygon', coordinates: [
      [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]],
      [[1, 1], [1, 3], [3, 3], [3, 1], [1, 1]],
    ] };
    const right = { type: 'MultiPolygon', coordinates: [[[[4, 0], [6, 1], [5, 4], [4, 4], [4, 0]]], [[[1.5, 1.5], [2.5, 1.5], [2, 2.5], [1.5, 1.5]]]] };
    // Overlaps both: where it does, the earlier area wins.
    const late = { type: 'Polygon', coordinates: [[[3, 3], [5, 3], [5, 5], [3, 5], [3, 3]]] };
    const areas = [
      { area_id: 'a', geometry: JSON.stringify(donut) },
      { area_id: 'b', geometry: JSON.stringify(right) },
      { area_id: 'c', geometry: JSON.stringify(late) },
    ];
    const index = new AreaIndex(areas, 16);
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    let inA = 0, inB = 0, inC = 0;
    for (let i = 0; i < 20000; i++) {
      const lon = -1 + rand() * 8, lat = -1 + rand() * 6;
      const got = index.locate(lon, lat);
      const want = bruteForce(lon, lat, [donut, right, late]);
      expect(got).toBe(want === -1 ? null : ['a', 'b', 'c'][want]);
      if (got === 'a') inA++;
      if (got === 'b') inB++;
      if (got === 'c') inC++;
    }
    expect(inA).toBeGreaterThan(1000);
    expect(inB).toBeGreaterThan(1000);
    expect(inC).toBeGreaterThan(100);
  });
});

/** Even-odd ray casting over every ring: the index must agree with this away from edges. */
function bruteForce(x: number, y: number, geoms: { type: string; coordinates: unknown }[]): number {
  return geoms.findIndex((g) => {
    const polys = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates) as number[][][][];
    let inside = false;
    for (const rings of polys) for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i], [xj, yj] = ring[j];
        if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
    return inside;
  });
}
