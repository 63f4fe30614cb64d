// Bad input on every route: thousands of malformed requests, generated (fast-check, fixed seed)
// from the routes the OpenAPI document lists — wrong types, huge and unicode strings, null bytes,
// SQL fragments, path tricks, repeated and unknown parameters, bad bodies and content types, bad,
// expired, revoked and other-agency credentials — must never get a 5xx or a detail of our
// insides, must leave the server answering, and must leave the warehouse as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import app, { DEFAULT_DASHBOARD_DIR, FASTIFY_OPTIONS } from '../../api/app.ts';
import { createToken, revokeToken } from '../../warehouse/access/tokens.ts';
import type { Warehouse } from '../../warehouse/db.ts';
import { demoWarehouse } from '../demo-warehouse.ts';
import type { TempWarehouse } from '../helpers.ts';

// FUZZ_SEED=<n> draws another set (a failure names its request; re-run with the same seed to reproduce).
const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const REQUESTS = 3000;
const CONCURRENCY = 6;

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  /** What the generator meant: the route and which credential, for the report. */
  route: string;
  credential: string;
  /** A write with a credential that may write: the generator made some part of it invalid. */
  mustFail: boolean;
}

interface Operation {
  method: string;
  path: string;
  query: Record<string, { type?: string; enum?: unknown[] }>;
  pathParams: string[];
  body: boolean;
}

/** Values that have broken servers before, besides random ones. */
const NASTY = [
  "' OR '1'='1", "'; DROP TABLE cases; --", '"; DELETE FROM api_tokens; --', '1) UNION SELECT token_hash FROM api_tokens --', '$tz', '$1', '?', '\\', '\\x00',
  '%', '%00', '%zz', '%E0%A4%A', '\u0000', 'a\u0000b', '\u0000\u0000\u0000', '../../../../etc/passwd', '..%2f..%2fetc%2fpasswd', '/etc/passwd', 'C:\\Windows\\win.ini',
  '${jndi:ldap://x/a}', '{{7*7}}', '<script>alert(1)</script>', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  'NaN', 'Infinity', '-Infinity', '1e309', '-1', '0', '-0', '0.0000001', '2147483648', '9007199254740993', '0x10', '1_000', '١٢', ' 5', '5 ',
  '', ' ', '\t\n', '\r\n', 'null', 'undefined', 'true', 'false', '[]', '{}', '{"a":1}', '[1,2]',
  '\u202Eevil', '🏙️', 'Ω≈ç√', 'ǅ', 'ﬀ', 'İ', 'ß', '\uFEFF', '\uD800', '\uDFFF', 'e\u0301', '\u200B',
  'service,service', ',,,', ',', 'service,area,channel,day', 'service,area,channel,day,week,month', 'day,week', 'agency,service_group,area,channel,month',
  '2026-02-30', '2026-13-01', '2026-00-10', '0000-01-01', '9999-12-31', '1900-01-01', '1969-12-31', '2026-11-15T23:59:60Z', '2026-11-15T23:59:60.5+05:30',
  '2026-11-15T24:00:00Z', '2026-11-15T12:00:00', '2026-11-15', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z', 'now', 'yesterday',
  'Pothole Repair', 'POTHOLE', 'Streets', 'Parks', 'District 6', 'district', 'source', '(no area)', 'phone', 'web',
  'csv', 'json', 'arrow', 'xlsx', 'all', 'core', 'week', 'month', 'day', 'year', 'demo-city', 'myla311', 'open311',
];

const credentials = ['none', 'admin', 'manager', 'planner', 'public', 'other-agency', 'revoked', 'expired', 'garbage', 'basic', 'empty-bearer', 'jwt-garbage', 'cookie-garbage', 'huge'] as const;
type Credential = (typeof credentials)[number];
const MAY_WRITE = new Set<Credential>(['admin', 'manager', 'planner', 'other-agency']);

