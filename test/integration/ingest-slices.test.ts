// A large batch rebuilds its touched cases a slice of rows at a time (ingest/refresh-cases.ts), so its
// memory does not grow with the file. Slicing must change nothing: the same files loaded with
// many small slices and with one slice give the same cases, places and counts — for a first load
// and for a later one that closes, moves and adds cases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ingestFile, type IngestResult } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { loadAreasGeoJson } from '../../ingest/areas.ts';
import { CASES_HEADER, generateCasesCsv } from '../bench/generate-cases-csv.ts';
import { tempWarehouse, type TempWarehouse } from '../helpers.ts';

const square = (x0: number, y0: number, x1: number, y1: number) => ({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });
const DISTRICTS = JSON.stringify({
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', geometry: square(-77.45, 41.1, -77.3, 41.3), properties: { id: 'W', name: 'West' } },
    { type: 'Feature', geometry: square(-77.3, 41.1, -77.15, 41.3), properties: { id: 'E', name: 'East' } },
  ],
});

describe('rebuilding touched cases in slices', () => {
  const profile = loadProfile('demo-city');
  const whs: TempWarehouse[] = [];
  let day1 = '';
  let day2 = '';

  beforeAll(async () => {
    const t = await tempWarehouse();
    whs.push(t);
    const gen = generateCasesCsv(t.dir, [2_000], 42);
    day1 = gen.files.get(2_000)!;
    // Day 2: every case still open on day 1 closed, every 50th case moved to the other district's
    // side or to a named district without a point, 300 new cases, one row twice, and one new case
    // listed again 300 rows later with its close.
    const rows = readFileSync(day1, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const out: string[][] = [];
    rows.forEach((r, i) => {
      const c = [...r];
      if (c[5] === 'open') (c[5] = 'closed', (c[7] = '2026-11-16T04:00:00Z'));
      if (i % 50 === 0) c[9] = String(-77.45 - 77.15 - Number(c[9])); // mirrored across the middle
      if (i % 50 === 25) (c[8] = '', (c[9] = ''), (c[10] = 'West'));
      out.push(c);
    });
    for (let i = 0; i < 300; i++) {
      const c = [...rows[i]];
      c[0] = `N${i}`;
      out.push(c);
    }
    out.push(out[out.length - 1]);
    // A new case listed again far down the file, now closed: its events span slices of rows.
    const again = [...out[rows.length + 5]];
    (again[5] = 'closed', (again[7] = '2026-11-16T03:00:00Z'));
    out.push(again);
    day2 = t.write('day2.csv', [CASES_HEADER, ...out.map((c) => c.join(','))].join('\n') + '\n');
  });
  afterAll(() => whs.forEach((t) => t.cleanup()));

  const load = async (rowsPerSlice: number | undefined) => {
    const t = await tempWarehouse();
    whs.push(t);
    await loadAreasGeoJson(t.wh, t.write('districts.geojson', DISTRICTS), { kind: 'district', idProperty: 'id', nameProperty: 'name' });
    const counts = (r: IngestResult) => ({ read: r.read, loaded: r.loaded, rejected: r.rejected, duplicate: r.duplicate, flagged: r.flagged, events: r.events_added });
    const first = counts(await ingestFile(t.wh, day1, profile, { rowsPerSlice }));
    const firstCases = await t.wh.all(`SELECT * EXCLUDE (refreshed_batch) FROM cases ORDER BY case_id`);
    const second = counts(await ingestFile(t.wh, day2, profile, { rowsPerSlice }));
    return {
      first,
      firstCases,
      second,
      cases: await t.wh.all(`SELECT * EXCLUDE (refreshed_batch) FROM cases ORDER BY case_id`),
      areas: await t.wh.all(`SELECT * FROM case_areas ORDER BY case_id, area_kind`),
      events: await t.wh.all(`SELECT event_id, row_number() OVER (PARTITION BY event_id) AS n FROM case_events ORDER BY event_id`),
    };
  };

  it('gives the same cases, places and counts with 37 rows a slice as with one slice', async () => {
    const whole = await load(undefined);
    const sliced = await load(37);
    // The files do what the test means them to: closes, moves and new cases on day 2.
    expect(whole.first).toMatchObject({ read: 2_000, loaded: 2_000 });
    expect(whole.second.loaded).toBeGreaterThan(300);
    expect(whole.second.duplicate).toBeGreaterThan(0);
    const open = (cs: unknown[]) => (cs as { case_id: string; status: string }[]).filter((c) => c.status === 'open').map((c) => c.case_id);
    expect(open(whole.firstCases).length).toBeGreaterThan(0);
    expect(open(whole.cases).every((id) => id.startsWith('demo:N'))).toBe(true); // day 1's open cases were closed
    expect(whole.areas.length).toBeGreaterThan(2_000);
    expect(sliced.first).toEqual(whole.first);
    expect(sliced.firstCases).toEqual(whole.firstCases);
    expect(sliced.second).toEqual(whole.second);
    expect(sliced.cases).toEqual(whole.cases);
    expect(sliced.areas).toEqual(whole.areas);
    expect(sliced.events).toEqual(whole.events);
    expect((sliced.events as { n: number }[]).every((e) => Number(e.n) === 1)).toBe(true);
  });

  it('stores a batch\'s cases in order of opening: wholly for a file in request order, in a run per slice for a shuffled one', async () => {
    // Stored order is what lets a window of days skip the row groups of other days (DuckDB's min/max per group).
    const descents = async (t: TempWarehouse) => {
      const rows = await t.wh.all<{ t: number }>(`SELECT epoch_us(opened_at)::DOUBLE AS t FROM cases ORDER BY rowid`);
      return { cases: rows.length, descents: rows.filter((r, i) => i > 0 && r.t < rows[i - 1].t).length };
    };
    const t = await tempWarehouse();
    whs.push(t);
    await ingestFile(t.wh, day1, profile);
    expect(await descents(t)).toEqual({ cases: 2_000, descents: 0 });
    // Day 2 rewrites every touched case at the end of the table: those rows are in order of opening too.
    await ingestFile(t.wh, day2, profile);
    const tail = await t.wh.all<{ t: number }>(
      `SELECT epoch_us(opened_at)::DOUBLE AS t FROM cases WHERE refreshed_batch = (SELECT refreshed_batch FROM cases ORDER BY rowid DESC LIMIT 1) ORDER BY rowid`);
    expect(tail.length).toBeGreaterThan(300);
    expect(tail.filter((r, i) => i > 0 && r.t < tail[i - 1].t)).toHaveLength(0);

    // The same rows shuffled, 500 rows a slice: one run in order per slice.
    const lines = readFileSync(day1, 'utf8').trim().split('\n').slice(1);
    let seed = 7;
    for (let i = lines.length - 1; i > 0; i--) {
      seed = (seed * 48271) % 2147483647;
      const j = seed % (i + 1);
      [lines[i], lines[j]] = [lines[j], lines[i]];
    }
    const s = await tempWarehouse();
    whs.push(s);
    await ingestFile(s.wh, s.write('shuffled.csv', [CASES_HEADER, ...lines].join('\n') + '\n'), profile, { rowsPerSlice: 500 });
    const shuffled = await descents(s);
    expect(shuffled.cases).toBe(2_000);
    expect(shuffled.descents).toBeLessThanOrEqual(3);
  });
});
