// The loader rebuilds only what a batch changed (ingest/refresh-cases.ts): new cases from the
// batch's own events, a moved point looked up again, an unmoved one keeping its place. Whatever
// it skipped must be what a full recomputation gives; and the batch's memory budget is put back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { loadAreasGeoJson } from '../../ingest/areas.ts';
import { assignPlaces } from '../../ingest/places.ts';
import { parseMemorySize, withoutInsertionOrder } from '../../ingest/memory-budget.ts';
import { tempWarehouse, type TempWarehouse } from '../helpers.ts';

const HEADER = 'request_id,service_code,service_name,agency,channel,status,requested_at,closed_at,lat,lon,district';
// Two districts: a west square and an east square over the demo city's bounding box.
const square = (x0: number, y0: number, x1: number, y1: number) => ({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });

describe('a daily load after a first one', () => {
  let t: TempWarehouse;
  const profile = loadProfile('demo-city');
  const snapshot = async () => ({
    cases: await t.wh.all(`SELECT * EXCLUDE (refreshed_batch) FROM cases ORDER BY case_id`),
    areas: await t.wh.all(`SELECT * FROM case_areas ORDER BY case_id, area_kind`),
  });
  beforeAll(async () => {
    t = await tempWarehouse();
    const areas = t.write('districts.geojson', JSON.stringify({
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', geometry: square(-77.45, 41.1, -77.3, 41.3), properties: { id: 'W', name: 'West' } },
        { type: 'Feature', geometry: square(-77.3, 41.1, -77.15, 41.3), properties: { id: 'E', name: 'East' } },
      ],
    }));
    await loadAreasGeoJson(t.wh, areas, { kind: 'district', idProperty: 'id', nameProperty: 'name' });
  });
  afterAll(() => t.cleanup());

  it('places new cases, re-places a moved point, keeps an unmoved one, and agrees with placing everything again', async () => {
    const day1 = t.write('day1.csv', [HEADER,
      'A,POTHOLE,Pothole Repair,Streets,phone,open,2026-01-05T10:00:00Z,,41.2,-77.4,',
      'B,POTHOLE,Pothole Repair,Streets,web,open,2026-01-05T11:00:00Z,,41.2,-77.2,',
      'C,TRASH,Missed Trash Pickup,Sanitation,app,open,2026-01-05T12:00:00Z,,,,East',
      // The same case twice in one file: its events once.
      'C,TRASH,Missed Trash Pickup,Sanitation,app,open,2026-01-05T12:00:00Z,,,,East',
    ].join('\n') + '\n');
    const r1 = await ingestFile(t.wh, day1, profile);
    expect(r1).toMatchObject({ read: 4, loaded: 3, duplicate: 1, events_added: 3 });
    expect(await t.wh.all(`SELECT case_id, area_id, h3_r9 IS NOT NULL AS cell FROM cases ORDER BY 1`)).toEqual([
      { case_id: 'demo:A', area_id: 'district:W', cell: true },
      { case_id: 'demo:B', area_id: 'district:E', cell: true },
      { case_id: 'demo:C', area_id: 'district:E', cell: false },
    ]);

    // Day 2: A closed where it was, B closed at a point in the other district, D new.
    const day2 = t.write('day2.csv', [HEADER,
      'A,POTHOLE,Pothole Repair,Streets,phone,closed,2026-01-05T10:00:00Z,2026-01-06T09:00:00Z,41.2,-77.4,',
      'B,POTHOLE,Pothole Repair,Streets,web,closed,2026-01-05T11:00:00Z,2026-01-06T10:00:00Z,41.2,-77.35,',
      'D,NOISE,Noise Complaint,Code Enforcement,phone,open,2026-01-06T08:00:00Z,,41.15,-77.2,',
    ].join('\n') + '\n');
    const r2 = await ingestFile(t.wh, day2, profile);
    expect(r2).toMatchObject({ read: 3, loaded: 3, duplicate: 0, events_added: 3 });
    expect(await t.wh.all(`SELECT case_id, status, area_id FROM cases ORDER BY 1`)).toEqual([
      { case_id: 'demo:A', status: 'closed', area_id: 'district:W' },
      { case_id: 'demo:B', status: 'closed', area_id: 'district:W' },
      { case_id: 'demo:C', status: 'open', area_id: 'district:E' },
      { case_id: 'demo:D', status: 'open', area_id: 'district:E' },
    ]);
    expect(await t.wh.all(`SELECT case_id, area_id, method FROM case_areas ORDER BY 1`)).toEqual([
      { case_id: 'demo:A', area_id: 'district:W', method: 'point' },
      { case_id: 'demo:B', area_id: 'district:W', method: 'point' },
      { case_id: 'demo:C', area_id: 'district:E', method: 'source_name' },
      { case_id: 'demo:D', area_id: 'district:E', method: 'point' },
    ]);
    // Local days are written with the rows, in the warehouse's zone.
    expect(await t.wh.all(`SELECT DISTINCT day_zone FROM cases`)).toEqual([{ day_zone: 'America/New_York' }]);
    expect(await t.wh.one(`SELECT opened_day::VARCHAR AS o, closed_day::VARCHAR AS c FROM cases WHERE case_id = 'demo:A'`)).toEqual({ o: '2026-01-05', c: '2026-01-06' });

    // What the loader skipped is what placing every case again gives.
    const before = await snapshot();
    await assignPlaces(t.wh);
    expect(await snapshot()).toEqual(before);

    // The same file again: nothing added, nothing rebuilt — and, as it is the file loaded last,
    // not even read into the warehouse: recorded as that batch again.
    const r3 = await ingestFile(t.wh, day2, profile);
    expect(r3).toMatchObject({ read: 3, loaded: 0, duplicate: 3, events_added: 0, same_as: r2.batch_id });
    expect(await snapshot()).toEqual(before);
  });

  it('records an unchanged file loaded last as the same again, and reads it whenever anything was loaded since', async () => {
    const file = t.write('again.csv', [HEADER,
      'R1,POTHOLE,Pothole Repair,Streets,phone,open,2026-02-02T08:00:00Z,,41.2,-77.3,',
      'R2,POTHOLE,Pothole Repair,Streets,phone,closed,2026-02-02T09:00:00Z,not a time,41.2,-77.3,',
      'R3,TRASH,Missed Trash Pickup,Sanitation,web,closed,2026-02-02T10:00:00Z,2026-02-03T10:00:00Z,41.2,-77.3,'].join('\n') + '\n');
    const first = await ingestFile(t.wh, file, profile);
    expect(first).toMatchObject({ read: 3, loaded: 2, rejected: 1, duplicate: 0 });
    expect(first.same_as).toBeUndefined();
    const rejects = (b: string) => t.wh.all(`SELECT row_number, field, reason FROM ingest_rejects WHERE batch_id = $b ORDER BY row_number`, { b });
    const again = await ingestFile(t.wh, file, profile);
    expect(again).toMatchObject({ read: 3, loaded: 0, rejected: 1, duplicate: 2, events_added: 0, same_as: first.batch_id });
    // Its rejected row is kept under the new batch too, with its reason, as a full read keeps it.
    expect(await rejects(again.batch_id)).toEqual(await rejects(first.batch_id));
    expect(await t.wh.one(`SELECT rows_read, rows_loaded, rows_rejected, rows_duplicate, same_as FROM ingest_batches WHERE batch_id = $b`, { b: again.batch_id }))
      .toEqual({ rows_read: 3, rows_loaded: 0, rows_rejected: 1, rows_duplicate: 2, same_as: first.batch_id });
    // The same bytes under another profile are another reading: read in full.
    const other = { ...profile, name: `${profile.name}-copy` };
    expect((await ingestFile(t.wh, file, other)).same_as).toBeUndefined();
    // Another file loaded in between: the first is read in full again (and finds nothing new).
    await ingestFile(t.wh, t.write('between.csv', `${HEADER}\nR9,TREE,Tree Maintenance,Parks,web,open,2026-02-04T08:00:00Z,,41.2,-77.3,\n`), profile);
    const full = await ingestFile(t.wh, file, profile);
    expect(full).toMatchObject({ read: 3, loaded: 0, rejected: 1, duplicate: 2, events_added: 0 });
    expect(full.same_as).toBeUndefined();
  });

  it('runs a batch under its own memory budget and puts the warehouse\'s limit back', async () => {
    const limit = async () => parseMemorySize((await t.wh.one<{ v: string }>(`SELECT current_setting('memory_limit') AS v`))!.v)!;
    const before = await limit();
    const file = t.write('day3.csv', `${HEADER}\nE,TREE,Tree Maintenance,Parks,web,open,2026-01-07T08:00:00Z,,41.2,-77.3,\n`);
    expect(await ingestFile(t.wh, file, profile, { memoryLimit: '256MiB' })).toMatchObject({ loaded: 1 });
    const after = await limit();
    expect(Math.abs(after - before) / before).toBeLessThan(0.05); // put back, as DuckDB reports it
    await expect(ingestFile(t.wh, file, profile, { memoryLimit: 'lots' })).rejects.toThrow('Not a memory size');
    // The batch finds its new events without insertion order (that kept 10M rows within the
    // budget), and the setting is the warehouse's again afterwards.
    expect(await insertionOrder()).toBe(true);
  });

  // Fault injection: a statement fails as DuckDB fails when it runs out of memory, with DuckDB's
  // message — while the batch is built (the new events, built without insertion order), and
  // while it is written, inside its transaction, which a failing statement aborts (then even a
  // SET that turns a setting back is refused).
  it.each([
    ['while it is built (its new events)', /TEMP TABLE new_events/, 'day4'],
    ['while it is written (its events)', /INSERT INTO case_events/, 'day5'],
  ])('runs a batch again when it runs out of memory under the budget %s, and puts insertion order back', async (_when, at, name) => {
    const wh = t.wh as unknown as { run: (sql: string, params?: unknown) => Promise<void> };
    const run = wh.run.bind(t.wh);
    let injected = 0;
    wh.run = async (sql, params) => {
      if (injected === 0 && at.test(sql)) {
        injected++;
        await run(`SELECT 'x'::INTEGER`).catch(() => undefined);
        throw new Error('Out of Memory Error: failed to pin block of size 256.0 KiB (injected)');
      }
      return run(sql, params);
    };
    const id = name.toUpperCase();
    const file = t.write(`${name}.csv`, `${HEADER}\n${id},TREE,Tree Maintenance,Parks,web,open,2026-01-08T08:00:00Z,,41.2,-77.3,\n`);
    try {
      const r = await ingestFile(t.wh, file, profile, { memoryLimit: '256MiB' });
      expect(r).toMatchObject({ loaded: 1, events_added: 1 });
      // DuckDB's own message reached the fallback (not the refused SET's), and the batch says what happened.
      expect(r.warnings.join(' ')).toMatch(/ran out of memory under the batch's 256MiB budget \(Out of Memory Error: .*injected\)/);
    } finally {
      delete (wh as { run?: unknown }).run;
    }
    expect(injected).toBe(1);
    expect(await insertionOrder()).toBe(true);
    // The first attempt left nothing behind: one batch, one case.
    expect(await t.wh.one(`SELECT count(*)::INTEGER AS n FROM ingest_batches WHERE file_name = $f`, { f: `${name}.csv` })).toEqual({ n: 1 });
    expect(await t.wh.one(`SELECT count(*)::INTEGER AS n FROM case_events WHERE case_id = $c`, { c: `demo:${id}` })).toEqual({ n: 1 });
  });

  const insertionOrder = async () => (await t.wh.one<{ v: boolean }>(`SELECT current_setting('preserve_insertion_order') AS v`))!.v;

  it('runs a statement without insertion order and puts the setting back, also when it fails', async () => {
    expect(await withoutInsertionOrder(t.wh, insertionOrder)).toBe(false);
    expect(await insertionOrder()).toBe(true);
    await expect(withoutInsertionOrder(t.wh, () => t.wh.run('SELECT * FROM no_such_table'))).rejects.toThrow(/no_such_table/);
    expect(await insertionOrder()).toBe(true);
    // Failing inside a transaction: the statement's own error comes out, not the refused SET's.
    await expect(t.wh.transaction(() => withoutInsertionOrder(t.wh, () => t.wh.run(`SELECT 'x'::INTEGER`)))).rejects.toThrow(/Conversion Error/);
    await t.wh.run('SET preserve_insertion_order = true');
    // Already off (someone chose it): left off.
    await t.wh.run('SET preserve_insertion_order = false');
    try {
      expect(await withoutInsertionOrder(t.wh, insertionOrder)).toBe(false);
      expect(await insertionOrder()).toBe(false);
    } finally {
      await t.wh.run('SET preserve_insertion_order = true');
    }
  });
});