/** Paths outside the OpenAPI document: the dashboard's files, traversal attempts, near-misses. */
const EXTRA_PATHS = [
  '/', '/index.html', '/200.html', '/favicon.svg', '/signin', '/public', '/embed/x', '/nonexistent', '/docs', '/docs/json', '/docs/yaml', '/docs/static/index.html',
  '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/_app/../../package.json', '/_app/%2e%2e/%2e%2e/package.json',
  '/docs/static/../../../package.json', '/docs/static/%2e%2e%2f%2e%2e%2fpackage.json', '//etc/passwd', '/api/../package.json', '/api/kpis/..', '/api/kpis/',
  '/api//kpis', '/API/KPIS', '/api/kpis%00', '/api/%00', '/api/tokens/%2e%2e%2f', '/api/public/../tokens', '/api/public/%2e%2e/tokens', '/api/ingest/batches//rejects',
  '/%ff', '/%', '/%%', '/\u00e9', '/api/kpis;jsessionid=1', '/api/kpis#frag', '/.env', '/.git/config', '/node_modules/fastify/package.json', '/data/civic.duckdb',
];

function operations(doc: { paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema?: Record<string, unknown> }[]; requestBody?: unknown }>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, byMethod] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(byMethod)) {
      const query: Operation['query'] = {};
      for (const p of op.parameters ?? []) {
        if (p.in !== 'query') continue;
        const s = p.schema ?? {};
        const anyOf = (s.anyOf as { const?: unknown }[] | undefined)?.map((x) => x.const).filter((x) => x !== undefined);
        query[p.name] = { type: s.type as string | undefined, enum: (s.enum as unknown[] | undefined) ?? (anyOf?.length ? anyOf : undefined) };
      }
      ops.push({ method: method.toUpperCase(), path, query, pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name), body: !!op.requestBody || method !== 'get' });
    }
  }
  return ops;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every request, drawn once from a fixed seed (so a failure is the same on every run). */
