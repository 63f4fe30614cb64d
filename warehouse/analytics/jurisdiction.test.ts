import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Warehouse } from '../db.ts';
import { NO_JURISDICTION, recordedJurisdiction, recordJurisdiction, resolveJurisdiction } from './jurisdiction.ts';

const FROM_DATA = { jurisdiction: null, timezone: null };

describe('the jurisdiction a warehouse records', () => {
  let wh: Warehouse;
  beforeEach(async () => {
    wh = await Warehouse.open(':memory:');
  });
  afterEach(() => wh.close());

  it('says "(no data yet)" in UTC when nothing is recorded or configured', async () => {
    expect(await recordedJurisdiction(wh)).toBeNull();
    expect(await resolveJurisdiction(wh, FROM_DATA)).toEqual({ ...NO_JURISDICTION, source: 'default', timezone_source: 'default' });
    expect(NO_JURISDICTION).toEqual({ name: '(no data yet)', timezone: 'UTC' });
  });

  it('a real ingest replaces the demo city, the demo city never replaces a real one, and there is only ever one row', async () => {
    expect(await recordJurisdiction(wh, { name: 'Riverton (demo city)', timezone: 'America/New_York', source: 'demo' })).toMatchObject({ recorded: true, previous: null });
    expect(await resolveJurisdiction(wh, FROM_DATA)).toEqual({ name: 'Riverton (demo city)', timezone: 'America/New_York', source: 'demo', timezone_source: 'demo' });
    const la = await recordJurisdiction(wh, { name: 'City of Los Angeles', timezone: 'America/Los_Angeles', source: 'ingest', batch_id: 'b1' });
    expect(la).toMatchObject({ recorded: true, previous: { name: 'Riverton (demo city)', source: 'demo' } });
    expect(await recordJurisdiction(wh, { name: 'Riverton (demo city)', timezone: 'America/New_York', source: 'demo' })).toMatchObject({ recorded: false });
    expect(await recordJurisdiction(wh, { name: 'New York City', timezone: 'America/New_York', source: 'ingest' })).toMatchObject({ recorded: false });
    expect(await recordedJurisdiction(wh)).toMatchObject({ name: 'City of Los Angeles', timezone: 'America/Los_Angeles', source: 'ingest', batch_id: 'b1' });
    expect(await recordJurisdiction(wh, { name: 'Los Angeles', timezone: 'America/Los_Angeles', source: 'config' })).toMatchObject({ recorded: true });
    expect((await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM jurisdiction`))?.n).toBe(1);
  });

  it('configured values win, each on its own', async () => {
    await recordJurisdiction(wh, { name: 'City of Los Angeles', timezone: 'America/Los_Angeles', source: 'ingest' });
    expect(await resolveJurisdiction(wh, { jurisdiction: 'Los Angeles', timezone: 'America/Phoenix' })).toEqual({ name: 'Los Angeles', timezone: 'America/Phoenix', source: 'config', timezone_source: 'config' });
    expect(await resolveJurisdiction(wh, { jurisdiction: 'LA', timezone: null })).toEqual({ name: 'LA', timezone: 'America/Los_Angeles', source: 'config', timezone_source: 'ingest' });
    expect(await resolveJurisdiction(wh, { jurisdiction: null, timezone: 'UTC' })).toEqual({ name: 'City of Los Angeles', timezone: 'UTC', source: 'ingest', timezone_source: 'config' });
  });

  it('a warehouse loaded before the table existed gets its row from its batches (migration 008)', async () => {
    const replay = async () => {
      await wh.run(`DROP TABLE jurisdiction`);
      await wh.run(`DELETE FROM schema_migrations WHERE version = '008_jurisdiction.sql'`);
      await wh.migrate();
      return recordedJurisdiction(wh);
    };
    const batch = (id: string, profile: string, source: string, at: string) =>
      wh.run(`INSERT INTO ingest_batches (batch_id, source, kind, profile, started_at, rows_loaded) VALUES ($id, $s, 'cases', $p, $at::TIMESTAMPTZ, 10)`, { id, s: source, p: profile, at });
    const event = (source: string) =>
      wh.run(`INSERT INTO case_events (event_id, case_id, event_type, occurred_at, source, batch_id, source_case_id) VALUES (md5($s), $s || ':1', 'opened', now(), $s, 'b', '1')`, { s: source });
    expect(await replay()).toBeNull();
    await batch('b0', 'demo-city', 'demo', '2024-01-01T00:00:00Z');
    await event('demo');
    expect(await replay()).toMatchObject({ name: 'Riverton (demo city)', timezone: 'America/New_York', source: 'demo' });
    await batch('b2', 'nyc311', 'nyc311', '2024-03-01T00:00:00Z');
    await batch('b1', 'myla311', 'la311', '2024-02-01T00:00:00Z');
    await event('la311');
    expect(await replay()).toMatchObject({ name: 'City of Los Angeles', timezone: 'America/Los_Angeles', source: 'ingest', batch_id: 'b1' });
  });
});
