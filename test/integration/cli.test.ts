// The `civic` command as a user runs it: a separate process on a warehouse file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { Warehouse } from '../../warehouse/db.ts';
import { parseConfig } from '../../api/config.ts';
import { ListenError, startServer, type RunningServer } from '../../api/server.ts';
import { serverCredentialPath } from '../../api/tokens.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { fixture, LA311_CSV } from '../helpers.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/civic.mjs', import.meta.url));

async function civic(args: string[], env: Record<string, string> = {}, cwd?: string) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000, cwd });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('civic CLI', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'civic-cli-'));
    db = join(dir, 'civic.duckdb');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ingest prints read, loaded, rejected and already present, and they add up', async () => {
    const first = await civic(['ingest', LA311_CSV, '--profile', 'myla311', '--database', db]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/read 9999, loaded 9999, rejected 0, already present 0 \(9999 = 9999 \+ 0 \+ 0\); 12 loaded with data-quality flags/);
    const second = await civic(['ingest', LA311_CSV, '--profile', 'myla311', '--database', db]);
    expect(second.stdout).toMatch(/read 9999, loaded 0, rejected 0, already present 9999/);
  });

  it('says where to look when rows are rejected', async () => {
    const r = await civic(['ingest', fixture('dirty-cases.csv'), '--profile', fixture('dirty-profile.json'), '--database', db]);
    expect(r.stdout).toMatch(/read 10, loaded 4, rejected 5, already present 1/);
    expect(r.stdout).toMatch(/see why: civic rejects b_\d{14}_[0-9a-f]{8}\n/);
  });

  it('kpis --json prints the API\'s shape', async () => {
    const r = await civic(['kpis', '--json', '--by', 'service', '--from', '2017-12-25', '--to', '2017-12-31', '--database', db], { CIVIC_TIMEZONE: 'America/Los_Angeles' });
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body).toMatchObject({ from: '2017-12-25', to: '2017-12-31', timezone: 'America/Los_Angeles', by: ['service'], area_kind: 'source' });
    expect(body.rows.find((x: { service: string }) => x.service === 'Bulky Items').opened).toBe(4432);
  });

  it('kpis with no --by prints one overall row, stating its window, as-of and area kind', async () => {
    const r = await civic(['kpis', '--from', '2017-12-25', '--to', '2017-12-31', '--database', db], { CIVIC_TIMEZONE: 'America/Los_Angeles' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/cases opened 2017-12-25 to 2017-12-31 \(America\/Los_Angeles\), as of \d{4}-\d\d-\d\dT[\d:.]+Z; areas of kind source/);
    expect(r.stdout).toMatch(/'all cases'\s*│\s*9999 /);
    const bad = await civic(['kpis', '--by', 'servce', '--database', db]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--by "servce" is not one of service, .* \(did you mean "service"\?\)/);
  });

  it('report run renders the weekly summary into --out', async () => {
    const out = join(dir, 'reports');
    const demoDb = join(dir, 'demo.duckdb');
    expect((await civic(['demo', '--database', demoDb])).stdout).toMatch(/demo city: 34448 cases loaded/);
    const r = await civic(['report', 'run', 'weekly-summary', '--out', out, '--database', demoDb]);
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'weekly-summary_2026-11-09_2026-11-15.pdf'))).toBe(true);
    // One CSV per table of the report (the headline figures, the services, …).
    expect(existsSync(join(out, 'weekly-summary_2026-11-09_2026-11-15_headline.csv'))).toBe(true);
    expect(r.stdout).toMatch(/weekly-summary_2026-11-09_2026-11-15_services\.csv/);
  });

  it('fails at once, saying why, when another process holds the warehouse', async () => {
    const wh = await Warehouse.open(db);
    try {
      const r = await civic(['ingest', LA311_CSV, '--profile', 'myla311', '--database', db]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/is in use by another process .*\(POST \/api\/ingest\) or stop it first/);
    } finally {
      wh.close();
    }
  });

  it('explains usage errors with exit code 2', async () => {
    const r = await civic(['ingest', LA311_CSV, '--database', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ingest needs --profile/);
    const bad = await civic(['ingest', LA311_CSV, '--profile', 'nope', '--database', db]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Invalid mapping profile nope/);
  });
});

