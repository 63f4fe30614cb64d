// POST /api/ingest: streamed upload, admin token, clear errors — and the inbox the server watches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import app, { FASTIFY_OPTIONS } from '../../api/app.ts';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testApp } from '../app-helper.ts';
import { createToken } from '../../warehouse/access/tokens.ts';
import { startInbox } from '../../api/inbox.ts';
import { fixture, LA311_CSV, tempWarehouse, type TempWarehouse } from '../helpers.ts';
import { resolveJurisdiction } from '../../warehouse/analytics/jurisdiction.ts';

const BAD = (name: string) => fixture(`bad/${name}`);

describe('POST /api/ingest', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let admin: string;
  let manager: string;
  beforeAll(async () => {
    t = await tempWarehouse();
    admin = (await createToken(t.wh, { name: 'ops', role: 'admin' })).token;
    manager = (await createToken(t.wh, { name: 'boss', role: 'manager' })).token;
    fastify = await testApp(t.wh, { timezone: 'America/Los_Angeles', jurisdiction: 'LA' });
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  const upload = (query: string, body: unknown, token?: string, type = 'text/csv') =>
    fastify.inject({ method: 'POST', url: `/api/ingest?${query}`, payload: body as string, headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) } });

  it('401 without a token, 401 with a wrong one, 403 for a role that may not load data', async () => {
    const none = await upload('profile=myla311', 'x');
    expect(none.statusCode).toBe(401);
    expect(none.json().message).toMatch(/needs a token/);
    expect((await upload('profile=myla311', 'x', 'cp_not-a-real-token')).statusCode).toBe(401);
    const forbidden = await upload('profile=myla311', 'x', manager);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().message).toBe('This needs the role admin; the token has manager.');
  });

  it('loads a streamed export and says what it did', async () => {
    const res = await upload('profile=myla311&filename=la.csv', createReadStream(LA311_CSV), admin);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'cases', read: 9999, loaded: 9999, rejected: 0, duplicate: 0, flagged: 12, warnings: [] });
    const again = await upload('profile=myla311&filename=la.csv', readFileSync(LA311_CSV), admin);
    expect(again.json()).toMatchObject({ loaded: 0, duplicate: 9999, warnings: [] });
    // The first real ingest recorded whose data this is.
    expect(await resolveJurisdiction(t.wh, { jurisdiction: null, timezone: null })).toMatchObject({ name: 'City of Los Angeles', timezone: 'America/Los_Angeles', source: 'ingest' });
  });

  it('formats by file name: Open311 JSON with its notes', async () => {
    const res = await upload('profile=open311&filename=chicago.json', readFileSync(fixture('open311/chicago_open311_requests_2014_sample.json')), admin, 'application/json');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ read: 50, loaded: 50, events_added: 276 });
  });

  it.each([
    ['profile=../../etc/passwd', 'x', /^querystring\/profile "\.\.\/\.\.\/etc\/passwd" is not valid \(A built-in mapping profile/],
    ['profile=nope', 'x', /querystring\/profile "nope" is not a built-in profile/],
    ['profile=myla311&timezone=Mars/Base', 'x', /querystring\/timezone "Mars\/Base" is not an IANA time zone/],
    ['profile=myla311', '', /body: the upload is empty/],
    ['profile=myla311&filename=x.csv', 'a,b\n1,2\n', /body: Profile "myla311" names columns the file does not have: case_id → "SRNumber"/],
    ['profile=open311&filename=x.json', '[{"service_code":006}]', /body: x\.json is not valid JSON: .*\(line 1, column 19\)/],
  ])('400 with a clear message: %s', async (query, body, message) => {
    const res = await upload(query, body, admin);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(message);
  });

  it('a POST without a body is a 400, and the server lives on', async () => {
    const res = await fastify.inject({ method: 'POST', url: '/api/ingest?profile=myla311', headers: { authorization: `Bearer ${admin}` } });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^body: the upload is empty/);
    await new Promise((r) => setTimeout(r, 50)); // a stray stream error would surface here
    expect((await fastify.inject('/api/health')).statusCode).toBe(200);
  });

  it('413 for an upload over the limit', async () => {
    const small = await testApp(await t.wh.connect(), { timezone: 'UTC', jurisdiction: 'X', ingest: { max_upload_mb: 1, inbox_dir: null, inbox_poll_seconds: 5 } });
    const res = await small.inject({ method: 'POST', url: '/api/ingest?profile=myla311&filename=big.csv', payload: Buffer.alloc(1024 * 1024 + 10, 65), headers: { 'content-type': 'text/csv', authorization: `Bearer ${admin}` } });
    expect(res.statusCode).toBe(413);
    await small.close();
  });

  it.each([
    ['profile=myla311&filename=..', 'x', /querystring\/filename "\.\." must be a plain file name/],
    ['profile=open311&filename=k.json', '[{"service_request_id":"1","requested_datetime":"2024-01-01T00:00:00Z","row_number":"7"}]', /column named "row_number", a name Civic Pulse uses itself/],
    ['profile=open311&filename=k.json', '[{"service_request_id":"1","requested_datetime":"2024-01-01T00:00:00Z","ID":"a","id":"b"}]', /columns "ID" and "id", which differ only in case/],
    ['profile=myla311&filename=r.csv', 'rowid,SRNumber\n1,2\n', /column named "rowid"/],
  ])('400, not 500, for awkward input: %s', async (query, body, message) => {
    const res = await upload(query, body, admin);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(message);
  });

  it.each([
    ['filename=header-only.csv', BAD('header-only.csv'), /^body: header-only\.csv has a header \(33 columns\) but no rows: there is nothing to load$/],
    ['filename=blank.csv', BAD('whitespace.csv'), /^body: blank\.csv holds only whitespace/],
    ['filename=photo.csv', BAD('pixel.png'), /^body: photo\.csv is a PNG image, not a CSV export$/],
    ['filename=noise.csv', BAD('random.csv'), /^body: noise\.csv holds binary data, not a CSV export/],
    ['filename=boms.csv', BAD('two-boms.csv'), /^body: boms\.csv starts with two UTF-8 byte-order marks/],
    ['filename=page.csv', BAD('error-page.csv'), /^body: page\.csv looks like HTML or XML/],
    ['filename=pixel.png', BAD('pixel.png'), /^querystring\/filename: pixel\.png: by its name \("\.png"\) this is an image, not an export Civic Pulse reads/],
    ['filename=requests.xlsx', LA311_CSV, /^querystring\/filename: requests\.xlsx: by its name \("\.xlsx"\) this is a spreadsheet workbook/],
    ['filename=requests.json', LA311_CSV, /^querystring\/filename: requests\.json: by its name this is JSON, but profile "myla311" reads CSV/],
  ])('400, never 500, for a file that is not an export: %s', async (query, path, message) => {
    const res = await upload(`profile=myla311&${query}`, readFileSync(path), admin);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.json().message).toMatch(message);
    expect(res.json().message).not.toMatch(/column0|civic-upload-/);
  });

  it('a file it cannot read as JSON, XML or Arrow is a 400 as well', async () => {
    for (const [query, body] of [
      ['profile=open311&filename=r.json', '[]'],
      ['profile=open311&filename=r.json', '<html>Bad gateway</html>'],
      ['profile=open311&filename=r.xml', readFileSync(BAD('random.csv'))],
      ['profile=open311&filename=r.arrow', readFileSync(BAD('random.csv'))],
      ['profile=open311&filename=r.ndjson', '   \n '],
      ['profile=open311&filename=r', '[]'],
    ] as const) {
      const res = await upload(query, body, admin, 'application/octet-stream');
      expect(res.statusCode, `${query}: ${res.body}`).toBe(400);
      expect(res.json().message, query).toMatch(/^(body|querystring\/filename): r(\.[a-z]+)?:? /);
    }
  });

  it('a malformed line in an upload is a reject, and the rest loads', async () => {
    const lines = readFileSync(LA311_CSV, 'utf8').split('\n').slice(0, 11);
    lines[5] = lines[5].replace(',', ',"');
    const res = await upload('profile=myla311&filename=la-10.csv', lines.join('\n').replace(/^1-/gm, 'X-'), admin);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ read: 10, loaded: 9, rejected: 1 });
  });

  it('stores tokens only as hashes', async () => {
    const rows = JSON.stringify(await t.wh.all('SELECT * FROM api_tokens'));
    expect(rows).not.toContain(admin);
    expect(rows).not.toContain(admin.slice(3, 20));
  });
});

