// The settled cases' stored masks change no figure: every KPI table computed with them equals the
// one computed by evaluating every case, on the demo city (contacts held: its closed cohort is
// evaluated live) and on the LA, NYC and SF exports (none held: both cohorts stored), at as-of
// times across and past each city's data — some exactly at a case's settled time — and after a
// service's due times change. Masks under another digest are not read, and the writer recomputes
// them. A stored mask altered by one bit changes the figures: the tables do read them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Warehouse } from '../db.ts';
import { computeKpis } from './kpis.ts';
import { ensureSettledMasks, refreshSettledMasks, settledMasksCurrent, settledMasksDigest } from './settled-masks.ts';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile, parseProfile } from '../../ingest/profile.ts';
import { loadAreasGeoJson } from '../../ingest/areas.ts';
import { assignPlaces } from '../../ingest/places.ts';
import { loadCalendars } from '../../ingest/calendars.ts';
import type { Dimension } from '../queries/case-predicates.ts';
import { demoWarehouse } from '../../test/demo-warehouse.ts';
import { fixture, LA311_CSV, tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';

const GROUPINGS: Dimension[][] = [['service', 'week'], ['service', 'day'], ['area', 'month'], ['service'], []];

/** The as-of times tried: spread over the data and 60 days past it, and two cases' settled times exactly. */
async function asOfTimes(wh: Warehouse): Promise<string[]> {
  const span = (await wh.one<{ first: number; last: number; o: string | null; c: string | null }>(
    `SELECT epoch_ms(min(opened_at))::DOUBLE AS first, epoch_ms(max(last_event_at))::DOUBLE AS last,
            strftime(quantile_disc(opened_settled_at, 0.5), '%Y-%m-%dT%H:%M:%S.%fZ') AS o,
            strftime(quantile_disc(closed_settled_at, 0.3), '%Y-%m-%dT%H:%M:%S.%fZ') AS c FROM cases`))!;
  const end = span.last + 60 * 86_400_000;
  const spread = Array.from({ length: 6 }, (_, i) => new Date(span.first + ((end - span.first) * (i + 1)) / 6).toISOString());
  return [...spread, ...[span.o, span.c].filter((t): t is string => t !== null)];
}

/** Every grouping's table at every as-of time (a window from the data's first day to the as-of day). */
async function tables(wh: Warehouse, times: readonly string[], timezone: string): Promise<unknown[]> {
  const first = (await wh.one<{ d: string }>(`SELECT strftime(min(opened_at) AT TIME ZONE $tz, '%Y-%m-%d') AS d FROM cases`, { tz: timezone }))!.d;
  const out: unknown[] = [];
  for (const as_of of times) {
    const to = new Date(new Date(as_of).toLocaleString('en-US', { timeZone: timezone })).toISOString().slice(0, 10);
    for (const by of GROUPINGS) out.push({ as_of, by, rows: (await computeKpis(wh, by, { from: first, to, as_of, timezone })).rows });
  }
  return out;
}

/** The tables with the stored masks read, then with every case evaluated (the digest taken away), then the digest put back. */
async function bothWays(wh: Warehouse, timezone: string) {
  expect(await settledMasksCurrent(wh)).toBe(true);
  const times = await asOfTimes(wh);
  const stored = await tables(wh, times, timezone);
  await wh.run('DELETE FROM settled_masks');
  expect(await settledMasksCurrent(wh)).toBe(false);
  const live = await tables(wh, times, timezone);
  await ensureSettledMasks(wh);
  return { stored, live, times };
}

async function storedCounts(wh: Warehouse) {
  return (await wh.one<{ n: number; opened: number; closed: number }>(
    'SELECT count(*)::INTEGER AS n, count(opened_mask)::INTEGER AS opened, count(closed_mask)::INTEGER AS closed FROM cases'))!;
}

describe('stored masks of settled cases', () => {
  let demo: TempWarehouse;
  beforeAll(async () => {
    demo = await demoWarehouse();
  });
  afterAll(() => demo.cleanup());

  it('change no figure of the demo city, and are read (one bit altered changes them)', async () => {
    const counts = await storedCounts(demo.wh);
    // Most cases are settled; the closed cohort's masks are stored too, though read only without contacts.
    expect(counts.opened).toBeGreaterThan(counts.n * 0.8);
    expect(counts.closed).toBeGreaterThan(counts.n * 0.5);
    const { stored, live, times } = await bothWays(demo.wh, 'America/New_York');
    expect(stored).toEqual(live);
    // The "closed by the as-of time" bit of every stored opened mask flipped: the tables move.
    await demo.wh.run('UPDATE cases SET opened_mask = xor(opened_mask, 1) WHERE opened_mask IS NOT NULL');
    expect(await tables(demo.wh, times.slice(-3), 'America/New_York')).not.toEqual(live.slice(-3 * GROUPINGS.length));
    await refreshSettledMasks(demo.wh);
    expect(await tables(demo.wh, times.slice(-3), 'America/New_York')).toEqual(live.slice(-3 * GROUPINGS.length));
  }, 300_000);

  it('are recomputed when a service\'s due times change, and still change no figure', async () => {
    const masks = (code: string) => demo.wh.all(`SELECT case_id, opened_settled_at, opened_mask, closed_settled_at, closed_mask FROM cases WHERE service_code = $code ORDER BY case_id`, { code });
    const services = parseProfile({ name: 's', kind: 'services', source: 'demo', timezone: 'UTC', columns: { service_code: 'code', name: 'name', sla_hours: 'sla', sla_calendar: 'cal' } });
    const name = async (code: string) => (await demo.wh.one<{ name: string }>(`SELECT name FROM services WHERE service_code = $code`, { code }))!.name;
    const [pothole, graffiti] = await Promise.all(['POTHOLE', 'GRAFFITI'].map(masks));
    // Potholes due an hour after opening (SLA hours); graffiti 2 working hours on a business calendar.
    await loadCalendars(demo.wh, demo.write('cal.json', JSON.stringify([{ calendar_id: 'office', timezone: 'America/New_York', hours: { mon: ['09:00', '17:00'], tue: ['09:00', '17:00'] }, holidays: [] }])));
    await ingestFile(demo.wh, demo.write('s.csv', `code,name,sla,cal\nPOTHOLE,${await name('POTHOLE')},1,\nGRAFFITI,${await name('GRAFFITI')},2,office\n`), services);
    expect(await masks('POTHOLE')).not.toEqual(pothole);
    expect(await masks('GRAFFITI')).not.toEqual(graffiti);
    const { stored, live } = await bothWays(demo.wh, 'America/New_York');
    expect(stored).toEqual(live);
  }, 300_000);

  it('under another digest are not read, and the writer recomputes them', async () => {
    await demo.wh.run(`UPDATE settled_masks SET digest = 'an earlier version'`);
    await demo.wh.run('UPDATE cases SET opened_mask = 0, closed_mask = 0');
    expect(await settledMasksCurrent(demo.wh)).toBe(false);
    expect(await ensureSettledMasks(demo.wh)).toBe(true);
    expect((await demo.wh.one<{ d: string }>('SELECT digest AS d FROM settled_masks'))?.d).toBe(settledMasksDigest());
    expect((await demo.wh.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM cases WHERE opened_mask = 0'))?.n).toBeLessThan(100);
    expect(await ensureSettledMasks(demo.wh)).toBe(false);
  }, 120_000);
});

describe.each([
  ['LA', LA311_CSV, 'myla311', 'America/Los_Angeles'],
  ['NYC', fixture('nyc311/nyc311_2011_sample_2000.csv'), 'nyc311', 'America/New_York'],
  ['SF', fixture('sf311/sf311_cases_sample_10000.csv'), 'sf311', 'America/Los_Angeles'],
])('stored masks on the %s export', (city, file, profile, timezone) => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse();
    await ingestFile(t.wh, file, loadProfile(profile));
    if (city === 'LA') {
      await loadAreasGeoJson(t.wh, fixture('la311/la_council_districts_2012.geojson'), { kind: 'council_district', idProperty: 'external_id', nameProperty: 'name' });
      await assignPlaces(t.wh);
    }
  }, 300_000);
  afterAll(() => t.cleanup());

  it('change no figure of either cohort', async () => {
    const counts = await storedCounts(t.wh);
    expect(counts.opened).toBeGreaterThan(0);
    expect(counts.closed).toBeGreaterThan(0);
    const { stored, live } = await bothWays(t.wh, timezone);
    expect(stored).toEqual(live);
  }, 300_000);
});
