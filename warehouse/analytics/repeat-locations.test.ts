// Repeat locations on a tiny warehouse, every figure counted by hand from the rows below, and on
// the demo city against a brute-force count written independently of the SQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellToLatLng, latLngToCell } from 'h3-js';
import { ingestFile } from '../../ingest/load.ts';
import { parseProfile } from '../../ingest/profile.ts';
import { tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';
import { demoWarehouse } from '../../test/demo-warehouse.ts';
import { computeRepeatLocations, repeatGeoJson } from './repeat-locations.ts';
import { resolveWindow } from './window.ts';

const profile = parseProfile({
  name: 't-repeat', kind: 'cases', source: 'r', format: 'csv', timezone: 'UTC',
  columns: { case_id: 'id', opened_at: 'opened', closed_at: 'closed', service_name: 'service', lat: 'lat', lon: 'lon', area_name: 'area' },
});

// Centres of resolution-10 cells, so points a metre off stay in the same cell.
const centre = (lat: number, lon: number) => cellToLatLng(latLngToCell(lat, lon, 10));
const P = centre(40.0, -75.0);
const P2 = [P[0] + 0.00001, P[1] + 0.00001];
const B = centre(40.1, -75.1);
const C = centre(40.2, -75.2);
const D = centre(40.3, -75.3);

//  id   place  service opened                closed                area
const ROWS: [string, number[], string, string, string, string][] = [
  ['a1', P, 'S', '2026-01-20T00:00:00Z', '2026-02-05T00:00:00Z', 'North'], // before the window: only its close counts
  ['a2', P2, 'S', '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z', 'North'], // exactly 30 days after a1's close: a repeat
  ['a3', P, 'S', '2026-03-10T00:00:01Z', '', 'North'], // 1 s after a2's close: a repeat
  ['a4', P, 'T', '2026-03-20T00:00:00Z', '', 'East'], // another service: no earlier T here
  ['b1', B, 'S', '2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z', 'South'],
  ['b3', B, 'S', '2026-04-01T23:59:59Z', '', 'South'], // 29 d 23:59:59 after b1's close: a repeat
  ['b2', B, 'S', '2026-04-02T00:00:01Z', '', 'South'], // 30 d + 1 s after b1's close (b3 is not closed): not
  ['f1', C, 'S', '2026-03-01T00:00:00Z', '2026-03-05T00:00:00Z', 'West'],
  ['f2', C, 'S', '2026-03-05T00:00:00Z', '', 'West'], // at the very instant of f1's close: not after it
  ['f3', C, 'S', '2026-03-05T00:00:01Z', '', 'West'], // 1 s after: a repeat
  ['g1', D, 'S', '2026-03-02T00:00:00Z', '2026-02-20T00:00:00Z', 'West'], // closed before it opened: a data error, no close
  ['g2', D, 'S', '2026-03-03T00:00:00Z', '', 'West'],
  ['z1', [NaN, NaN], 'S', '2026-03-04T00:00:00Z', '', 'West'], // no point: counted as without one
];

describe('repeat locations on a hand-made warehouse', () => {
  let t: TempWarehouse;
  const window = { from: '2026-03-01', to: '2026-04-30', as_of: '2026-05-01T00:00:00.000Z', timezone: 'UTC' };
  beforeAll(async () => {
    t = await tempWarehouse();
    const lines = ROWS.map(([id, [lat, lon], service, opened, closed, area]) => [id, opened, closed, service, Number.isNaN(lat) ? '' : lat, Number.isNaN(lon) ? '' : lon, area].join(','));
    const path = t.write('cases.csv', ['id,opened,closed,service,lat,lon,area', ...lines].join('\n') + '\n');
    const r = await ingestFile(t.wh, path, profile);
    expect(r.rejected).toBe(0);
    expect(latLngToCell(P2[0], P2[1], 10)).toBe(latLngToCell(P[0], P[1], 10));
  });
  afterAll(() => t?.cleanup());

  it('30 days: a repeat at exactly 30 days counts, at 30 days and a second does not; same instant, other service, data errors and cases before the window are no repeats', async () => {
    const r = await computeRepeatLocations(t.wh, { window, days: 30 });
    expect(r).toMatchObject({ days: 30, resolution: 10, area_kind: 'source', requests_with_point: 11, requests_without_point: 1, places_total: 3, repeats_total: 4 });
    const [first, ...ties] = r.places;
    expect(first).toMatchObject({ h3: latLngToCell(P[0], P[1], 10), service: 'S', area: 'North', requests: 2, repeats: 2, repeat_share: 1, first_request: '2026-03-07', last_request: '2026-03-10', last_repeat: '2026-03-10' });
    expect(first.centre).toEqual([P[1], P[0]].map((v) => expect.closeTo(v, 9)));
    const expected = [
      { h3: latLngToCell(B[0], B[1], 10), service: 'S', area: 'South', requests: 3, repeats: 1, repeat_share: 1 / 3, first_request: '2026-03-02', last_request: '2026-04-02', last_repeat: '2026-04-01' },
      { h3: latLngToCell(C[0], C[1], 10), service: 'S', area: 'West', requests: 3, repeats: 1, repeat_share: 1 / 3, first_request: '2026-03-01', last_request: '2026-03-05', last_repeat: '2026-03-05' },
    ].sort((a, b) => (a.h3 < b.h3 ? -1 : 1)); // equal repeats and requests: by cell
    expect(ties).toMatchObject(expected);
    expect(r.sentence).toBe('4 requests (opened 2026-03-01 to 2026-04-30 (UTC), as of 2026-05-01T00:00:00.000Z) repeated a request of the same service at the same place within 30 days of its close — 36.4% of the 11 requests with a location, at 3 places; ' +
      `the most: S in North, 2 of 2 requests (cell ${first.h3}).`);
  });

  it('29 days: the repeat at exactly 30 days and the one at 29 d 23:59:59 drop out', async () => {
    const r = await computeRepeatLocations(t.wh, { window, days: 29 });
    expect(r.places.map((p) => [p.area, p.requests, p.repeats])).toEqual([['West', 3, 1], ['North', 2, 1]]); // equal repeats: more requests first
    expect(r.repeats_total).toBe(2);
  });

  it('a window that starts later still sees the earlier close (look-back of N days), and filters and as-of apply', async () => {
    const late = await computeRepeatLocations(t.wh, { window: { ...window, from: '2026-03-08' }, days: 30 });
    // a3 (1 s after the close of a2, which opened before this window) and b3 (b1 opened before it too); f3 opened before it.
    // The place's area is the one most of its requests in the window are in: a3 (North) and a4 (East) tie, the first by name wins.
    expect(late.places.map((p) => [p.area, p.service, p.requests, p.repeats])).toEqual([['South', 'S', 2, 1], ['East', 'S', 1, 1]]);
    expect((await computeRepeatLocations(t.wh, { window, days: 30, filter: { service: 'T' } })).places_total).toBe(0);
    // As of 2026-03-09 a2's close has not happened: a3 is unseen, a2 still repeats a1.
    const early = await computeRepeatLocations(t.wh, { window: { ...window, to: '2026-03-09', as_of: '2026-03-09T12:00:00.000Z' }, days: 30 });
    expect(early.places.find((p) => p.area === 'North')).toMatchObject({ requests: 1, repeats: 1 });
  });

  it('resolution 11 is a finer place; GeoJSON cells are closed [lng, lat] rings around each centre', async () => {
    const r = await computeRepeatLocations(t.wh, { window, days: 30, resolution: 11 });
    expect(r.resolution).toBe(11);
    for (const p of r.places) expect(p.h3).toBe(latLngToCell(p.centre[1], p.centre[0], 11));
    const geo = repeatGeoJson(r);
    expect(geo.features.length).toBe(new Set(r.places.map((p) => p.h3)).size);
    for (const f of geo.features) {
      const ring = f.geometry.coordinates[0];
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      expect(ring.length).toBeGreaterThanOrEqual(7); // a hexagon, closed (more vertices where it crosses an icosahedron face)
      for (const [lng, lat] of ring) {
        expect(Math.abs(lng - f.properties.centre[0])).toBeLessThan(0.002);
        expect(Math.abs(lat - f.properties.centre[1])).toBeLessThan(0.002);
      }
      expect(f.properties.repeats).toBe(f.properties.services.reduce((s, x) => s + x.repeats, 0));
    }
    await expect(computeRepeatLocations(t.wh, { window, resolution: 9 })).rejects.toThrow(/resolution must be 10 or 11/);
    await expect(computeRepeatLocations(t.wh, { window, days: 0 })).rejects.toThrow(/days must be a whole number from 1 to 365/);
    // Past the most requests searched at once: a 413 saying how many and what to narrow.
    await expect(computeRepeatLocations(t.wh, { window, max_requests: 10 })).rejects.toMatchObject({ status: 413, message: expect.stringMatching(/^This window has 11 requests with a location; repeat locations search at most 10 at once\. Narrow it: a shorter window/) });
    expect((await computeRepeatLocations(t.wh, { window, max_requests: 11 })).requests_with_point).toBe(11);
  });
});

describe('repeat locations on the demo city', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  beforeAll(async () => {
    t = await demoWarehouse();
  });
  afterAll(() => t?.cleanup());

  it('agree with a brute-force count over every pair of requests (same service, same cell, opened within 30 days after a close)', async () => {
    const window = await resolveWindow(t.wh, { weeks: 26 }, 'America/New_York');
    const r = await computeRepeatLocations(t.wh, { window, days: 30, limit: 100_000 });
    const cases = await t.wh.all<{ service: string; lat: number; lon: number; opened: number; closed: number | null; day: string }>(
      `SELECT coalesce(service_name, service_code) AS service, lat, lon, epoch_ms(opened_at)::DOUBLE AS opened,
              CASE WHEN closed_at <= $as_of::TIMESTAMPTZ AND closed_at >= opened_at THEN epoch_ms(closed_at)::DOUBLE END AS closed,
              strftime(opened_at AT TIME ZONE 'America/New_York', '%Y-%m-%d') AS day
       FROM cases WHERE lat IS NOT NULL AND opened_at <= $as_of::TIMESTAMPTZ`, { as_of: window.as_of });
    const groups = new Map<string, typeof cases>();
    for (const c of cases) {
      const k = `${c.service}|${latLngToCell(c.lat, c.lon, 10)}`;
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(c);
    }
    const N = 30 * 86_400_000;
    const expected = new Map<string, { requests: number; repeats: number }>();
    for (const [k, list] of groups) {
      let requests = 0, repeats = 0;
      for (const c of list) {
        if (c.day < window.from || c.day > window.to) continue;
        requests++;
        if (list.some((e) => e.closed !== null && e.closed < c.opened && c.opened - e.closed <= N)) repeats++;
      }
      if (repeats > 0) expected.set(k, { requests, repeats });
    }
    expect(r.places_total).toBe(expected.size);
    expect(r.places_total).toBeGreaterThan(10);
    for (const p of r.places) expect({ requests: p.requests, repeats: p.repeats }, `${p.service} ${p.h3}`).toEqual(expected.get(`${p.service}|${p.h3}`));
    for (let i = 1; i < r.places.length; i++) expect(r.places[i - 1].repeats).toBeGreaterThanOrEqual(r.places[i].repeats);
    expect(r.repeats_total).toBe([...expected.values()].reduce((s, e) => s + e.repeats, 0));
  });
});