describe('POST /api/ingest records whose data it is', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let admin: string;
  beforeAll(async () => {
    t = await tempWarehouse();
    admin = (await createToken(t.wh, { name: 'ops', role: 'admin' })).token;
    fastify = await testApp(t.wh, { timezone: 'UTC', jurisdiction: 'X' });
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('the first upload records the jurisdiction and zone given with it; a later one in another zone warns', async () => {
    const post = (query: string, body: Buffer) =>
      fastify.inject({ method: 'POST', url: `/api/ingest?${query}`, payload: body, headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${admin}` } });
    const chicago = await post('profile=open311&filename=c.json&timezone=America/Chicago&jurisdiction=City%20of%20Chicago', readFileSync(fixture('open311/chicago_open311_requests_2014_sample.json')));
    expect(chicago.statusCode, chicago.body).toBe(200);
    expect(chicago.json().warnings).toEqual([]);
    expect(await resolveJurisdiction(t.wh, { jurisdiction: null, timezone: null })).toMatchObject({ name: 'City of Chicago', timezone: 'America/Chicago', source: 'ingest' });
    const la = await post('profile=myla311&filename=la.csv', readFileSync(LA311_CSV));
    expect(la.statusCode).toBe(200);
    expect(la.json().warnings).toHaveLength(2);
    expect(la.json().warnings[0]).toMatch(/^This file's times were read in America\/Los_Angeles \(profile "myla311"\), but the warehouse's time zone is America\/Chicago \(City of Chicago\)/);
    expect(await resolveJurisdiction(t.wh, { jurisdiction: null, timezone: null })).toMatchObject({ name: 'City of Chicago', timezone: 'America/Chicago' });
  });
});

describe('the inbox', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  beforeAll(async () => {
    t = await tempWarehouse();
    fastify = await testApp(t.wh, { timezone: 'UTC', jurisdiction: 'X' });
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('loads a dropped file once it stops changing, then files it under done/ with a report', async () => {
    const inboxDir = join(t.dir, 'inbox');
    const logs: string[] = [];
    const inbox = startInbox(inboxDir, fastify.ingest, { info: (_o, m) => logs.push(m), error: (o, m) => logs.push(`${m} ${JSON.stringify(o)}`) }, 3600);
    try {
      mkdirSync(join(inboxDir, 'myla311'));
      writeFileSync(join(inboxDir, 'myla311', 'la.csv'), readFileSync(LA311_CSV));
      mkdirSync(join(inboxDir, 'open311'));
      writeFileSync(join(inboxDir, 'open311', 'broken.json'), '[{"service_code":006}]');
      writeFileSync(join(inboxDir, 'open311', 'still-copying.json.partial'), '[');
      expect(await inbox.scan()).toBe(0); // first look: sizes noted, nothing taken yet
      expect(await inbox.scan(), logs.join('\n')).toBe(2);
      expect(logs.filter((l) => l.startsWith('inbox file failed')), logs.join('\n')).toHaveLength(1);
      const done = readdirSync(join(inboxDir, 'myla311', 'done'));
      expect(done.filter((f) => f.endsWith('_la.csv'))).toHaveLength(1);
      const report = JSON.parse(readFileSync(join(inboxDir, 'myla311', 'done', done.find((f) => f.endsWith('.report.json'))!), 'utf8'));
      expect(report).toMatchObject({ status: 'loaded', profile: 'myla311', read: 9999, loaded: 9999 });
      const failed = readdirSync(join(inboxDir, 'open311', 'failed'));
      const why = JSON.parse(readFileSync(join(inboxDir, 'open311', 'failed', failed.find((f) => f.endsWith('.report.json'))!), 'utf8'));
      expect(why.error).toMatch(/is not valid JSON/);
      expect(existsSync(join(inboxDir, 'open311', 'still-copying.json.partial'))).toBe(true);
      expect(existsSync(join(inboxDir, 'README.txt'))).toBe(true);
      expect(logs).toEqual(expect.arrayContaining(['inbox file loaded']));
    } finally {
      await inbox.stop();
    }
  });
});

describe('a listening server after a load', () => {
  // The overview, the public release and its home page are computed ahead of the first visit when the server
  // starts listening, and again after each batch it loads (api/ingest-service.ts onLanded).
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  const logs: { msg: string }[] = [];
  const logged = (msg: string) => logs.some((l) => l.msg === msg);
  const until = async (msg: string) => {
    for (let i = 0; i < 600 && !logged(msg); i++) await new Promise((r) => setTimeout(r, 50));
    return logged(msg);
  };
  beforeAll(async () => {
    t = await tempWarehouse();
    fastify = Fastify({ ...FASTIFY_OPTIONS, logger: { level: 'info', stream: { write: (line: string) => void logs.push(JSON.parse(line)) } } });
    await fastify.register(app, { warehouse: t.wh, config: { timezone: 'America/Los_Angeles', jurisdiction: 'LA' }, dashboardDir: '/nonexistent' });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('computes the default overview and the public release again once the batch has landed', async () => {
    expect(await until('default overview computed ahead of the first visit since the server started')).toBe(true);
    expect(await until('public release and home page computed ahead of the first visit since the server started')).toBe(true);
    expect(logged('default overview computed ahead of the first visit after a load')).toBe(false);
    const { token } = await createToken(t.wh, { name: 'ops', role: 'admin' });
    const res = await fastify.inject({ method: 'POST', url: '/api/ingest?profile=myla311&filename=la.csv', payload: readFileSync(LA311_CSV), headers: { 'content-type': 'text/csv', authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    expect(await until('default overview computed ahead of the first visit after a load')).toBe(true);
    expect(await until('public release and home page computed ahead of the first visit after a load')).toBe(true);
  });

  it('answers from the new data as soon as a batch lands: what it kept for the old data is not served again', async () => {
    // The server keeps its data version between loads (warehouse/analytics/dimensions.ts
    // keepDataVersion), so what it answers from memory must be dropped by the load itself.
    const { token } = await createToken(t.wh, { name: 'reader', role: 'admin' });
    const headers = { authorization: `Bearer ${token}` };
    const services = async () => ((await fastify.inject({ url: '/api/dimensions', headers })).json() as { services: { name: string }[] }).services.map((s) => s.name);
    const namesBefore = await services();
    // The public home page is drawn once per data version: the one drawn before is not served after.
    const home = async () => (await fastify.inject({ url: '/public' })).body;
    const homeBefore = await home();
    expect(await home()).toBe(homeBefore);
    const res = await fastify.inject({ method: 'POST', url: '/api/ingest?profile=open311&filename=chicago.json', payload: readFileSync(fixture('open311/chicago_open311_requests_2014_sample.json')), headers: { 'content-type': 'application/json', ...headers } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ loaded: 50 });
    const namesAfter = await services();
    expect(namesAfter.length).toBeGreaterThan(namesBefore.length);
    expect(await home()).not.toBe(homeBefore);
  });
});

describe('a public page drawn while a batch lands', () => {
  it('is not kept under the new data: the next visitor gets a page of the new data', async () => {
    // Public pages are drawn once per data version (api/routes/public-pages). A batch that lands
    // while a page is being drawn must not leave the older data's page filed under its version.
    const t = await tempWarehouse();
    const build = async () => {
      const f = Fastify({ ...FASTIFY_OPTIONS, logger: false });
      await f.register(app, { warehouse: t.wh, config: { timezone: 'America/Los_Angeles', jurisdiction: 'LA' }, dashboardDir: '/nonexistent' });
      await f.ready();
      return f;
    };
    const fastify = await build();
    try {
      const { token } = await createToken(t.wh, { name: 'ops', role: 'admin' });
      const headers = { authorization: `Bearer ${token}` };
      const la = await fastify.inject({ method: 'POST', url: '/api/ingest?profile=myla311&filename=la.csv', payload: readFileSync(LA311_CSV), headers: { 'content-type': 'text/csv', ...headers } });
      expect(la.statusCode).toBe(200);
      // The second batch lands in the middle of the first visit's drawing: when the public view
      // reads what data sources it holds (warehouse/analytics/data-sources.ts).
      const wh = fastify.warehouse as unknown as { one: (sql: string, ...rest: unknown[]) => Promise<unknown> };
      const one = wh.one.bind(wh);
      let armed = true;
      wh.one = async (sql: string, ...rest: unknown[]) => {
        if (armed && sql.includes('AS survey_answers')) {
          armed = false;
          const res = await fastify.inject({ method: 'POST', url: '/api/ingest?profile=open311&filename=chicago.json', payload: readFileSync(fixture('open311/chicago_open311_requests_2014_sample.json')), headers: { 'content-type': 'application/json', ...headers } });
          expect(res.statusCode).toBe(200);
        }
        return one(sql, ...rest);
      };
      await fastify.inject({ url: '/public' });
      expect(armed).toBe(false); // the batch did land during the visit
      const next = (await fastify.inject({ url: '/public' })).body;
      // A server of its own (its own reader pool, so nothing kept) draws the page of the data as it is now.
      const fresh = await build();
      try {
        expect(next).toBe((await fresh.inject({ url: '/public' })).body);
      } finally {
        await fresh.close();
      }
    } finally {
      await fastify.close();
      t.cleanup();
    }
  });
});