describe('parseMemorySize', () => {
  it('reads the sizes DuckDB and people write', () => {
    expect(parseMemorySize('1GiB')).toBe(2 ** 30);
    expect(parseMemorySize('6.0 GiB')).toBe(6 * 2 ** 30);
    expect(parseMemorySize('512MB')).toBe(512e6);
    expect(parseMemorySize('-1')).toBeNull();
    expect(parseMemorySize('lots')).toBeNull();
  });
});

// A batch is built from what the warehouse holds before its transaction (ingest/load.ts). Batches
// run one at a time here; were a second writer connection to land one meanwhile, the first is
// not written from what it read before: it is built again from what is there.
describe('a batch another one landed beside while it was built', () => {
  it('is built again, and the warehouse is what loading the two one after the other gives', async () => {
    const profile = loadProfile('demo-city');
    const race = await tempWarehouse();
    const calm = await tempWarehouse();
    try {
      const base = race.write('base.csv', `${HEADER}\nR1,POTHOLE,Pothole Repair,Streets,phone,open,2026-01-05T10:00:00Z,,41.2,-77.4,\n`);
      // A closes R1 and opens R2; B moves R1 to Parks at another point, and opens R3.
      const a = race.write('a.csv', `${HEADER}\nR1,POTHOLE,Pothole Repair,Streets,phone,closed,2026-01-05T10:00:00Z,2026-01-07T10:00:00Z,41.2,-77.4,\n` +
        'R2,TREE,Tree Maintenance,Parks,web,open,2026-01-06T09:00:00Z,,41.21,-77.35,\n');
      const b = race.write('b.csv', `${HEADER}\nR1,POTHOLE,Pothole Repair,Parks,phone,open,2026-01-05T10:00:00Z,,41.25,-77.2,\n` +
        'R3,TREE,Tree Maintenance,Parks,web,open,2026-01-06T11:00:00Z,,41.22,-77.31,\n');
      for (const f of [base, b, a]) await ingestFile(calm.wh, f, profile);

      await ingestFile(race.wh, base, profile);
      const other = await race.wh.connect();
      const wh = race.wh as unknown as { run: (sql: string, params?: unknown) => Promise<void> };
      const run = wh.run.bind(race.wh);
      let built = 0;
      wh.run = async (sql, params) => {
        // A's cases are being rebuilt from what it read; B lands meanwhile, on its own connection.
        if (/CREATE OR REPLACE TEMP TABLE refreshed_cases AS\s+WITH ev AS/.test(sql) && built++ === 0) await ingestFile(other, b, profile);
        return run(sql, params);
      };
      try {
        const r = await ingestFile(race.wh, a, profile);
        expect(r).toMatchObject({ read: 2, loaded: 2 });
      } finally {
        delete (wh as { run?: unknown }).run;
        other.close();
      }
      expect(built).toBe(2);
      const state = (w: typeof race.wh) => w.all(`SELECT * EXCLUDE (refreshed_batch) FROM cases ORDER BY case_id`);
      const events = (w: typeof race.wh) => w.all(`SELECT * EXCLUDE (batch_id) FROM case_events ORDER BY event_id`);
      expect(await state(race.wh)).toEqual(await state(calm.wh));
      expect(await events(race.wh)).toEqual(await events(calm.wh));
      expect(await state(race.wh)).toContainEqual(expect.objectContaining({ case_id: 'demo:R1', agency: 'Streets', status: 'closed', lat: 41.2 }));
    } finally {
      race.cleanup();
      calm.cleanup();
    }
  });
});
