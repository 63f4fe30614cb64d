// Every real export in the fixtures through its built-in profile, with exact counts. The counts
// of flagged rows match what the data's own README measured (rows closing before they open,
// Open311 defaults at 0,0), so these are checks against the data, not against ourselves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { SourceFormatError } from '../../ingest/readers/records.ts';
import { MappingError } from '../../ingest/map-sql.ts';
import { fixture, LA311_CSV, tempWarehouse, type TempWarehouse } from '../helpers.ts';

describe('real city exports through built-in profiles', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  it.each([
    // file, profile, timezone override, read, loaded, rejected, duplicate, flagged, events
    ['nyc311/nyc311_2011_sample_2000.csv', 'nyc311', undefined, 2000, 2000, 0, 0, 1, 3958],
    ['sf311/sf311_cases_sample_10000.csv', 'sf311', undefined, 10000, 10000, 0, 0, 129, 19530],
    ['la311/MyLA311_Service_Request_Data_2017_Subset.csv', 'myla311', undefined, 9999, 9999, 0, 0, 12, 19993],
    ['open311/chicago_open311_requests_2014_sample.json', 'open311', undefined, 50, 50, 0, 0, 0, 276],
    ['open311/sf_open311_dashboard_fixture_500_requests.json', 'open311', 'America/Los_Angeles', 500, 500, 0, 0, 59, 871],
    ['open311/spec_v2/xml-service-requests.xml', 'open311', undefined, 2, 2, 0, 0, 0, 3],
    ['open311/spec_v2/xml-service-request.xml', 'open311', undefined, 1, 0, 0, 1, 0, 0],
    ['open311/spec_v2/xml-service-list.xml', 'open311-services', undefined, 3, 3, 0, 0, 0, 0],
  ] as const)('%s with %s', async (file, name, tz, read, loaded, rejected, duplicate, flagged, events) => {
    const profile = loadProfile(name);
    if (tz) profile.timezone = tz;
    const r = await ingestFile(t.wh, fixture(file), profile);
    expect({ read: r.read, loaded: r.loaded, rejected: r.rejected, duplicate: r.duplicate, flagged: r.flagged, events: r.events_added })
      .toEqual({ read, loaded, rejected, duplicate, flagged, events });
    expect(r.read).toBe(r.loaded + r.rejected + r.duplicate);
  });

  it('SF: the "(lat, lon)" text becomes coordinates; the 24 rows without a Point have none', async () => {
    const c = await t.wh.one<{ with: number; without: number }>(
      `SELECT count(lat)::INTEGER AS with, (count(*) - count(lat))::INTEGER AS without FROM cases WHERE source = 'sf311'`,
    );
    expect(c).toEqual({ with: 9976, without: 24 });
    const one = await t.wh.one(`SELECT lat, lon, channel FROM cases WHERE case_id = 'sf311:3600298'`);
    expect(one).toEqual({ lat: 37.774007256355, lon: -122.395680023339, channel: 'phone' });
  });

  it('SF: 470 cases still open, 129 closed before they opened (flagged, kept)', async () => {
    const c = await t.wh.one(`SELECT count(*) FILTER (WHERE status = 'open')::INTEGER AS open,
      count(*) FILTER (WHERE list_contains(quality_flags, 'closed_before_opened'))::INTEGER AS negative FROM cases WHERE source = 'sf311'`);
    expect(c).toEqual({ open: 470, negative: 129 });
  });

  it("Chicago: the notes[] trail becomes case events, with the channel from extended_attributes", async () => {
    const types = await t.wh.all(`SELECT event_type, count(*)::INTEGER AS n FROM case_events
      WHERE case_id IN (SELECT case_id FROM cases WHERE source_case_id LIKE '14-%') GROUP BY 1 ORDER BY 1`);
    // notes: opened 50 (= the requests), closed 49 (= the closed ones), submitted 13, activity 61, follow-ons 52 + 51.
    expect(types).toEqual([
      { event_type: 'acknowledged', n: 13 },
      { event_type: 'closed', n: 49 },
      { event_type: 'note', n: 164 },
      { event_type: 'opened', n: 50 },
    ]);
    const ch = await t.wh.all(`SELECT channel, count(*)::INTEGER AS n FROM cases WHERE source_case_id LIKE '14-%' GROUP BY 1 ORDER BY 1`);
    expect(ch).toEqual([{ channel: 'app', n: 3 }, { channel: 'phone', n: 37 }, { channel: 'web', n: 10 }]);
    // Offsets in the data are honoured: 19:02:21 at −05:00 is 00:02:21 UTC the next day.
    const c = await t.wh.one<{ t: string }>(`SELECT strftime(opened_at, '%Y-%m-%dT%H:%M:%SZ') AS t FROM cases WHERE source_case_id = '14-00684314'`);
    expect(c?.t).toBe('2014-05-10T00:02:21Z');
  });

  it('SF Open311: the 26 requests geocoded to 0,0 keep no location; expected_datetime is the due time', async () => {
    const c = await t.wh.one(`SELECT count(*) FILTER (WHERE list_contains(quality_flags, 'default_point'))::INTEGER AS defaults,
      count(due_at)::INTEGER AS due FROM cases WHERE source = 'open311' AND source_case_id NOT LIKE '14-%' AND source_case_id NOT LIKE '6383%'`);
    expect(c).toEqual({ defaults: 26, due: 322 });
  });

  it('refuses, with line and column, the spec examples that are not valid JSON', async () => {
    for (const f of ['json-service-requests.json', 'json-service-request.json']) {
      await expect(ingestFile(t.wh, fixture(`open311/spec_v2/${f}`), loadProfile('open311'))).rejects.toThrow(/is not valid JSON: .*\(line 7, column 21\)/);
    }
    await expect(ingestFile(t.wh, fixture('open311/spec_v2/json-service-list.json'), loadProfile('open311-services'))).rejects.toThrow(/\(line 3, column 21\)/);
  });

  it('refuses every other spec example with a clear error, and nothing is half-loaded', async () => {
    const before = await t.wh.one(`SELECT (SELECT count(*) FROM case_events)::INTEGER e, (SELECT count(*) FROM ingest_batches)::INTEGER b`);
    const names = readdirSync(fixture('open311/spec_v2')).filter((f) => !/service-requests?\.|service-list/.test(f));
    expect(names).toHaveLength(8);
    for (const f of names) {
      const err = await ingestFile(t.wh, fixture(`open311/spec_v2/${f}`), loadProfile('open311')).then(() => null, (e: Error) => e);
      expect(err, f).toBeInstanceOf(Error);
      expect(err instanceof SourceFormatError || err instanceof MappingError, `${f}: ${err?.message}`).toBe(true);
    }
    const after = await t.wh.one(`SELECT (SELECT count(*) FROM case_events)::INTEGER e, (SELECT count(*) FROM ingest_batches)::INTEGER b`);
    expect(after).toEqual(before);
  });

  it('the same LA file again loads nothing', async () => {
    const r = await ingestFile(t.wh, LA311_CSV, loadProfile('myla311'));
    expect(r).toMatchObject({ loaded: 0, duplicate: 9999, events_added: 0 });
  });
});
