// A case new to the warehouse whose events all come from one row of a flat export is rebuilt from
// that row's opened event (which carries the row's end) instead of by grouping its events
// (warehouse/models/refresh-cases.sql, `one_row`): the batch's costliest step, skipped for
// nearly every case of a first load. It must change nothing. Each file here is loaded both ways
// (IngestOptions.oneRow) into warehouses of its own, and every column of every case, every area
// and every count must be the same: real exports (LA with both boundary files, NYC, SF, Open311
// with and without a trail of notes), a dirty export with every quality flag, the demo city, and
// a hand-made file of the shapes a row can take, followed by a later file that closes, cancels,
// moves and adds cases (cases already held are still grouped).
import { afterAll, describe, expect, it } from 'vitest';
import { ingestFile, type IngestResult } from '../../ingest/load.ts';
import type { Rebuilt } from '../../ingest/refresh-cases.ts';
import { loadProfile, type Profile } from '../../ingest/profile.ts';
import { loadAreasGeoJson } from '../../ingest/areas.ts';
import { generateDemoCity } from '../../ingest/demo-city.ts';
import { CASES_HEADER } from '../bench/generate-cases-csv.ts';
import { fixture, LA311_CSV, tempWarehouse, type TempWarehouse } from '../helpers.ts';
import { rmSync } from 'node:fs';

type Load = { file: string; profile: Profile };
type Setup = (t: TempWarehouse) => Promise<void>;

const whs: TempWarehouse[] = [];
afterAll(() => whs.forEach((t) => t.cleanup()));

const counts = (r: IngestResult) => ({ read: r.read, loaded: r.loaded, rejected: r.rejected, duplicate: r.duplicate, flagged: r.flagged, events: r.events_added });

/** The files loaded in turn with or without the one-row rebuild; what the warehouse then holds. */
async function loadAll(loads: Load[], oneRow: boolean, setup?: Setup) {
  const t = await tempWarehouse();
  whs.push(t);
  if (setup) await setup(t);
  const results = [];
  const after = [];
  const rebuilt: Rebuilt[] = [];
  for (const l of loads) {
    results.push(counts(await ingestFile(t.wh, l.file, l.profile, { oneRow, onRebuilt: (r) => rebuilt.push(r) })));
    after.push(await t.wh.all(`SELECT * EXCLUDE (refreshed_batch) FROM cases ORDER BY case_id`));
  }
  return {
    results,
    after,
    rebuilt,
    areas: await t.wh.all(`SELECT * FROM case_areas ORDER BY case_id, area_kind`),
    events: await t.wh.all(`SELECT * EXCLUDE (batch_id) FROM case_events ORDER BY event_id`),
    // The rows in stored order (order of opening), which the window scans rely on.
    order: (await t.wh.all<{ case_id: string }>(`SELECT case_id FROM cases ORDER BY rowid`)).map((r) => r.case_id),
  };
}

async function expectSameBothWays(loads: Load[], setup?: Setup) {
  const grouped = await loadAll(loads, false, setup);
  const oneRow = await loadAll(loads, true, setup);
  expect(grouped.after.at(-1)!.length).toBeGreaterThan(0);
  expect(oneRow.results).toEqual(grouped.results);
  for (const [i, cases] of oneRow.after.entries()) expect(cases, `cases after file ${i + 1}`).toEqual(grouped.after[i]);
  expect(oneRow.areas).toEqual(grouped.areas);
  expect(oneRow.events).toEqual(grouped.events);
  expect(oneRow.order).toEqual(grouped.order);
  // Grouped throughout when told to; and how many cases the one-row way rebuilt, per file.
  expect(grouped.rebuilt.every((r) => r.oneRow === 0)).toBe(true);
  return { grouped, oneRow: oneRow.rebuilt };
}

/** Most of a first load's cases took the one-row way. */
const mostlyOneRow = (r: Rebuilt) => {
  expect(r.cases).toBeGreaterThan(0);
  expect(r.oneRow / r.cases).toBeGreaterThan(0.9);
};

