// Admin routes: /api/tokens (create, list, revoke) and a batch's rejects, through app.inject();
// and the server's local admin credential, accepted on those routes only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import app from '../../api/app.ts';
import { testApp } from '../app-helper.ts';
import { newServerKey, readServerCredential, removeServerCredential, serverCredentialPath, writeServerCredential } from '../../api/tokens.ts';
import { createToken, hashToken } from '../../warehouse/access/tokens.ts';
import { listenErrorMessage } from '../../api/server.ts';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { fixture, tempWarehouse, type TempWarehouse } from '../helpers.ts';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('admin routes', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let admin: string;
  let manager: string;
  let batch: string;
  beforeAll(async () => {
    t = await tempWarehouse();
    admin = (await createToken(t.wh, { name: 'ops', role: 'admin' })).token;
    manager = (await createToken(t.wh, { name: 'boss', role: 'manager', agencies: ['Sanitation'] })).token;
    batch = (await ingestFile(t.wh, fixture('dirty-cases.csv'), loadProfile(fixture('dirty-profile.json')))).batch_id;
    fastify = await testApp(t.wh);
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  const as = (token: string | undefined) => (token ? { authorization: `Bearer ${token}` } : {});
  const get = (url: string, token?: string) => fastify.inject({ method: 'GET', url, headers: as(token) });
  const post = (body: unknown, token?: string) => fastify.inject({ method: 'POST', url: '/api/tokens', payload: body as object, headers: as(token) });
  const del = (id: string, token?: string) => fastify.inject({ method: 'DELETE', url: `/api/tokens/${id}`, headers: as(token) });
  const ROUTES = [
    () => get('/api/tokens'),
    () => post({ role: 'public' }),
    () => del('00000000-0000-0000-0000-000000000000'),
    () => get(`/api/ingest/batches/${batch}/rejects`),
  ];

  it('401 without a token or with a wrong one, 403 for a role other than admin, on every admin route', async () => {
    for (const call of ROUTES) {
      const none = await call();
      expect(none.statusCode).toBe(401);
      expect(none.json().message).toMatch(/needs a token/);
    }
    expect((await get('/api/tokens', 'cp_not-a-token')).statusCode).toBe(401);
    expect((await post({ role: 'admin' }, manager)).statusCode).toBe(403);
    expect((await del('00000000-0000-0000-0000-000000000000', manager)).statusCode).toBe(403);
    const forbidden = await get(`/api/ingest/batches/${batch}/rejects`, manager);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().message).toBe('This needs the role admin; the token has manager.');
  });

  it('creates a token, shows it once, and it works; the list never shows a token or its hash', async () => {
    const res = await post({ role: 'admin', name: 'second admin', agencies: ['Parks', 'Streets'] }, admin);
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({ name: 'second admin', role: 'admin', agencies: ['Parks', 'Streets'], revoked_at: null });
    expect(created.token).toMatch(/^cp_[A-Za-z0-9_-]{32}$/);
    expect(created.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    expect((await get('/api/tokens', created.token)).statusCode).toBe(200);

    const list = await get('/api/tokens', admin);
    expect(list.statusCode).toBe(200);
    const { tokens } = list.json();
    expect(tokens.map((x: { name: string }) => x.name)).toEqual(['ops', 'boss', 'second admin']);
    expect(tokens[1]).toMatchObject({ role: 'manager', agencies: ['Sanitation'] });
    expect(tokens[0]).toEqual({ token_id: expect.any(String), name: 'ops', role: 'admin', agencies: null, created_at: expect.any(String), expires_at: expect.any(String), revoked_at: null, status: 'active' });
    expect(list.body).not.toContain(created.token);
    expect(list.body).not.toContain(hashToken(created.token));
    expect(list.body).not.toContain('token_hash');
  });

  it('names the default after the role', async () => {
    const res = await post({ role: 'planner' }, admin);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'planner token', role: 'planner', agencies: null });
  });

  it.each([
    [{ role: 'root' }, /^body\/role /],
    [{}, /role/],
    [{ role: 'admin', name: '' }, /^body\/name /],
    [{ role: 'admin', agencies: [''] }, /^body\/agencies\/0 /],
    [{ role: 'admin', name: 'x'.repeat(201) }, /^body\/name /],
  ])('400 for a bad body: %j', async (body, message) => {
    const res = await post(body, admin);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(message);
  });

  it('revokes at once; revoking again says it already was; an unknown id is a 404, a malformed one a 400', async () => {
    const victim = (await post({ role: 'manager', name: 'leaver' }, admin)).json();
    expect((await get('/api/tokens', victim.token)).statusCode).toBe(403); // valid, but a manager
    const first = await del(victim.token_id, admin);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ token_id: victim.token_id, name: 'leaver', revoked_now: true, revoked_at: expect.any(String) });
    const after = await get('/api/tokens', victim.token);
    expect(after.statusCode).toBe(401);
    expect(after.json().message).toBe('The token was revoked.');
    const again = await del(victim.token_id, admin);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ revoked_now: false, revoked_at: first.json().revoked_at });
    const unknown = await del('00000000-0000-0000-0000-000000000000', admin);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'No token 00000000-0000-0000-0000-000000000000 (GET /api/tokens lists them)' });
    expect((await del('not-a-token-id', admin)).statusCode).toBe(400);
  });

  it('lists tokens as CSV with ?format=csv', async () => {
    const res = await get('/api/tokens?format=csv', admin);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.body.trim().split('\r\n');
    expect(lines[0]).toBe('token_id,name,role,agencies,created_at,expires_at,revoked_at,status');
    expect(lines.find((l) => l.includes(',boss,'))).toMatch(/,boss,manager,Sanitation,\d{4}-/);
  });

  it("GET /api/ingest/batches/:batch_id/rejects lists a batch's rejected rows with why", async () => {
    const res = await get(`/api/ingest/batches/${batch}/rejects`, admin);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ batch_id: batch, file_name: 'dirty-cases.csv', rows_read: 10, total: 5, limit: 1000, offset: 0 });
    expect(body.rows).toHaveLength(5);
    const rowNumbers = body.rows.map((r: { row_number: number }) => r.row_number);
    expect(rowNumbers).toEqual([...rowNumbers].sort((a, b) => a - b));
    for (const r of body.rows) expect(r.reason).toEqual(expect.any(String));
    // raw is the row's mapped columns as JSON, and never the personal fields the profile does not keep.
    expect(body.rows.some((r: { raw: unknown }) => r.raw !== null && typeof r.raw === 'object')).toBe(true);
    expect(res.body).not.toMatch(/555-01|Jane Roe|call back/);

    const page = (await get(`/api/ingest/batches/${batch}/rejects?limit=2&offset=1`, admin)).json();
    expect(page).toMatchObject({ total: 5, limit: 2, offset: 1 });
    expect(page.rows).toEqual(body.rows.slice(1, 3));
  });

  it('gives the rejects as CSV, raw as JSON text', async () => {
    const res = await get(`/api/ingest/batches/${batch}/rejects?format=csv`, admin);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="rejects-${batch}.csv"`);
    const lines = res.body.trim().split('\r\n');
    expect(lines[0]).toBe('row_number,field,reason,raw');
    expect(lines).toHaveLength(6);
  });

  it('404 for an unknown batch, 400 for a malformed id or page', async () => {
    const unknown = await get('/api/ingest/batches/b_19990101000000_00000000/rejects', admin);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toBe('No ingest batch "b_19990101000000_00000000" (each ingest prints its batch id)');
    expect((await get('/api/ingest/batches/no%20such/rejects', admin)).statusCode).toBe(400);
    expect((await get(`/api/ingest/batches/${batch}/rejects?limit=0`, admin)).json().message).toMatch(/^querystring\/limit /);
    expect((await get(`/api/ingest/batches/${batch}/rejects?format=xml`, admin)).statusCode).toBe(400);
  });

  it('a batch that rejected nothing answers with no rows', async () => {
    await t.wh.run(`INSERT INTO ingest_batches (batch_id, source, kind, started_at) VALUES ('b_clean', 'x', 'cases', now())`);
    const res = await get('/api/ingest/batches/b_clean/rejects', admin);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ batch_id: 'b_clean', total: 0, rows: [] });
  });

  it('documents the routes with their security in the OpenAPI document', async () => {
    const doc = (await get('/docs/json')).json();
    for (const [path, method] of [['/api/tokens', 'get'], ['/api/tokens', 'post'], ['/api/tokens/{token_id}', 'delete'], ['/api/ingest/batches/{batch_id}/rejects', 'get']]) {
      expect(doc.paths[path][method].security, `${method} ${path}`).toEqual([{ bearer: [] }, { session: [] }]);
      expect(doc.paths[path][method]['x-access'], `${method} ${path}`).toBe('admin');
    }
  });
});

describe("the server's local admin credential", () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  const key = newServerKey();
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    fastify = Fastify({ logger: false });
    fastify.decorate('serverCredentialHash', hashToken(key));
    await fastify.register(app, { warehouse: t.wh, config: { timezone: 'UTC', jurisdiction: 'X' }, dashboardDir: '/nonexistent' });
    await fastify.ready();
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('is an admin on the token and rejects routes', async () => {
    const created = await fastify.inject({ method: 'POST', url: '/api/tokens', payload: { role: 'admin' }, headers: bearer(key) });
    expect(created.statusCode).toBe(201);
    expect((await fastify.inject({ url: '/api/tokens', headers: bearer(key) })).statusCode).toBe(200);
    expect((await fastify.inject({ url: '/api/ingest/batches/b_x/rejects', headers: bearer(key) })).statusCode).toBe(404);
  });

  it('is nothing anywhere else, and a near miss is nothing at all', async () => {
    const ingest = await fastify.inject({ method: 'POST', url: '/api/ingest?profile=myla311', payload: 'a,b\n', headers: { ...bearer(key), 'content-type': 'text/csv' } });
    expect(ingest.statusCode).toBe(401);
    expect((await fastify.inject({ url: '/api/tokens', headers: bearer(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A')) })).statusCode).toBe(401);
    expect((await fastify.inject({ url: '/api/tokens', headers: bearer(hashToken(key)) })).statusCode).toBe(401);
  });

  it('is not accepted by an app the server did not start (no credential decorated)', async () => {
    const plain = await testApp(t.wh);
    expect((await plain.inject({ url: '/api/tokens', headers: bearer(key) })).statusCode).toBe(401);
  });

  it('lives in a file only its owner can read, found while its process runs and stale after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'civic-credential-'));
    const database = join(dir, 'civic.duckdb');
    const file = writeServerCredential({ url: 'http://127.0.0.1:1', pid: process.pid, key, database, started_at: new Date().toISOString() });
    expect(file).toBe(serverCredentialPath(database));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readServerCredential(database)).toMatchObject({ state: 'found', credential: { key, pid: process.pid } });
    removeServerCredential(database, 'someone else’s key');
    expect(readServerCredential(database).state).toBe('found');
    removeServerCredential(database, key);
    expect(readServerCredential(database).state).toBe('absent');
    writeFileSync(file, JSON.stringify({ url: 'http://127.0.0.1:1', pid: 2 ** 22 + 1, key, database, started_at: '' }));
    expect(readServerCredential(database).state).toBe('stale');
    writeFileSync(file, 'not json');
    expect(readServerCredential(database).state).toBe('unreadable');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('the message when the server cannot listen', () => {
  it.each([
    ['EADDRINUSE', '127.0.0.1', 3000, /^Cannot listen on 127\.0\.0\.1:3000: the port is already in use .*set PORT \(or "port" in civic\.config\.json\)\.$/],
    ['EACCES', '0.0.0.0', 80, /^Cannot listen on 0\.0\.0\.0:80: permission denied .*from 1024 up: set PORT/],
    ['EADDRNOTAVAIL', '192.0.2.1', 3000, /^Cannot listen on 192\.0\.2\.1:3000: 192\.0\.2\.1 is not an address of this machine.*set CIVIC_HOST \(or "host" in civic\.config\.json\)\.$/],
    ['ENOTFOUND', 'no-such-host', 3000, /^Cannot listen on no-such-host:3000: the host name no-such-host does not resolve\. Set CIVIC_HOST/],
    ['EADDRINUSE', '::1', 8080, /^Cannot listen on \[::1\]:8080: /],
  ])('%s on %s:%d', (code, host, port, message) => {
    const err = Object.assign(new Error(`listen ${code}`), { code, syscall: 'listen' });
    const text = listenErrorMessage(err, host, port);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });
});