describe('civic answers quickly', () => {
  it('prints the usage for --help, and says what was wrong for an unknown command or option (exit code 2)', async () => {
    const help = await civic(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: civic <command> \[options\]/);
    const none = await civic([]);
    expect(none.code).toBe(2);
    const unknown = await civic(['nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^civic: unknown command "nope"\n\nUsage: civic/);
    const option = await civic(['token', 'list', '--rol', 'x']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/^civic: Unknown option '--rol'/);
    const usage = await civic(['token', 'create']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^civic: token create needs --role admin\|manager\|planner\|public\n/);
  });

  it('loads only the command it runs: the entry point and command modules import nothing heavy before they need it', () => {
    // Static imports are loaded before a line of the module runs; the heavy ones (configuration,
    // DuckDB, the app, analytics) must be `await import()`ed after the arguments are checked.
    const cli = fileURLToPath(new URL('../../api/cli/', import.meta.url));
    const files = ['index.ts', 'args.ts', 'admin.ts', ...readdirSync(join(cli, 'commands')).map((f) => `commands/${f}`)];
    const light = /^(node:.*|\.\.?\/args\.ts|\.\.\/analysis\.ts|(\.\.\/)+warehouse\/errors\.ts|(\.\.\/)+tokens\.ts|(\.\.\/)+warehouse\/access\/tokens\.ts)$/;
    for (const file of files) {
      const source = readFileSync(join(cli, file), 'utf8');
      const imports = [...source.matchAll(/^import (?!type )[^;]*? from '([^']+)';$/gm)].map((m) => m[1]);
      expect(imports.filter((m) => !light.test(m)), file).toEqual([]);
    }
  });
});

describe('civic token and civic rejects while the server runs', () => {
  let dir: string;
  let db: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'civic-cli-server-'));
    db = join(dir, 'civic.duckdb');
    const config = parseConfig({ port: 0, database: db, seed_demo_when_empty: false, ingest: { inbox_dir: null }, reports: { out_dir: join(dir, 'reports'), schedules: [] } });
    server = await startServer(config, { logger: false, dashboardDir: '/nonexistent' });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = (path: string, token: string) => fetch(server.url + path, { headers: { authorization: `Bearer ${token}` } });

  it('the server leaves a private credential file beside the database', () => {
    expect(server.credentialFile).toBe(serverCredentialPath(db));
    const credential = JSON.parse(readFileSync(server.credentialFile!, 'utf8'));
    expect(credential).toMatchObject({ url: server.url, pid: process.pid, database: db, key: expect.stringMatching(/^cpl_/) });
  });

  it('token create, list and revoke go through the server', async () => {
    const created = await civic(['token', 'create', '--role', 'admin', '--name', 'ops', '--agency', 'Parks', '--database', db]);
    // No cases loaded in this warehouse: the agency cannot be checked yet, and the command says so.
    expect(created.stderr).toMatch(/^warning: no cases are loaded yet, so the agencies "Parks" could not be checked against the data\ntoken [0-9a-f-]{36} \(admin, agencies: Parks; expires \d{4}-\d\d-\d\dT[\d:.]+Z\)\. Shown once: only its hash is stored\.\n$/);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^cp_/);
    expect((await api('/api/tokens', token)).status).toBe(200);

    const listed = await civic(['token', 'list', '--json', '--database', db]);
    expect(listed.code).toBe(0);
    const [ops] = JSON.parse(listed.stdout).tokens;
    expect(ops).toMatchObject({ name: 'ops', role: 'admin', agencies: ['Parks'], revoked_at: null });
    expect(listed.stdout).not.toContain(token);
    const table = await civic(['token', 'list', '--database', db]);
    expect(table.stdout).toMatch(new RegExp(`'${ops.token_id}'.*'ops'.*'admin'.*'Parks'.*'active'`));
    expect((await civic(['token', 'list', '--csv', '--database', db])).stdout).toMatch(/^token_id,name,role,agencies,created_at,expires_at,revoked_at,status\r\n.*,ops,admin,Parks,/);

    const revoked = await civic(['token', 'revoke', ops.token_id, '--database', db]);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked ${ops.token_id}\n` });
    expect((await api('/api/tokens', token)).status).toBe(401);
    expect((await civic(['token', 'revoke', ops.token_id, '--database', db])).stdout).toMatch(/was already revoked \(\d{4}-/);
    const unknown = await civic(['token', 'revoke', '00000000-0000-0000-0000-000000000000', '--database', db]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('civic: No token 00000000-0000-0000-0000-000000000000 (civic token list shows them)\n');
  });

  it('token create --expires-in / --expires; audit shows who read staff data, through the server', async () => {
    const never = await civic(['token', 'create', '--role', 'planner', '--name', 'reader', '--expires-in', 'never', '--json', '--database', db]);
    expect(never.code).toBe(0);
    const reader = JSON.parse(never.stdout);
    expect(reader).toMatchObject({ name: 'reader', role: 'planner', expires_at: null, status: 'active' });
    expect(never.stderr).toMatch(/\(planner; never expires\)/);
    const dated = JSON.parse((await civic(['token', 'create', '--role', 'planner', '--expires', '2099-01-31', '--json', '--database', db])).stdout);
    expect(dated.expires_at).toBe('2099-01-31T23:59:59.999000Z');
    const bad = await civic(['token', 'create', '--role', 'planner', '--expires-in', 'soon', '--database', db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^civic: --expires-in "soon" is not an expiry/);

    expect((await api('/api/dimensions', reader.token)).status).toBe(200);
    const json = JSON.parse((await civic(['audit', '--principal', 'reader', '--json', '--database', db])).stdout);
    expect(json.total).toBe(1);
    expect(json.entries[0]).toMatchObject({ principal_id: reader.token_id, principal_name: 'reader', role: 'planner', via: 'token', method: 'GET', route: '/api/dimensions', status: 200 });
    const table = await civic(['audit', '--route', '/api/dimensions', '--database', db]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/reader \(planner\).*GET \/api\/dimensions.*200/);
    const csv = (await civic(['audit', '--csv', '--limit', '1', '--database', db])).stdout;
    expect(csv.split('\r\n')[0]).toBe('at,principal_id,principal_name,role,agencies,via,method,route,parameters,status,rows_returned,duration_ms,request_id,audit_id');
    // The CLI's own reads through the server are recorded too, as the local operator.
    const local = JSON.parse((await civic(['audit', '--principal', 'local-admin', '--json', '--database', db])).stdout);
    expect(local.entries.some((e: { route: string; via: string }) => e.route === '/api/audit' && e.via === 'local')).toBe(true);
    expect((await civic(['audit', '--since', 'yesterday', '--database', db])).code).toBe(2);
  });

  it('rejects reads a batch through the server, as a table, JSON or CSV, a page at a time', async () => {
    const r = await server.fastify.ingest.run(fixture('dirty-cases.csv'), loadProfile(fixture('dirty-profile.json')));
    const table = await civic(['rejects', r.batch_id, '--database', db]);
    expect(table.stderr).toBe('');
    expect(table.stdout).toMatch(new RegExp(`^batch ${r.batch_id} \\(dirty-cases\\.csv\\): 5 of 10 rows rejected\n`));
    expect(table.stdout.match(/│ \d+ +│ \d+ +│/g)).toHaveLength(5);

    const json = JSON.parse((await civic(['rejects', r.batch_id, '--json', '--database', db])).stdout);
    expect(json).toMatchObject({ batch_id: r.batch_id, total: 5, offset: 0 });
    expect(json.rows).toHaveLength(5);
    const csv = (await civic(['rejects', r.batch_id, '--csv', '--database', db])).stdout;
    expect(csv.split('\r\n')[0]).toBe('row_number,field,reason,raw');
    expect(csv.trim().split('\r\n')).toHaveLength(6);
    const page = await civic(['rejects', r.batch_id, '--limit', '2', '--offset', '1', '--database', db]);
    expect(page.stdout).toMatch(/\nrows 2–3 of 5 shown; --limit N and --offset N for others\n$/);

    const unknown = await civic(['rejects', 'b_19990101000000_00000000', '--database', db]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('civic: No ingest batch "b_19990101000000_00000000" (each ingest prints its batch id)\n');
  });
});

describe('civic token and civic rejects without a server', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'civic-cli-direct-'));
    db = join(dir, 'civic.duckdb');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('open the warehouse themselves, also past a credential file a stopped server left behind', async () => {
    const created = await civic(['token', 'create', '--role', 'planner', '--database', db]);
    expect(created.code).toBe(0);
    // A server that died without cleaning up: its process is gone, or its port no longer answers.
    writeFileSync(serverCredentialPath(db), JSON.stringify({ url: 'http://127.0.0.1:9', pid: 2 ** 22 + 1, key: 'cpl_x', database: db, started_at: '' }));
    expect((await civic(['token', 'list', '--json', '--database', db])).stdout).toMatch(/"name": "planner token"/);
    const port = await freePort();
    writeFileSync(serverCredentialPath(db), JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid, key: 'cpl_x', database: db, started_at: '' }));
    const list = await civic(['token', 'list', '--json', '--database', db]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).tokens).toHaveLength(1);
    rmSync(serverCredentialPath(db));
  });

  it('audit reads the warehouse file itself when no server runs', async () => {
    const r = await civic(['audit', '--json', '--database', db]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 0, entries: [] });
    expect((await civic(['audit', '--database', db])).stdout).toBe('no audit rows match\n');
  });

  it('say so, and not about ingest, when another program holds the warehouse', async () => {
    const wh = await Warehouse.open(db);
    try {
      const r = await civic(['token', 'list', '--database', db]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^civic: The warehouse .* is in use by another process, and no running server left a credential file beside it .* Stop that process \(or restart the server\) and try again\.\n$/);
      expect(r.stderr).not.toMatch(/ingest/);
    } finally {
      wh.close();
    }
  });
});

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('the server when its port is taken', () => {
  let dir: string;
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'civic-cli-port-'));
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => taken.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('civic serve exits at once with one line naming the host and port and what to do', async () => {
    const db = join(dir, 'serve.duckdb');
    const env = { PORT: String(port), CIVIC_HOST: '127.0.0.1', CIVIC_SEED_DEMO: '0', CIVIC_INBOX_DIR: join(dir, 'inbox'), CIVIC_REPORTS_DIR: join(dir, 'reports') };
    const r = await civic(['serve', '--database', db], env, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`civic: Cannot listen on 127.0.0.1:${port}: the port is already in use (another Civic Pulse server, or another program). Stop it, or choose a free port: set PORT (or "port" in civic.config.json).\n`);
    expect(existsSync(serverCredentialPath(db))).toBe(false);
  });

  it('startServer closes the warehouse and everything else it started, and says the same', async () => {
    const db = join(dir, 'in-process.duckdb');
    const config = parseConfig({ port, host: '127.0.0.1', database: db, seed_demo_when_empty: false, ingest: { inbox_dir: join(dir, 'inbox') }, reports: { out_dir: join(dir, 'reports') } });
    const err = await startServer(config, { logger: false, dashboardDir: '/nonexistent' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListenError);
    expect((err as ListenError).message).toMatch(new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`));
    expect((err as ListenError).exitCode).toBe(1);
    expect(existsSync(serverCredentialPath(db))).toBe(false);
    expect(existsSync(join(dir, 'inbox'))).toBe(false); // the inbox was never started
    const wh = await Warehouse.open(db); // not locked: the failed server let go of it
    wh.close();
  });
});
