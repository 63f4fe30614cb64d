// The stored duration runs (migration 015): Kaplan–Meier read from them gives every KPI table the
// same numbers, to the bit, as listing every case's durations from the cases — at the data's own
// as-of time and at earlier ones (ends after it taken back out) — and every batch keeps them
// equal to a rebuild from scratch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWarehouse } from '../../test/demo-warehouse.ts';
import { tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';
import { ingestCasesCsv } from '../../ingest/load-cases.ts';
import { parseProfile } from '../../ingest/profile.ts';
import { refreshDurationRuns } from '../../ingest/refresh-cases.ts';
import { Warehouse } from '../db.ts';
import { runsServe, type CaseFilter, type CaseScope, type CaseWindow, type Dimension } from '../queries/case-predicates.ts';
import { listDimensions, resolveSelection } from './dimensions.ts';
import { computeKpis, resolveWindow } from './kpis.ts';
import { listKmDurations } from './km-durations.ts';
import { buildKmDurationsQuery } from '../queries/kpi-sql.ts';
import { DoubleArena } from '../double-arena.ts';
import { Pacer, VALUES_PER_TURN } from '../turns.ts';

const DAY = 86_400_000;
const shift = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** The runs' rows in a fixed order, lists included: what a rebuild must reproduce. */
const runsOf = (wh: Warehouse) =>
  wh.all(`SELECT opened_day::VARCHAR AS d, day_zone, service_code, service_name, agency, channel, cases, close_ends, response_ends
          FROM case_duration_runs ORDER BY ALL`);

describe('Kaplan–Meier from the stored duration runs (demo city)', () => {
  let t: TempWarehouse;
  let window: CaseWindow;
  beforeAll(async () => {
    t = await demoWarehouse();
    window = await resolveWindow(t.wh, {}, (await t.wh.one<{ tz: string }>('SELECT timezone AS tz FROM jurisdiction'))!.tz);
  });
  afterAll(() => t.cleanup());

  it('is read for the default window, and gives the same table as the cases at every as-of time', async () => {
    const dims = await listDimensions(t.wh);
    const agency = dims.agencies[0];
    const service = dims.services[0].name;
    const windows: [string, CaseWindow][] = [
      ['the data as of its newest event', window],
      // Many cases of the window closed after this as-of time: their ends come back out of the runs.
      ['four weeks before the end', { ...window, as_of: shift(window.as_of, -28 * DAY) }],
      ['within the last day', { ...window, as_of: `${window.to}T15:00:00Z` }],
      ['before the window opens', { ...window, as_of: shift(`${window.from}T00:00:00Z`, -DAY) }],
    ];
    const cuts: [Dimension[], CaseFilter, CaseScope | undefined][] = [
      [['service', 'week'], {}, undefined],
      [[], {}, undefined],
      [['agency', 'month'], {}, undefined],
      [['channel'], { service }, undefined],
      [['service_group', 'day'], {}, { agencies: [agency] }],
    ];
    let compared = 0;
    let withDurations = 0;
    for (const [what, w] of windows) {
      for (const [by, filter, scope] of cuts) {
        const sel = await resolveSelection(t.wh, w, { filter, scope });
        expect(runsServe(sel, by), `${what}: runs read for ${by.join(' × ')}`).toBe(true);
        const fromRuns = await computeKpis(t.wh, by, w, filter, { scope });
        const fromCases = await computeKpis(t.wh, by, w, filter, { scope, durationRuns: false });
        expect(fromRuns.rows, `${what}, by ${by.join(' × ') || 'nothing'}`).toEqual(fromCases.rows);
        compared += fromRuns.rows.length;
        withDurations += fromRuns.rows.filter((r) => r.median_hours_to_close !== null && r.median_hours_to_first_response !== null).length;
      }
    }
    // The comparison is about real figures, not empty tables.
    expect(compared).toBeGreaterThan(100);
    expect(withDurations).toBeGreaterThan(50);
  });

  it('lists each group the same durations as the cases do (what the survival chart and the public medians read)', async () => {
    const w = { ...window, as_of: shift(window.as_of, -20 * DAY) };
    const sel = await resolveSelection(t.wh, w, {});
    const pacer = new Pacer(VALUES_PER_TURN);
    for (const duration of ['close', 'first_response'] as const) {
      const arena = new DoubleArena();
      try {
        const fromRuns = await listKmDurations(t.wh, ['service'], sel, duration, { arena, pacer });
        const q = buildKmDurationsQuery(['service'], sel, duration);
        const fromCases = await t.wh.allWithLists(q.sql, q.params, ['ends', 'censored'] as const, { arena });
        const sorted = (a: Float64Array) => [...a].sort((x, y) => x - y);
        const shape = (gs: { service?: unknown; ends: Float64Array; censored: Float64Array }[]) =>
          gs.map((g) => ({ service: g.service, ends: sorted(g.ends), censored: sorted(g.censored) })).sort((a, b) => String(a.service).localeCompare(String(b.service)));
        expect(fromRuns.every((g) => g.endsSorted)).toBe(true);
        expect(shape(fromRuns)).toEqual(shape(fromCases));
        expect(fromRuns.reduce((n, g) => n + g.censored.length, 0)).toBeGreaterThan(0);
      } finally {
        arena.release();
      }
    }
  });

  it('is not read by area (runs are not cut by area)', async () => {
    const sel = await resolveSelection(t.wh, window, {});
    expect(runsServe(sel, ['area'])).toBe(false);
    expect(runsServe(sel, ['service'])).toBe(true);
  });

  it('is not read when the runs do not hold every case (written by other code): the cases answer', async () => {
    const before = await computeKpis(t.wh, ['service'], window);
    await t.wh.run(`DELETE FROM case_duration_runs WHERE opened_day = (SELECT max(opened_day) FROM case_duration_runs)`);
    // A new data version (the runs are checked once per version): a services batch would do the same.
    await t.wh.run(`INSERT INTO ingest_batches (batch_id, source, kind, file_name, profile, started_at, finished_at) VALUES ('test-runs', 'test', 'services', 'x', 'x', now(), now())`);
    const sel = await resolveSelection(t.wh, window, {});
    expect(sel.duration_runs).toBe(false);
    expect((await computeKpis(t.wh, ['service'], window)).rows).toEqual(before.rows);
  });
});

describe('the runs kept by each batch', () => {
  let t: TempWarehouse;
  const profile = parseProfile({
    name: 'runs-test', kind: 'cases', source: 'runs', format: 'csv', timezone: 'America/Chicago',
    columns: { case_id: 'id', opened_at: 'opened', closed_at: 'closed', service_name: 'service', agency: 'agency' },
  });
  const day = (d: number, h: number) => new Date(Date.UTC(2025, 2, 1 + d, h, 17, 3, 250)).toISOString();
  beforeAll(async () => {
    t = await tempWarehouse();
    const rows = ['id,opened,closed,service,agency'];
    for (let i = 0; i < 60; i++) rows.push(`c${i},${day(i % 20, 3 + (i % 19))},${i % 3 === 0 ? '' : day(i % 20 + (i % 5), 20)},${i % 2 ? 'Potholes' : 'Graffiti'},${i % 4 ? 'DPW' : 'Parks'}`);
    // A close stamped before its opening: a data error, left out of the durations.
    rows.push(`bad,${day(5, 12)},${day(4, 12)},Potholes,DPW`);
    await ingestCasesCsv(t.wh, t.write('first.csv', rows.join('\n') + '\n'), profile);
  });
  afterAll(() => t.cleanup());

  it('hold every case after the first batch, equal to a rebuild', async () => {
    const kept = await runsOf(t.wh);
    expect((await t.wh.one<{ n: number }>('SELECT sum(cases)::INTEGER AS n FROM case_duration_runs'))!.n).toBe(61);
    await t.wh.transaction(() => refreshDurationRuns(t.wh, { all: true }));
    expect(await runsOf(t.wh)).toEqual(kept);
    // Rebuilt a few days at a time (a large batch's slices), the same runs.
    await t.wh.transaction(() => refreshDurationRuns(t.wh, { all: true, casesPerSlice: 5 }));
    expect(await runsOf(t.wh)).toEqual(kept);
  });

  it('follow a later batch that closes, moves and adds cases, equal to a rebuild', async () => {
    const later = ['id,opened,closed,service,agency'];
    // Open cases now closed; one case moved to another service and agency; new cases on new days.
    for (const i of [0, 3, 6, 9]) later.push(`c${i},${day(i % 20, 3 + (i % 19))},${day(25, 8)},${i % 2 ? 'Potholes' : 'Graffiti'},${i % 4 ? 'DPW' : 'Parks'}`);
    later.push(`c1,${day(1, 4)},${day(2, 20)},Streetlights,Energy`);
    for (let i = 0; i < 5; i++) later.push(`n${i},${day(30 + i, 9)},${i % 2 ? day(31 + i, 9) : ''},Graffiti,Parks`);
    await ingestCasesCsv(t.wh, t.write('later.csv', later.join('\n') + '\n'), profile);
    const kept = await runsOf(t.wh);
    expect((await t.wh.one<{ n: number }>('SELECT sum(cases)::INTEGER AS n FROM case_duration_runs'))!.n).toBe(66);
    await t.wh.transaction(() => refreshDurationRuns(t.wh, { all: true }));
    expect(await runsOf(t.wh)).toEqual(kept);
    const w = { from: '2025-03-01', to: '2025-04-10', as_of: '2025-04-10T00:00:00Z', timezone: 'America/Chicago' };
    expect((await resolveSelection(t.wh, w)).duration_runs).toBe(true);
    expect((await computeKpis(t.wh, ['service', 'agency'], w)).rows).toEqual((await computeKpis(t.wh, ['service', 'agency'], w, {}, { durationRuns: false })).rows);
  });

  it('are built by the migration for a warehouse that held cases before it', async () => {
    const kept = await runsOf(t.wh);
    await t.wh.run(`DROP TABLE case_duration_runs`);
    await t.wh.run(`DELETE FROM schema_migrations WHERE version = '015_duration_runs.sql'`);
    t.wh.close();
    t.wh = await Warehouse.open(t.path);
    expect(await runsOf(t.wh)).toEqual(kept);
  });
});
