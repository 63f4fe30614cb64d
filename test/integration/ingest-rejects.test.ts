// A hand-made dirty export: every bad row is kept with its row number and reason, nothing is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestCasesCsv, type IngestResult } from '../../ingest/load-cases.ts';
import { loadProfile, parseProfile, ProfileError } from '../../ingest/profile.ts';
import { MappingError } from '../../ingest/map-sql.ts';
import { fixture, tempWarehouse, type TempWarehouse } from '../helpers.ts';

describe('rows that cannot be loaded', () => {
  let t: TempWarehouse;
  let r: IngestResult;
  const profile = loadProfile(fixture('dirty-profile.json'));
  beforeAll(async () => {
    t = await tempWarehouse();
    r = await ingestCasesCsv(t.wh, fixture('dirty-cases.csv'), profile);
  });
  afterAll(() => t.cleanup());

  it('read = loaded + rejected + duplicate', () => {
    expect(r).toMatchObject({ read: 10, loaded: 4, rejected: 5, duplicate: 1, flagged: 2 });
  });

  it('keeps each reject with its row number, field and reason', async () => {
    const rejects = await t.wh.all(`SELECT row_number, field, reason FROM ingest_rejects WHERE batch_id = $b ORDER BY row_number`, { b: r.batch_id });
    expect(rejects).toEqual([
      { row_number: 2, field: 'case_id', reason: 'missing case_id (column "id")' },
      { row_number: 3, field: 'opened_at', reason: 'unparseable date "2024-13-45 10:00:00" (expected ISO 8601)' },
      { row_number: 4, field: 'closed_at', reason: 'unparseable date "yesterday" (expected ISO 8601)' },
      { row_number: 5, field: null, reason: "malformed CSV record (line 6): more fields than the header's 11" },
      { row_number: 10, field: 'opened_at', reason: 'missing opened_at (column "created")' },
    ]);
  });

  it('keeps only mapped columns of a rejected row: unmapped personal fields never enter the warehouse', async () => {
    const raw = await t.wh.one<{ raw: string }>(`SELECT raw FROM ingest_rejects WHERE row_number = 3`);
    expect(JSON.parse(raw!.raw)).toEqual({ id: 'A3', created: '2024-13-45 10:00:00', closed: null, type: 'Graffiti', source: 'Web', status: 'Open', lat: '41.89', lon: '-87.62' });
    // Positive control: the search does see values that were loaded.
    const control = await t.wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ingest_rejects t WHERE t::VARCHAR LIKE '%Graffiti%'`);
    expect(control?.n).toBe(2);
    for (const table of ['case_events', 'cases', 'ingest_rejects', 'ingest_batches']) {
      const hits = await t.wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${table} t WHERE t::VARCHAR LIKE '%555-01%' OR t::VARCHAR LIKE '%Jane Roe%'`);
      expect(hits?.n, table).toBe(0);
    }
  });

  it('loads useful rows with data-quality flags instead of rejecting them', async () => {
    const flagged = await t.wh.all(`SELECT source_case_id, quality_flags, lat FROM cases WHERE quality_flags IS NOT NULL ORDER BY 1`);
    expect(flagged).toEqual([
      { source_case_id: 'A6', quality_flags: ['closed_before_opened'], lat: 41.87 },
      { source_case_id: 'A7', quality_flags: ['default_point'], lat: null },
    ]);
  });

  it('reads a quoted field with a line break as one record, and maps local Chicago time to UTC', async () => {
    const c = await t.wh.one<{ opened: string; closed: string; channel: string }>(
      `SELECT strftime(opened_at, '%Y-%m-%dT%H:%MZ') AS opened, strftime(closed_at, '%Y-%m-%dT%H:%MZ') AS closed, channel FROM cases WHERE source_case_id = 'A8'`,
    );
    expect(c).toEqual({ opened: '2024-03-07T14:00Z', closed: '2024-03-07T18:30Z', channel: 'phone' });
  });

  it('names the profile columns a file lacks, and lists the columns it has', async () => {
    const bad = { ...profile, columns: { ...profile.columns, agency: 'Department' } };
    await expect(ingestCasesCsv(t.wh, fixture('dirty-cases.csv'), bad)).rejects.toThrow(MappingError);
    await expect(ingestCasesCsv(t.wh, fixture('dirty-cases.csv'), bad)).rejects.toThrow(/agency → "Department".*"caller_phone"/s);
    // …and the failed batch left nothing behind.
    const batches = await t.wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ingest_batches`);
    expect(batches?.n).toBe(1);
  });

  it('rejects an invalid profile with every problem named', () => {
    expect(() => parseProfile({ ...profile, timezone: 5, columns: { opened_at: 'x' } }, 'p.json')).toThrow(ProfileError);
    expect(() => parseProfile({ ...profile, columns: { opened_at: 'x' } }, 'p.json')).toThrow(/p\.json[\s\S]*case_id/);
    expect(() => loadProfile('no-such-profile')).toThrow(/no built-in profile/);
  });

  it('rejects a file with a bad date format in the profile row by row, not wholesale', async () => {
    const path = join(t.dir, 'us-dates.csv');
    writeFileSync(path, 'id,created\nB1,03/01/2024 09:00:00 AM\nB2,2024-03-01T09:00:00Z\n');
    const p = parseProfile({ name: 'us', kind: 'cases', source: 'us', format: 'csv', timezone: 'America/New_York', timestamp_format: '%m/%d/%Y %I:%M:%S %p', columns: { case_id: 'id', opened_at: 'created' } });
    const res = await ingestCasesCsv(t.wh, path, p);
    expect(res).toMatchObject({ read: 2, loaded: 1, rejected: 1 });
    const why = await t.wh.one<{ reason: string }>(`SELECT reason FROM ingest_rejects WHERE batch_id = $b`, { b: res.batch_id });
    expect(why?.reason).toBe('unparseable date "2024-03-01T09:00:00Z" (expected %m/%d/%Y %I:%M:%S %p)');
  });
});
