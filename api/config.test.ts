import { describe, expect, it } from 'vitest';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from './config.ts';
import { sessionSecret } from './plugins/session.ts';

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

  it('has disclosure defaults (k 10, rates over 20 cases, no sensitive service) and checks them', () => {
    expect(parseConfig({}, '/srv/civic').disclosure).toEqual({ k: 10, min_denominator: 20, sensitive_services: [] });
    expect(parseConfig({ disclosure: { k: 5, sensitive_services: ['Homeless Encampment'] } }).disclosure).toEqual({ k: 5, min_denominator: 20, sensitive_services: ['Homeless Encampment'] });
    expect(() => parseConfig({ disclosure: { k: 0 } })).toThrow(/Configuration key "disclosure\.k"/);
    expect(() => parseConfig({ disclosure: { sensitive_services: 'Homeless Encampment' } })).toThrow(/Configuration key "disclosure\.sensitive_services"/);
    expect(() => parseConfig({ disclosure: { threshold: 10 } })).toThrow(/unknown key/);
  });
});

describe('access configuration (auth.*)', () => {
  const jwksDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'civic-config-'));
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ kty: 'RSA', n: 'x', e: 'AQAB', kid: 'a' }] }));
    writeFileSync(join(dir, 'empty.json'), JSON.stringify({ keys: [] }));
    return dir;
  };
  const OIDC = { issuer: 'https://id.example/realms/city', audience: 'civic-pulse', jwks_file: 'jwks.json' };

  it('defaults: a generated session secret, 8-hour sessions, no OpenID Connect; OIDC keys get their defaults', () => {
    expect(parseConfig({}, '/srv/civic').auth).toEqual({ session_secret: null, session_hours: 8, oidc: null });
    const dir = jwksDir();
    expect(parseConfig({ auth: { oidc: OIDC } }, dir).auth.oidc).toEqual({
      ...OIDC, jwks_file: join(dir, 'jwks.json'), role_claim: 'roles', role_map: {}, agencies_claim: 'agencies', name_claim: 'name', clock_tolerance_seconds: 30,
    });
  });

  it('reads the session secret, hours and OpenID Connect from the environment', () => {
    const dir = jwksDir();
    const c = loadConfig({ CIVIC_SESSION_SECRET: 's'.repeat(40), CIVIC_SESSION_HOURS: '12', CIVIC_OIDC_ISSUER: OIDC.issuer, CIVIC_OIDC_AUDIENCE: 'civic-pulse', CIVIC_OIDC_JWKS_FILE: 'jwks.json' }, dir);
    expect(c.auth).toMatchObject({ session_secret: 's'.repeat(40), session_hours: 12, oidc: { issuer: OIDC.issuer, audience: 'civic-pulse', jwks_file: join(dir, 'jwks.json') } });
  });

  it.each([
    [{ session_secret: 'short' }, /Configuration key "auth\.session_secret": must not have fewer than 32 characters/i],
    [{ session_hours: 0 }, /Configuration key "auth\.session_hours"/],
    [{ session_hours: 10_000 }, /Configuration key "auth\.session_hours"/],
    [{ sessions: 1 }, /Configuration key "auth": unknown key/],
    [{ oidc: 'https://id.example' }, /Configuration key "auth\.oidc": must be an object/],
    [{ oidc: { audience: 'x', jwks_file: 'jwks.json' } }, /Configuration key "auth\.oidc": must have required properties issuer/],
    [{ oidc: { ...OIDC, audience: [] } }, /Configuration key "auth\.oidc\.audience"/],
    [{ oidc: { ...OIDC, role_map: { 'city-staff': 'superuser' } } }, /Configuration key "auth\.oidc\.role_map\.city-staff"/],
    [{ oidc: { ...OIDC, clock_tolerance_seconds: -1 } }, /Configuration key "auth\.oidc\.clock_tolerance_seconds"/],
    [{ oidc: { ...OIDC, groups_claim: 'groups' } }, /Configuration key "auth\.oidc": unknown key/],
    [{ oidc: { ...OIDC, jwks_file: 'missing.json' } }, /Configuration key "auth\.oidc\.jwks_file": .*missing\.json does not exist/],
    [{ oidc: { ...OIDC, jwks_file: 'empty.json' } }, /Configuration key "auth\.oidc\.jwks_file": .*empty\.json is not a JWKS document with keys/],
  ])('stops on a bad value and names the key: auth %j', (auth, message) => {
    expect(() => parseConfig({ auth }, jwksDir())).toThrow(message);
  });

  it('the session secret: generated once beside the warehouse (owner-only), the same at the next start; configured wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'civic-config-'));
    const db = join(dir, 'data', 'civic.duckdb');
    const first = sessionSecret(null, db);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, 'data', '.civic-session-secret')).mode & 0o777).toBe(0o600);
    expect(sessionSecret(null, db)).toBe(first);
    expect(sessionSecret('c'.repeat(40), db)).toBe('c'.repeat(40));
    expect(sessionSecret(null, ':memory:')).toBe(sessionSecret(null, ':memory:'));
  });

  it('has limits on what one request may cost, and checks them', () => {
    expect(parseConfig({}, '/srv/civic').limits).toEqual({ read_connections: 3, query_timeout_seconds: 15, max_rows: 5000, max_query_rows: 100_000, max_cells: 250_000, public_per_minute: 120, max_url_length: 4096, max_body_kb: 64 });
    expect(parseConfig({ limits: { public_per_minute: 30, query_timeout_seconds: 2.5 } }).limits).toMatchObject({ public_per_minute: 30, query_timeout_seconds: 2.5, read_connections: 3 });
    expect(() => parseConfig({ limits: { read_connections: 0 } })).toThrow(/Configuration key "limits\.read_connections"/);
    expect(() => parseConfig({ limits: { query_timeout_seconds: 0 } })).toThrow(/Configuration key "limits\.query_timeout_seconds"/);
    expect(() => parseConfig({ limits: { max_url_length: 100 } })).toThrow(/Configuration key "limits\.max_url_length"/);
    expect(() => parseConfig({ limits: { max_cells: 0 } })).toThrow(/Configuration key "limits\.max_cells"/);
    expect(() => parseConfig({ limits: { rows: 10 } })).toThrow(/unknown key/);
  });
});
