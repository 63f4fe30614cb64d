import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from './config.ts';

describe('configuration', () => {
  it('has working defaults: port 3000, a DuckDB file under ./data', () => {
    const c = parseConfig({}, '/srv/civic');
    expect(c).toMatchObject({ port: 3000, database: '/srv/civic/data/civic.duckdb', seed_demo_when_empty: true });
    expect(c.reports.schedules).toEqual([{ report: 'weekly-summary', cron: '0 7 * * 1' }]);
  });

  it('reads civic.config.json, then lets environment variables override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'civic-config-'));
    writeFileSync(join(dir, 'civic.config.json'), JSON.stringify({ timezone: 'America/Los_Angeles', port: 8080 }));
    expect(loadConfig({}, dir)).toMatchObject({ timezone: 'America/Los_Angeles', port: 8080 });
    expect(loadConfig({ PORT: '9090', CIVIC_DATABASE: 'x.duckdb' }, dir)).toMatchObject({ port: 9090, database: join(dir, 'x.duckdb') });
  });

  it('leaves the jurisdiction and time zone to the data unless the file or the environment sets them', () => {
    // null = "from the data": the first real ingest records them (warehouse/analytics/jurisdiction.ts).
    expect(parseConfig({}, '/srv/civic')).toMatchObject({ jurisdiction: null, timezone: null });
    const dir = mkdtempSync(join(tmpdir(), 'civic-config-'));
    writeFileSync(join(dir, 'civic.config.json'), JSON.stringify({ jurisdiction: 'City of Los Angeles', timezone: 'America/Los_Angeles' }));
    expect(loadConfig({}, dir)).toMatchObject({ jurisdiction: 'City of Los Angeles', timezone: 'America/Los_Angeles' });
    expect(loadConfig({ CIVIC_JURISDICTION: 'Los Angeles', CIVIC_TIMEZONE: 'America/Phoenix' }, dir)).toMatchObject({ jurisdiction: 'Los Angeles', timezone: 'America/Phoenix' });
    expect(loadConfig({ CIVIC_TIMEZONE: 'America/Chicago' }, mkdtempSync(join(tmpdir(), 'civic-config-')))).toMatchObject({ jurisdiction: null, timezone: 'America/Chicago' });
    expect(() => loadConfig({ CIVIC_TIMEZONE: 'Mars/Olympus' }, dir)).toThrow(/Configuration key "timezone": "Mars\/Olympus" is not an IANA time zone/);
  });

  it.each([
    [{ timezone: 5 }, /Configuration key "timezone": must be string/],
    [{ jurisdiction: '' }, /Configuration key "jurisdiction"/],
    [{ port: 'eighty' }, /Configuration key "port"/],
    [{ port: 70000 }, /Configuration key "port"/],
    [{ timezone: 'Mars/Olympus' }, /Configuration key "timezone": "Mars\/Olympus" is not an IANA time zone/],
    [{ reports: { schedules: [{ report: 'weekly-summary', cron: 'every monday' }] } }, /Configuration key "reports\.schedules\.0\.cron"/],
    [{ colour: 'blue' }, /unknown key/],
    [{ memory_limit: 'lots' }, /Configuration key "memory_limit"/],
  ])('stops on a bad value and names the key: %j', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('names a config file that is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'civic-config-'));
    writeFileSync(join(dir, 'civic.config.json'), '{ port: 1 ');
    expect(() => loadConfig({}, dir)).toThrow(/civic\.config\.json is not valid JSON/);
  });
});