function generate(ops: Operation[], known: { services: string[]; agencies: string[]; areas: string[] }): FuzzRequest[] {
  const nasty = fc.constantFrom(...NASTY);
  const plausible = fc.constantFrom(...known.services, ...known.agencies, ...known.areas);
  const text = fc.oneof(
    { weight: 5, arbitrary: nasty },
    { weight: 2, arbitrary: plausible },
    { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
    { weight: 1, arbitrary: fc.integer({ min: 300, max: 4500 }).map((n) => 'x'.repeat(n)) },
    { weight: 1, arbitrary: fc.integer({ min: 20, max: 400 }).map((n) => '\u0000é💥'.repeat(n)) },
  );
  const number = fc.oneof(
    fc.integer({ min: -1e6, max: 1e6 }).map(String),
    fc.double({ noNaN: false }).map(String),
    fc.constantFrom('0', '1', '8', '12', '52', '520', '521', '-1', '1.5', '1e3', '99999999999999999999'),
  );
  const date = fc.oneof(
    fc.date({ min: new Date('1800-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
    fc.date({ min: new Date('2025-10-01'), max: new Date('2026-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
    fc.date({ min: new Date('2025-10-01'), max: new Date('2026-12-31'), noInvalidDate: true }).map((d) => d.toISOString()),
  );
  const valueFor = (name: string, spec: Operation['query'][string]) => {
    const options: fc.Arbitrary<string>[] = [text, text];
    if (spec.enum) options.push(fc.constantFrom(...spec.enum.map(String)));
    if (spec.type === 'integer' || spec.type === 'number') options.push(number, number);
    if (/from|to|as_of|since|until/.test(name)) options.push(date, date);
    if (name === 'by') options.push(fc.subarray(['service', 'area', 'channel', 'agency', 'service_group', 'day', 'week', 'month', 'nonsense']).map((a) => a.join(',')));
    return fc.oneof(...options);
  };
  // A lone surrogate has no UTF-8: it goes as the bytes of one (ED A0 80), which is not UTF-8 either.
  const percent = (v: string) => v.split(LONE_SURROGATE).map(encodeURIComponent).join('%ED%A0%80');
  const encode = (v: string) => fc.constantFrom('encoded', 'encoded', 'encoded', 'raw', 'plus').map((how) => (how === 'raw' ? v.replace(/[#&\s]/g, '') : how === 'plus' ? percent(v).replace(/%20/g, '+') : percent(v)));

  const queryFor = (op: Operation) => {
    const names = Object.keys(op.query);
    const known = names.length ? fc.subarray(names, { maxLength: Math.min(5, names.length) }) : fc.constant([] as string[]);
    // Most requests name only known parameters, so the values get past the names to the handlers.
    const unknownName = fc.oneof(fc.constantFrom('servcie', 'limit', 'token', '__proto__', 'constructor', 'by[]', 'a[b]', 'x'.repeat(200), '', '%00', 'from ', 'FROM'), fc.string({ maxLength: 12 }));
    const unknown = fc.oneof({ weight: 4, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.array(unknownName, { minLength: 1, maxLength: 2 }) });
    const repeated = fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
    return fc.tuple(known, unknown, repeated).chain(([k, u, repeat]) => {
      const pairs = [...k, ...u, ...(repeat && k.length ? [k[0]] : [])].map((name) =>
        valueFor(name, op.query[name] ?? {}).chain((v) => encode(v).map((ev) => `${encodeURIComponent(name)}=${ev}`)),
      );
      return pairs.length ? fc.tuple(...pairs).map((p) => p.join('&')) : fc.constant('');
    });
  };

  const validBody = (op: Operation) =>
    op.path === '/api/tokens'
      ? fc.record({ role: fc.constantFrom('admin', 'manager', 'planner', 'public'), name: fc.string({ minLength: 1, maxLength: 20 }) }).map((b) => JSON.stringify(b))
      : fc.record({ token: fc.oneof(nasty, fc.string({ minLength: 1, maxLength: 40 })) }).map((b) => JSON.stringify(b)); // never a real token
  const badBody = fc.oneof(
    fc.constantFrom('{', '{"role":', '[1,2', 'null', '"text"', '1e999', 'NaN', '{"role":"admin",}', "{'role':'admin'}", '{"role":"admin"}{"role":"admin"}', '\uFEFF{"role":"admin"}', ''),
    fc.constantFrom(
      { role: 'root' }, { role: 'admin', name: '' }, { role: 'admin', agencies: 'Parks' }, { role: 'admin', agencies: [1, 2] }, { role: 'admin', extra: 1 },
      { role: ['admin'] }, { role: null }, { __proto__: { admin: true } }, { constructor: { prototype: { admin: true } } }, { token: 5 }, { token: '' }, { token: null },
      { role: 'admin', name: 'x'.repeat(300) }, { role: 'admin', agencies: Array.from({ length: 200 }, (_, i) => `A${i}`) }, { role: 'admin', expires_at: 'never' },
      { role: 'admin', expires_at: '1999-01-01T00:00:00Z' },
    ).map((b) => (b && Object.hasOwn(b, '__proto__') ? '{"__proto__":{"admin":true},"role":"admin"}' : JSON.stringify(b))),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc.integer({ min: 70_000, max: 200_000 }).map((n) => JSON.stringify({ role: 'admin', name: 'x'.repeat(n) })),
    fc.integer({ min: 1000, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  );
  const contentType = fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'application/JSON', 'text/plain', 'text/csv', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', '*/*', 'json', '', 'application/json; charset=\u0000');

  const pathValue = fc.oneof(fc.uuid().map(String), fc.constant('00000000-0000-0000-0000-000000000000'), text.map((v) => v.slice(0, 250)), fc.constantFrom('b_20261129050252_65cc5ec5', '..', '.', '%2e%2e', 'a/b'));
  const request: fc.Arbitrary<FuzzRequest> = fc
    .record({
      target: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...ops) }, { weight: 1, arbitrary: fc.constantFrom(...EXTRA_PATHS) }),
      otherMethod: fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') }),
      credential: fc.constantFrom(...credentials),
      seedValue: fc.integer(),
    })
    .chain(({ target, otherMethod, credential, seedValue }) => {
      const op: Operation = typeof target === 'string' ? { method: 'GET', path: target, query: {}, pathParams: [], body: false } : target;
      const method = otherMethod ?? op.method;
      const params = op.pathParams.length ? fc.tuple(...op.pathParams.map(() => pathValue.chain(encode))) : fc.constant([] as string[]);
      const writes = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
      // A write that a credential could make must be invalid somewhere: the body (or, for an upload, the profile).
      const mustFail = writes && MAY_WRITE.has(credential) && op.path !== '/api/session';
      const body = !op.body && !writes ? fc.constant(undefined) : mustFail ? badBody : fc.oneof(validBody(op), badBody);
      let query = queryFor(op);
      if (op.path === '/api/ingest' && MAY_WRITE.has(credential)) query = query.map((q) => `profile=${NASTY[Math.abs(seedValue) % NASTY.length].split(LONE_SURROGATE).map(encodeURIComponent).join('%ED%A0%80')}&${q}`);
      return fc.record({ params, query, body, contentType, cookie: fc.boolean() }).map(({ params, query, body, contentType, cookie }) => {
        let path = op.path;
        op.pathParams.forEach((name, i) => (path = path.replace(`{${name}}`, params[i])));
        const headers: Record<string, string> = {};
        if (body !== undefined) headers['content-type'] = contentType;
        if (cookie || credential === 'cookie-garbage') headers.cookie = `civic_session=${credential === 'cookie-garbage' ? 's%3Agarbage.signature' : 'x'}`;
        return { method, url: query ? `${path}?${query}` : path, headers, payload: body, route: `${method} ${op.path}`, credential, mustFail } satisfies FuzzRequest;
      });
    });
  return fc.sample(request, { seed: SEED, numRuns: REQUESTS });
}

/** What must never reach a client: our paths, stack frames, DuckDB's own errors, files outside the dashboard. */
const INTERNALS = /\/work\/|\/tmp\/|node_modules|\.ts:\d+|\bat [\w.<>]+ \(|DuckDB|Binder Error|Parser Error|Catalog Error|Conversion Error|INTERNAL Error|root:x:0:0|"name": ?"civic-pulse"/;
/** The answer without the request's own path, which a 404 repeats ("No route GET /node_modules/…"). */
function withoutEcho(body: string, url: string): string {
  const path = url.split('?', 1)[0];
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // not decodable: only the raw path is echoed
  }
  return body.replaceAll(path, '').replaceAll(decoded, '');
}

/** Every table's row count and an order-free hash of its rows: any insert, update or delete changes it. */
async function fingerprint(wh: Warehouse, except: RegExp): Promise<Record<string, { n: number; h: string }>> {
  const tables = await wh.all<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1`);
  const out: Record<string, { n: number; h: string }> = {};
  for (const { name } of tables) {
    if (except.test(name)) continue;
    out[name] = (await wh.one<{ n: number; h: string }>(`SELECT count(*)::INTEGER AS n, coalesce(bit_xor(hash(t)), 0)::VARCHAR AS h FROM "${name}" t`))!;
  }
  return out;
}

describe('bad input on every route', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  const tokens = {} as Record<Credential, string | undefined>;

  beforeAll(async () => {
    t = await demoWarehouse();
    const make = async (role: 'admin' | 'manager' | 'planner' | 'public', agencies?: string[], expires_at?: string) => (await createToken(t.wh, { name: `fuzz ${role}`, role, agencies, expires_at })).token;
    tokens.admin = await make('admin');
    tokens.manager = await make('manager');
    tokens.planner = await make('planner');
    tokens.public = await make('public');
    tokens['other-agency'] = await make('manager', ['Parks']);
    const revoked = await createToken(t.wh, { name: 'fuzz revoked', role: 'admin' });
    await revokeToken(t.wh, revoked.token_id);
    tokens.revoked = revoked.token;
    tokens.expired = await make('admin', undefined, new Date(Date.now() + 1000).toISOString());
    tokens.garbage = 'cp_' + 'A'.repeat(32);
    tokens.basic = undefined;
    fastify = Fastify({ logger: false, ...FASTIFY_OPTIONS });
    await fastify.register(app, {
      warehouse: t.wh,
      config: { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)' },
      // The real dashboard build when there is one: its files are part of what a client can reach.
      dashboardDir: existsSync(DEFAULT_DASHBOARD_DIR) ? DEFAULT_DASHBOARD_DIR : '/nonexistent',
      // The rate limit has its own test (security.test.ts): here the public routes must see every request.
      limits: { public_per_minute: 1_000_000 },
    });
    await fastify.ready();
    await new Promise((r) => setTimeout(r, 1100)); // the expired token has expired
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  const authHeader = (c: Credential): Record<string, string> => {
    switch (c) {
      case 'none':
      case 'cookie-garbage':
        return {};
      case 'basic':
        return { authorization: 'Basic YWRtaW46YWRtaW4=' };
      case 'empty-bearer':
        return { authorization: 'Bearer ' };
      case 'jwt-garbage':
        return { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJyb2xlcyI6WyJhZG1pbiJdfQ.' };
      case 'huge':
        return { authorization: `Bearer ${'z'.repeat(6000)}` };
      default:
        return { authorization: `Bearer ${tokens[c]}` };
    }
  };

  it(`${REQUESTS} generated requests to every route: no 5xx, no internals in any answer, no write accepted, the warehouse unchanged, the server alive`, async () => {
    const doc = (await fastify.inject('/docs/json')).json();
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(15);
    const dims = (await fastify.inject({ url: '/api/dimensions', headers: authHeader('admin') })).json();
    const names = (xs: unknown) => (Array.isArray(xs) ? xs.map((x) => (typeof x === 'string' ? x : String((x as { name?: string; code?: string }).name ?? (x as { code?: string }).code))) : []);
    const requests = generate(ops, { services: names(dims.services), agencies: names(dims.agencies), areas: names(dims.areas).slice(0, 10) });
    // Audit rows record who read what (a read is meant to add one); nothing else may change.
    const before = await fingerprint(t.wh, /audit/);

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const byRoute = new Map<string, number>();
    let unsent = 0;
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const r = requests[next++];
        const headers = { ...r.headers, ...authHeader(r.credential as Credential) };
        let res;
        try {
          res = await fastify.inject({ method: r.method as 'GET', url: r.url, headers, payload: r.payload });
        } catch {
          unsent++; // the client library refused to build it (e.g. a header it cannot send): not the server's doing
          continue;
        }
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        byRoute.set(r.route, (byRoute.get(r.route) ?? 0) + 1);
        const show = () => `${r.method} ${r.url.slice(0, 300)} [${r.credential}${r.payload !== undefined ? `, ${headers['content-type']}, body ${String(r.payload).slice(0, 80)}` : ''}] → ${res.statusCode} ${res.body.slice(0, 200)}`;
        if (res.statusCode >= 500) failures.push(`5xx: ${show()}`);
        else if (r.mustFail && res.statusCode < 400) failures.push(`a malformed write was accepted: ${show()}`);
        else if (!r.url.startsWith('/docs/') && INTERNALS.test(withoutEcho(res.body, r.url))) failures.push(`internals in the answer: ${show()}`);
        else if (r.method !== 'HEAD' && r.url.startsWith('/api/') && res.statusCode >= 400) {
          let body: { message?: unknown; statusCode?: unknown } | null = null;
          try {
            body = res.json();
          } catch {
            // reported below
          }
          if (typeof body?.message !== 'string' || body.statusCode !== res.statusCode) failures.push(`an error not in the one shape: ${show()}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;

    console.log(
      `fuzz: ${requests.length - unsent} requests sent (${unsent} refused by the client library) in ${seconds.toFixed(1)} s over ${byRoute.size} routes; ` +
        `statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
    );
    expect(failures.slice(0, 20)).toEqual([]);
    expect(requests.length - unsent).toBeGreaterThan(REQUESTS * 0.9);
    // Every route in the OpenAPI document was tried.
    for (const op of ops) expect(byRoute.get(`${op.method} ${op.path}`) ?? 0, `${op.method} ${op.path}`).toBeGreaterThan(20);

    const health = await fastify.inject('/api/health');
    expect(health.statusCode).toBe(200);
    expect(await fingerprint(t.wh, /audit/)).toEqual(before);
  }, 300_000); // about 15 s alone; minutes on a machine busy with other suites

  // Issue 15's reproductions: each was a 500 or worse; each must be a 4xx that says what was wrong.
  it.each([
    ['/api/trends?from=2026-01-01&to=9999-12-31'],
    ['/api/trends?from=1900-01-01&period=day'],
    ['/api/kpis?from=0001-01-01&to=9999-12-31&by=day'],
    ['/api/kpis?as_of=2026-11-15T23:59:60Z'],
    ['/api/trends?as_of=2026-11-15T23:59:60%2B05:00'],
    ['/api/equity?as_of=2026-11-15T23:59:60.5Z'],
    ['/api/hotspots?as_of=2026-11-15T23:59:60Z'],
    // Found by this test: "1e309" passed the schema as an integer (Infinity) and reached SQL.
    ['/api/audit?principal=Code+Enforcement&limit=1e309'],
    ['/api/audit?offset=Infinity'],
  ])('%s is a 4xx with a message, and the server answers on', async (url) => {
    const res = await fastify.inject({ url, headers: authHeader('admin') });
    expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
    expect(res.statusCode, res.body).toBeLessThan(500);
    expect(res.json().message).toEqual(expect.any(String));
    expect((await fastify.inject('/api/health')).statusCode).toBe(200);
  });

  // Cells are counted before they are built: every service × area × channel × day is estimated
  // from the data's dimensions before any query runs; daily series are counted from the sparse
  // query before their zeros are filled. Past limits.max_cells, either is a 413 that says what
  // to narrow (a budget of 20,000 here: the demo city's year holds about 29,000 service × area
  // days; the default, 250,000, leaves room for a real city's year of them).
  it.each([
    ['/api/trends?period=day&by=service,area&weeks=52', /would have [\d,]+ points of daily series \(service × area × day; anomalies are found in daily series whatever the period\), more than the 20,000 a request may ask for \(limits\.max_cells\)\. Narrow it: a shorter window/],
    ['/api/kpis?from=2016-11-16&to=2026-11-15&by=service,area,channel,day', /could have up to [\d,]+ rows \(one per service × area × channel × day\), more than the 20,000 .*\(limits\.max_cells\)/],
  ])('%s is a 413 before the cells are built', async (url, message) => {
    const small = Fastify({ logger: false, ...FASTIFY_OPTIONS });
    // Its own connection: closing the app closes it, not the suite's warehouse.
    await small.register(app, { warehouse: await t.wh.connect(), config: { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)' }, dashboardDir: '/nonexistent', limits: { max_cells: 20_000 } });
    try {
      const res = await small.inject({ url, headers: authHeader('admin') });
      expect(res.statusCode, res.body).toBe(413);
      expect(res.json().message).toMatch(message);
      // A filter brings the same request under the budget.
      const narrowed = await small.inject({ url: `${url.replace('from=2016-11-16', 'from=2026-10-01')}&service=POTHOLE`, headers: authHeader('admin') });
      expect(narrowed.statusCode, narrowed.body).toBe(200);
    } finally {
      await small.close();
    }
  });
});