describe('rebuilding a new case from its one row', () => {
  it('gives what grouping its events gives, on LA with its council districts and neighbourhood councils', async () => {
    const { oneRow } = await expectSameBothWays([{ file: LA311_CSV, profile: loadProfile('myla311') }], async (t) => {
      await loadAreasGeoJson(t.wh, fixture('la311/la_council_districts_2012.geojson'), { kind: 'council_district', idProperty: 'external_id', nameProperty: 'name' });
      await loadAreasGeoJson(t.wh, fixture('la311/la_neighborhood_councils_2019.geojson'), { kind: 'neighborhood_council', idProperty: 'nc_id', nameProperty: 'name' });
    });
    mostlyOneRow(oneRow[0]);
  });

  it('…on NYC and SF', async () => {
    mostlyOneRow((await expectSameBothWays([{ file: fixture('nyc311/nyc311_2011_sample_2000.csv'), profile: loadProfile('nyc311') }])).oneRow[0]);
    mostlyOneRow((await expectSameBothWays([{ file: fixture('sf311/sf311_cases_sample_10000.csv'), profile: loadProfile('sf311') }])).oneRow[0]);
  });

  it('…on Open311 requests: with a trail of notes (grouped, as before), without (one row), and its open, closed and cancelled shapes', async () => {
    const chicago = { ...loadProfile('open311'), timezone: 'America/Chicago' };
    const withNotes = await expectSameBothWays([{ file: fixture('open311/chicago_open311_requests_2014_sample.json'), profile: chicago }]);
    expect(withNotes.oneRow[0].oneRow).toBe(0);
    const sf = { ...loadProfile('open311'), timezone: 'America/Los_Angeles' };
    mostlyOneRow((await expectSameBothWays([{ file: fixture('open311/sf_open311_dashboard_fixture_500_requests.json'), profile: sf }])).oneRow[0]);
    // Its "closed" time is the last update: an open request's is no close (map-sql.ts), a closed
    // or cancelled one's is; a closed request without one stays open (flagged closed_without_time).
    const t = await tempWarehouse();
    whs.push(t);
    const request = (id: string, status: string, updated: string | null) => ({
      service_request_id: id, status, service_code: '001', service_name: 'Pothole', agency_responsible: 'Streets',
      requested_datetime: '2024-05-01T09:00:00-05:00', updated_datetime: updated, expected_datetime: '2024-05-04T09:00:00-05:00', lat: 41.88, long: -87.63,
    });
    const file = t.write('requests.json', JSON.stringify([
      request('1', 'open', '2024-05-02T10:00:00-05:00'),
      request('2', 'closed', '2024-05-03T10:00:00-05:00'),
      request('3', 'cancelled', '2024-05-01T09:30:00-05:00'),
      request('4', 'open', null),
      request('5', 'closed', null),
    ]));
    const shapes = await expectSameBothWays([{ file, profile: chicago }]);
    expect(shapes.oneRow[0]).toEqual({ oneRow: 5, cases: 5 });
    const status = Object.fromEntries((shapes.grouped.after[0] as { source_case_id: string; status: string; closed_at: unknown }[]).map((c) => [c.source_case_id, [c.status, c.closed_at === null]]));
    expect(status).toEqual({ 1: ['open', true], 2: ['closed', false], 3: ['cancelled', true], 4: ['open', true], 5: ['open', true] });
  });

  it('…on a dirty export (rejects, every quality flag) and on the demo city, its events file after its cases', async () => {
    mostlyOneRow((await expectSameBothWays([{ file: fixture('dirty-cases.csv'), profile: loadProfile(fixture('dirty-profile.json')) }])).oneRow[0]);
    const city = generateDemoCity({ weeks: 8, scale: 0.5 });
    try {
      const { oneRow } = await expectSameBothWays([
        { file: city.files.services, profile: loadProfile('demo-city-services') },
        { file: city.files.cases, profile: loadProfile('demo-city') },
        { file: city.files.events, profile: loadProfile('demo-city-events') },
      ], async (t) => {
        for (const d of city.districts) {
          await t.wh.run(`INSERT INTO areas VALUES ($id, $name, 'district', $pop, $geom)`, { id: d.id, name: d.name, pop: d.population, geom: JSON.stringify(d.polygon.geometry) });
        }
      });
      // The cases file one row a case; its events file (rows are events) grouped, as before.
      mostlyOneRow(oneRow[0]);
      expect(oneRow[1].oneRow).toBe(0);
      expect(oneRow[1].cases).toBeGreaterThan(0);
    } finally {
      rmSync(city.dir, { recursive: true, force: true });
    }
  });

  it('…on every shape a flat row takes, and on a later file that closes, cancels, moves and adds cases', async () => {
    const t = await tempWarehouse();
    whs.push(t);
    const row = (id: string, status: string, opened: string, closed: string, extra: Partial<Record<'code' | 'name' | 'agency' | 'channel' | 'lat' | 'lon' | 'district', string>> = {}) =>
      [id, extra.code ?? 'PTH', extra.name ?? 'Pothole', extra.agency ?? 'Streets', extra.channel ?? 'phone', status, opened, closed,
        extra.lat ?? '41.2', extra.lon ?? '-77.3', extra.district ?? 'District 1'].join(',');
    const day1 = t.write('day1.csv', [CASES_HEADER,
      row('open', 'open', '2026-11-01T10:00:00Z', ''),
      row('closed', 'closed', '2026-11-01T10:00:00Z', '2026-11-03T12:30:00Z'),
      row('cancelled', 'cancelled', '2026-11-01T11:00:00Z', '2026-11-01T11:05:00Z'),
      row('cancelled-no-time', 'cancelled', '2026-11-01T11:00:00Z', ''),
      row('closed-no-time', 'closed', '2026-11-01T11:00:00Z', ''),
      row('closed-before-opened', 'closed', '2026-11-02T11:00:00Z', '2026-11-01T09:00:00Z'),
      row('closed-at-opening', 'closed', '2026-11-02T11:00:00Z', '2026-11-02T11:00:00Z'),
      row('bad-point', 'open', '2026-11-02T11:00:00Z', '', { lat: '95', lon: '-77.3' }),
      row('zero-point', 'closed', '2026-11-02T11:00:00Z', '2026-11-04T11:00:00Z', { lat: '0', lon: '0' }),
      row('no-point', 'open', '2026-11-02T11:00:00Z', '', { lat: '', lon: '', district: 'District 2' }),
      row('odd-status', 'waiting', '2026-11-02T12:00:00Z', ''),
      row('no-attributes', 'closed', '2026-11-02T12:00:00Z', '2026-11-02T18:00:00Z', { code: '', name: '', agency: '', channel: '', district: '' }),
      row('bad-time', 'open', 'yesterday', ''),
      // Listed twice: the second row closes it (two rows: grouped), or repeats it exactly (its
      // events are the first row's again, dropped: one row left).
      row('twice', 'open', '2026-11-03T09:00:00Z', '', { agency: 'Old agency' }),
      row('twice', 'closed', '2026-11-03T09:00:00Z', '2026-11-05T09:00:00Z', { agency: 'New agency' }),
      row('repeated', 'closed', '2026-11-03T10:00:00Z', '2026-11-04T10:00:00Z'),
      row('repeated', 'closed', '2026-11-03T10:00:00Z', '2026-11-04T10:00:00Z'),
    ].join('\n') + '\n');
    const day2 = t.write('day2.csv', [CASES_HEADER,
      row('open', 'closed', '2026-11-01T10:00:00Z', '2026-11-06T10:00:00Z'),
      row('cancelled-no-time', 'cancelled', '2026-11-01T11:00:00Z', '2026-11-06T11:00:00Z'),
      row('no-point', 'open', '2026-11-02T11:00:00Z', '', { lat: '41.25', lon: '-77.2' }),
      row('new', 'open', '2026-11-06T08:00:00Z', ''),
      row('new-closed', 'closed', '2026-11-06T08:00:00Z', '2026-11-06T09:00:00Z', { channel: 'web' }),
    ].join('\n') + '\n');
    const profile = loadProfile('demo-city');
    const { grouped, oneRow } = await expectSameBothWays([{ file: day1, profile }, { file: day2, profile }], async (w) => {
      const square = (x0: number, x1: number) => JSON.stringify({ type: 'Polygon', coordinates: [[[x0, 41.1], [x1, 41.1], [x1, 41.3], [x0, 41.3], [x0, 41.1]]] });
      await w.wh.run(`INSERT INTO areas VALUES ('d1', 'District 1', 'district', NULL, $g1), ('d2', 'District 2', 'district', NULL, $g2)`, { g1: square(-77.45, -77.25), g2: square(-77.25, -77.05) });
    });
    // The files are what the test means them to be.
    expect(grouped.results[0]).toMatchObject({ read: 17, rejected: 1, duplicate: 1 });
    const byId = new Map((grouped.after[0] as { case_id: string; status: string; closed_at: unknown; cancelled_at: unknown; quality_flags: unknown; agency: string }[]).map((c) => [c.case_id.replace('demo:', ''), c]));
    expect(byId.size).toBe(14);
    expect(byId.get('twice')).toMatchObject({ status: 'closed', agency: 'New agency' });
    expect(byId.get('cancelled')).toMatchObject({ status: 'cancelled', closed_at: null });
    expect(byId.get('closed-before-opened')!.quality_flags).toEqual(['closed_before_opened']);
    expect(grouped.after[1]).toHaveLength(16);
    // Day 1: every case but the one with two rows' events. Day 2 touches four: its two new cases
    // one row each, the two it closes or cancels (held) grouped; a point moved without a later
    // update time adds no event, so that case is not rebuilt.
    expect(oneRow).toEqual([{ oneRow: 13, cases: 14 }, { oneRow: 2, cases: 4 }]);
  });
});
