// Who may see what (issue 9, items 1–3): every route declares its access and the OpenAPI document
// shows it; staff routes refuse anonymous and public callers; tokens expire; dashboard sessions
// (signed, HttpOnly, SameSite=Strict cookies) sign in, out and expire; OpenID Connect JWTs are
// verified against the configured issuer, audience and keys; a caller limited to agencies sees
// exactly what an unlimited caller sees when filtering by those agencies, on every staff route;
// and every read of staff data lands in the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { parse } from 'csv-parse/sync';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoWarehouse } from '../demo-warehouse.ts';
import { bearer, injectAs, testApp, type Inject } from '../app-helper.ts';
import { parseConfig } from '../../api/config.ts';
import { checkAgencies, createToken, parseExpiry } from '../../warehouse/access/tokens.ts';
import { forgetCredentialChecks } from '../../warehouse/access/kept-checks.ts';

const TZ_CONFIG = { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)' };
const WINDOW = 'from=2026-09-01&to=2026-09-30&as_of=2026-10-03T00:00:00Z';
const AGENCY = 'Sanitation';
const SANITATION_SERVICES = ['Bulky Item Pickup', 'Illegal Dumping', 'Missed Trash Pickup'];

/** Every staff GET route with a request that exercises it; a new staff route must be added here (a test checks). */
const STAFF_REQUESTS: Record<string, string[]> = {
  '/api/kpis': [`/api/kpis?by=service&${WINDOW}`, `/api/kpis?by=area,week&${WINDOW}`, `/api/kpis?by=service&${WINDOW}&format=csv&columns=all`],
  '/api/trends': ['/api/trends?by=service&weeks=52'],
  '/api/equity': [`/api/equity?${WINDOW}&min_cases=1`, `/api/equity?${WINDOW}&min_cases=1&format=csv`],
  '/api/hotspots': [`/api/hotspots?${WINDOW}`],
  '/api/dimensions': ['/api/dimensions'],
  '/api/overview': [`/api/overview?${WINDOW}`, `/api/overview?${WINDOW}&format=csv&table=services`],
  '/api/survival': [`/api/survival?${WINDOW}&by=service`, `/api/survival?${WINDOW}&by=area&duration=first_response&format=csv`],
  '/api/contact-centre': [`/api/contact-centre?by=team,channel&${WINDOW}`, `/api/contact-centre?by=team&${WINDOW}&format=csv`],
  '/api/contact-centre/dimensions': ['/api/contact-centre/dimensions'],
  '/api/forecast': ['/api/forecast?by=service&horizon=2', '/api/forecast?by=area&format=csv'],
  '/api/map/areas': [`/api/map/areas?${WINDOW}&measure=on_time_rate`, `/api/map/areas?${WINDOW}&measure=opened&format=csv`],
  '/api/map/hotspots': [`/api/map/hotspots?${WINDOW}`, `/api/map/hotspots?${WINDOW}&format=csv`],
  '/api/repeat-locations': ['/api/repeat-locations?weeks=52', '/api/repeat-locations?weeks=52&format=geojson'],
  '/api/whatif': ['/api/whatif?service=POTHOLE&move=D2:D6:1&crews=D2:4,D6:3&horizon=2', '/api/whatif?service=POTHOLE&horizon=2&format=csv'],
};

/** Staff routes for admins and managers only (not planners): the scope comparison below runs as a planner, so these have their own tests (cases.test.ts). */
// Routes for managers and admins only (planners get 403), each tested in its own suite:
// cases (cases.test.ts), reports (reports.test.ts), alerts (alerts.test.ts).
const MANAGER_ROUTES = [
  '/api/cases', '/api/cases/{case_id}',
  '/api/reports', '/api/reports/{id}', '/api/reports/runs', '/api/reports/runs/{run_id}', '/api/reports/runs/{run_id}/files/{name}',
  '/api/alerts', '/api/alerts/{id}/events',
];

type Doc = { paths: Record<string, Record<string, { security?: unknown[]; 'x-access'?: string; responses?: Record<string, unknown> }>> };

describe('access: routes, tokens, sessions, scopes and the audit log', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let fastify: FastifyInstance;
  let admin: Inject;
  let unscoped: Inject;
  let scoped: Inject;
  let doc: Doc;
  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh, { ...TZ_CONFIG, auth: { session_secret: 'a-test-secret-that-is-long-enough-1234', session_hours: 8, oidc: null } });
    admin = await injectAs(fastify, t.wh, 'admin');
    unscoped = await injectAs(fastify, t.wh, 'planner');
    scoped = await injectAs(fastify, t.wh, 'manager', [AGENCY]);
    doc = (await fastify.inject('/docs/json')).json();
  });
  afterAll(async () => {
    await fastify?.close();
    t?.cleanup();
  });

  describe('every route declares who may call it', () => {
    it('the OpenAPI document shows each /api route its access and security', () => {
      const seen: Record<string, string> = {};
      for (const [path, ops] of Object.entries(doc.paths)) {
        if (!path.startsWith('/api/')) continue;
        for (const [method, op] of Object.entries(ops)) {
          seen[`${method.toUpperCase()} ${path}`] = op['x-access']!;
          expect(['public', 'staff', 'admin'], `${method} ${path}`).toContain(op['x-access']);
          if (op['x-access'] === 'public') expect(op.security, `${method} ${path}`).toEqual([]);
          else {
            expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }, { session: [] }]);
            expect(Object.keys(op.responses ?? {}), `${method} ${path}`).toEqual(expect.arrayContaining(['401', '403']));
          }
        }
      }
      expect(seen).toMatchObject({
        'GET /api/health': 'public',
        'GET /api/measures': 'public',
        'GET /api/session': 'public',
        'POST /api/session': 'public',
        'DELETE /api/session': 'public',
        'GET /api/kpis': 'staff',
        'GET /api/trends': 'staff',
        'GET /api/equity': 'staff',
        'GET /api/hotspots': 'staff',
        'GET /api/dimensions': 'staff',
        'POST /api/ingest': 'admin',
        'GET /api/tokens': 'admin',
        'POST /api/tokens': 'admin',
        'DELETE /api/tokens/{token_id}': 'admin',
        'GET /api/ingest/batches/{batch_id}/rejects': 'admin',
        'GET /api/audit': 'admin',
      });
      for (const [route, access] of Object.entries(seen)) if (route.includes('/api/public/')) expect(access, route).toBe('public');
      // Every staff route is exercised by the scope comparison below.
      expect(Object.entries(seen).filter(([r, a]) => a === 'staff' && r.startsWith('GET ')).map(([r]) => r.slice(4)).sort()).toEqual([...Object.keys(STAFF_REQUESTS), ...MANAGER_ROUTES].sort());
      const schemes = (doc as unknown as { components: { securitySchemes: Record<string, unknown> } }).components.securitySchemes;
      expect(schemes.session).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'civic_session' });
    });

    it('staff routes: 401 without a credential, 401 for a bad one, 403 for a public token; public routes answer anyone', async () => {
      const publicToken = await bearer(t.wh, 'public');
      for (const url of Object.values(STAFF_REQUESTS).map((u) => u[0])) {
        const none = await fastify.inject(url);
        expect(none.statusCode, url).toBe(401);
        expect(none.headers['www-authenticate'], url).toBe('Bearer');
        expect(none.json().message, url).toMatch(/needs a token or a dashboard session/);
        expect((await fastify.inject({ url, headers: { authorization: 'Bearer cp_nope' } })).statusCode, url).toBe(401);
        expect((await fastify.inject({ url, headers: { authorization: 'Basic abc' } })).statusCode, url).toBe(401);
        const pub = await fastify.inject({ url, headers: publicToken });
        expect(pub.statusCode, url).toBe(403);
        expect(pub.json().message, url).toBe('This needs the role admin, manager or planner; the token has public.');
      }
      for (const url of ['/api/health', '/api/measures', '/api/session']) expect((await fastify.inject(url)).statusCode, url).toBe(200);
      // The credential is checked before the parameters: an anonymous caller learns nothing but "sign in".
      expect((await fastify.inject('/api/kpis?servce=x&format=xlsx')).statusCode).toBe(401);
      expect((await fastify.inject({ method: 'POST', url: '/api/tokens', payload: { role: 'root' } })).statusCode).toBe(401);
      expect((await fastify.inject({ url: '/api/kpis?servce=x', headers: publicToken })).statusCode).toBe(403);
      // A JWT with no OpenID Connect configured is refused, not guessed at.
      const jwtish = await fastify.inject({ url: '/api/kpis', headers: { authorization: 'Bearer aaa.bbb.ccc' } });
      expect(jwtish.statusCode).toBe(401);
      expect(jwtish.json().message).toMatch(/auth\.oidc is not configured/);
    });

    it('a bad, revoked or malformed bearer credential is a 401 on open routes too; no credential is still welcome there', async () => {
      const made = await createToken(t.wh, { name: 'soon revoked', role: 'public' });
      const good = { authorization: `Bearer ${made.token}` };
      const openUrls = ['/api/health', '/api/measures', '/api/session', '/api/public/kpis', '/favicon.svg', '/no-such-page'];
      for (const url of openUrls) {
        expect((await fastify.inject(url)).statusCode, url).not.toBe(401);
        expect((await fastify.inject({ url, headers: good })).statusCode, url).not.toBe(401);
        for (const [authorization, message] of [
          ['Bearer cp_nope', /not valid \(unknown\)/],
          ['Basic abc', /must read "Bearer <token>"/],
          ['Bearer aaa.bbb.ccc', /auth\.oidc is not configured/],
        ] as const) {
          const res = await fastify.inject({ url, headers: { authorization } });
          expect(res.statusCode, `${url} ${authorization}`).toBe(401);
          expect(res.headers['www-authenticate'], url).toBe('Bearer');
          expect(res.json().message, url).toMatch(message);
        }
      }
      expect((await fastify.inject({ method: 'DELETE', url: `/api/tokens/${made.token_id}`, headers: await bearer(t.wh, 'admin') })).statusCode).toBe(200);
      for (const url of openUrls) {
        const revoked = await fastify.inject({ url, headers: good });
        expect(revoked.statusCode, url).toBe(401);
        expect(revoked.json().message, url).toBe('The token was revoked.');
      }
    });
  });

  describe('tokens', () => {
    it('expire: an expired token is refused with a message that says so, and is listed as expired', async () => {
      const { token, token_id } = await createToken(t.wh, { name: 'short-lived', role: 'planner', expires_at: parseExpiry('1h') });
      const headers = { authorization: `Bearer ${token}` };
      expect((await fastify.inject({ url: '/api/dimensions', headers })).statusCode).toBe(200);
      await t.wh.run(`UPDATE api_tokens SET expires_at = now() - INTERVAL 1 MINUTE WHERE token_id = $id`, { id: token_id });
      // Time moved by hand, which no server path does: the check the server kept is dropped as a
      // revocation would drop it (a real expiry is honoured by the kept check itself: kept-checks.test.ts).
      forgetCredentialChecks();
      const res = await fastify.inject({ url: '/api/dimensions', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().message).toBe('The token has expired: ask an admin for a new one (civic token create).');
      const listed = (await admin('/api/tokens')).json().tokens.find((x: { token_id: string }) => x.token_id === token_id);
      expect(listed).toMatchObject({ status: 'expired', expires_at: expect.stringMatching(/^\d{4}-/), revoked_at: null });
    });

    it('expire on the clock: a token the server has just accepted is refused once its time has passed', async () => {
      // No hand-made UPDATE here: the check the server kept (kept-checks.ts) ends with the token.
      // Three seconds: room for two answers on a loaded CI machine before the token ends.
      const { token } = await createToken(t.wh, { name: 'three seconds', role: 'planner', expires_at: new Date(Date.now() + 3000).toISOString() });
      const headers = { authorization: `Bearer ${token}` };
      expect((await fastify.inject({ url: '/api/dimensions', headers })).statusCode).toBe(200);
      expect((await fastify.inject({ url: '/api/dimensions', headers })).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 3100));
      const res = await fastify.inject({ url: '/api/dimensions', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().message).toBe('The token has expired: ask an admin for a new one (civic token create).');
    });

    it('last 90 days unless told otherwise; "never" on purpose; a time in the past is refused', async () => {
      const created = (await admin({ method: 'POST', url: '/api/tokens', payload: { role: 'planner' } })).json();
      const days = (new Date(created.expires_at).getTime() - Date.now()) / 86400e3;
      expect(days).toBeGreaterThan(89.9);
      expect(days).toBeLessThan(90.1);
      expect((await admin({ method: 'POST', url: '/api/tokens', payload: { role: 'planner', expires_at: null } })).json()).toMatchObject({ expires_at: null, status: 'active' });
      const past = await admin({ method: 'POST', url: '/api/tokens', payload: { role: 'planner', expires_at: '2020-01-01T00:00:00Z' } });
      expect(past.statusCode).toBe(400);
      expect(past.json().message).toMatch(/not in the future/);
      expect(parseExpiry('never')).toBeNull();
      expect(parseExpiry('2w', 'x', new Date('2026-01-01T00:00:00Z'))).toBe('2026-01-15T00:00:00.000Z');
      expect(parseExpiry('2027-01-31', 'x', new Date('2026-01-01T00:00:00Z'))).toBe('2027-01-31T23:59:59.999Z');
      expect(() => parseExpiry('soon', '--expires-in')).toThrow(/--expires-in "soon" is not an expiry/);
    });

    it('agencies: an empty list is refused (it would see nothing), and so is a name the data does not have', async () => {
      await expect(createToken(t.wh, { name: 'x', role: 'manager', agencies: [] })).rejects.toThrow(/an empty agency name or list would let the token see no case/);
      await expect(createToken(t.wh, { name: 'x', role: 'manager', agencies: ['Sanitaton'] })).rejects.toThrow(/"Sanitaton" is not an agency in the data; closest: "Sanitation"/);
      expect(await checkAgencies(t.wh, [' Parks ', 'Parks'])).toEqual({ agencies: ['Parks'], warnings: [] });
      const empty = await admin({ method: 'POST', url: '/api/tokens', payload: { role: 'manager', agencies: [] } });
      expect(empty.statusCode).toBe(400);
      expect(empty.json().message).toMatch(/^body\/agencies /);
      const unknown = await admin({ method: 'POST', url: '/api/tokens', payload: { role: 'manager', agencies: ['Parkz'] } });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().message).toMatch(/"Parkz" is not an agency in the data; closest: "Parks"/);
    });
  });

  describe('dashboard sessions', () => {
    const signIn = (token: string, headers: Record<string, string> = {}) =>
      fastify.inject({ method: 'POST', url: '/api/session', payload: JSON.stringify({ token }), headers: { 'content-type': 'application/json', ...headers } });
    const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie']).split(';')[0];

    it('a token in, a signed HttpOnly SameSite=Strict cookie out, good for staff routes and scoped like the token', async () => {
      const { token } = await createToken(t.wh, { name: 'dana', role: 'manager', agencies: [AGENCY] });
      const res = await signIn(token);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ signed_in: true, name: 'dana', role: 'manager', agencies: [AGENCY], via: 'session' });
      const setCookie = String(res.headers['set-cookie']);
      expect(setCookie).toMatch(/^civic_session=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_+/=-]+;/); // the id, then its signature
      expect(setCookie).toMatch(/; HttpOnly/);
      expect(setCookie).toMatch(/; SameSite=Strict/);
      expect(setCookie).toMatch(/; Path=\//);
      const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)![1]);
      expect(maxAge).toBeGreaterThan(8 * 3600 - 60);
      expect(maxAge).toBeLessThanOrEqual(8 * 3600);
      expect(setCookie).not.toContain(token);
      const cookie = cookieOf(res);
      const who = (await fastify.inject({ url: '/api/session', headers: { cookie } })).json();
      expect(who).toMatchObject({ signed_in: true, name: 'dana', via: 'session', expires_at: res.json().expires_at });
      const dims = await fastify.inject({ url: '/api/dimensions', headers: { cookie } });
      expect(dims.statusCode).toBe(200);
      expect(dims.json().agencies).toEqual([AGENCY]);
      expect((await fastify.inject('/api/session')).json()).toEqual({ signed_in: false });
    });

    it('a changed cookie, or one signed with another secret, is refused', async () => {
      const { token } = await createToken(t.wh, { name: 'eve', role: 'planner' });
      const cookie = cookieOf(await signIn(token));
      const [name, value] = cookie.split('=');
      const [id, signature] = value.split('.');
      const otherId = `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;
      for (const forged of [`${name}=${otherId}.${signature}`, `${name}=${id}`, `${name}=${id}.${signature.slice(0, -2)}xx`]) {
        const res = await fastify.inject({ url: '/api/kpis', headers: { cookie: forged } });
        expect(res.statusCode, forged).toBe(401);
        expect(res.json().message).toMatch(/session cookie is not valid/);
      }
      // Another connection to the same database: closing this app must not close the suite's warehouse.
      const other = await testApp(await t.wh.connect(), { ...TZ_CONFIG, auth: { session_secret: 'another-secret-that-is-long-enough-5678', session_hours: 8, oidc: null } });
      try {
        expect((await other.inject({ url: '/api/dimensions', headers: { cookie } })).statusCode).toBe(401);
      } finally {
        await other.close();
      }
    });

    it('sign-out ends the session on the server (a copied cookie stops working) and clears the cookie', async () => {
      const { token } = await createToken(t.wh, { name: 'fay', role: 'planner' });
      const cookie = cookieOf(await signIn(token));
      expect((await fastify.inject({ url: '/api/dimensions', headers: { cookie } })).statusCode).toBe(200);
      const out = await fastify.inject({ method: 'DELETE', url: '/api/session', headers: { cookie } });
      expect(out.statusCode).toBe(200);
      expect(out.json()).toEqual({ signed_in: false });
      expect(String(out.headers['set-cookie'])).toMatch(/^civic_session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict/);
      const after = await fastify.inject({ url: '/api/dimensions', headers: { cookie } });
      expect(after.statusCode).toBe(401);
      expect(after.json().message).toBe('The session was signed out: sign in again at /signin.');
    });

    it('expires after auth.session_hours, and never outlives the token it came from', async () => {
      const short = await testApp(await t.wh.connect(), { ...TZ_CONFIG, auth: { session_secret: 'a-test-secret-that-is-long-enough-1234', session_hours: 0.5, oidc: null } });
      try {
        const { token, token_id } = await createToken(t.wh, { name: 'gus', role: 'planner' });
        const res = await short.inject({ method: 'POST', url: '/api/session', payload: { token } });
        expect(Number(/Max-Age=(\d+)/.exec(String(res.headers['set-cookie']))![1])).toBeLessThanOrEqual(1800);
        const cookie = cookieOf(res);
        await t.wh.run(`UPDATE sessions SET expires_at = now() - INTERVAL 1 SECOND WHERE token_id = $id`, { id: token_id });
        forgetCredentialChecks(); // time moved by hand (see the token expiry test above)
        const expired = await short.inject({ url: '/api/dimensions', headers: { cookie } });
        expect(expired.statusCode).toBe(401);
        expect(expired.json().message).toBe('The session has expired: sign in again at /signin.');
      } finally {
        await short.close();
      }
      const soon = await createToken(t.wh, { name: 'hal', role: 'planner', expires_at: parseExpiry('1h') });
      const capped = await signIn(soon.token);
      expect(new Date(capped.json().expires_at).getTime()).toBeLessThanOrEqual(Date.now() + 3600e3);
      // Revoking the token ends its sessions at once.
      const cookie = cookieOf(capped);
      expect((await admin({ method: 'DELETE', url: `/api/tokens/${soon.token_id}` })).statusCode).toBe(200);
      const revoked = await fastify.inject({ url: '/api/dimensions', headers: { cookie } });
      expect(revoked.statusCode).toBe(401);
      expect(revoked.json().message).toMatch(/was revoked or has expired/);
    });

    it('refuses a bad, expired or public token, a body that is not JSON, and a sign-in from another site', async () => {
      expect((await signIn('cp_nope')).statusCode).toBe(401);
      const pub = await createToken(t.wh, { name: 'kiosk', role: 'public' });
      const p = await signIn(pub.token);
      expect(p.statusCode).toBe(403);
      expect(p.json().message).toMatch(/public token cannot sign in/);
      expect(p.headers['set-cookie']).toBeUndefined();
      const { token } = await createToken(t.wh, { name: 'ivy', role: 'planner' });
      const form = await fastify.inject({ method: 'POST', url: '/api/session', payload: JSON.stringify({ token }), headers: { 'content-type': 'text/plain' } });
      expect(form.statusCode).toBe(400); // not an object: refused before anything else
      expect(form.headers['set-cookie']).toBeUndefined();
      const cross = await signIn(token, { origin: 'https://evil.example' });
      expect(cross.statusCode).toBe(403);
      expect((await signIn(token, { origin: 'http://localhost:3000', host: 'localhost:3000' })).statusCode).toBe(200);
      expect((await signIn(token, { origin: 'http://localhost', host: 'localhost:80' })).statusCode).toBe(200);
      expect((await signIn(token, { 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403);
      // With a session, a write from another site is refused even where the role would allow it.
      const adminToken = await createToken(t.wh, { name: 'root', role: 'admin' });
      const cookie = cookieOf(await signIn(adminToken.token));
      const write = await fastify.inject({ method: 'POST', url: '/api/tokens', payload: { role: 'planner' }, headers: { cookie, origin: 'https://evil.example' } });
      expect(write.statusCode).toBe(403);
      expect((await fastify.inject({ method: 'POST', url: '/api/tokens', payload: { role: 'planner' }, headers: { cookie } })).statusCode).toBe(201);
    });
  });

  describe('agency scopes on every staff route', () => {
    /** The answer without what says which filter was applied (the scope is no filter the caller gave). */
    const strip = (body: unknown): unknown => {
      if (Array.isArray(body)) return body.map(strip);
      if (body && typeof body === 'object') return Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'filter').map(([k, v]) => [k, strip(v)]));
      return body;
    };

    it('a scoped caller gets exactly what an unscoped caller gets by filtering to the agency: JSON, CSV and the map', async () => {
      for (const [route, urls] of Object.entries(STAFF_REQUESTS)) {
        if (route.endsWith('/dimensions')) continue;
        // One service belongs to one agency: a scoped caller's what-if of its own service is the city's, another's a 400 (test/api/whatif.test.ts).
        if (route === '/api/whatif') continue;
        for (const url of urls) {
          const mine = await scoped(url);
          const all = await unscoped(`${url}&agency=${AGENCY}`);
          expect(mine.statusCode, url).toBe(200);
          expect(all.statusCode, url).toBe(200);
          if (url.includes('format=csv')) expect(mine.body, url).toBe(all.body);
          else expect(strip(mine.json()), url).toEqual(strip(all.json()));
          // …and not what the whole city gets.
          expect(mine.body, url).not.toBe((await unscoped(url)).body);
        }
      }
      // Three requests for every staff route's URLs (twenty-odd routes, forecasts among them): a
      // minute is not enough on a loaded two-core machine.
    }, 240_000);

    it('KPI totals: the scoped total is the agency row of the unscoped split; rows and CSV name only its services', async () => {
      const byAgency = (await unscoped(`/api/kpis?by=agency&${WINDOW}`)).json().rows as { agency: string; opened: number; backlog: number }[];
      expect(byAgency.length).toBeGreaterThan(3);
      const sanitation = byAgency.find((r) => r.agency === AGENCY)!;
      const total = (await scoped(`/api/kpis?${WINDOW}`)).json().rows[0];
      expect(total.opened).toBe(sanitation.opened);
      expect(total.backlog).toBe(sanitation.backlog);
      expect((await scoped(`/api/kpis?by=agency&${WINDOW}`)).json().rows.map((r: { agency: string }) => r.agency)).toEqual([AGENCY]);
      const csv = parse((await scoped(`/api/kpis?by=service&${WINDOW}&format=csv`)).body, { columns: true }) as { service: string; opened: string }[];
      expect(csv.map((r) => r.service).sort()).toEqual(SANITATION_SERVICES);
      expect(csv.reduce((s, r) => s + Number(r.opened), 0)).toBe(sanitation.opened);
      const geo = (await scoped(`/api/hotspots?${WINDOW}`)).json();
      expect(geo.features.reduce((s: number, f: { properties: { count: number } }) => s + f.properties.count, 0)).toBe(sanitation.opened);
      const equity = (await scoped(`/api/equity?${WINDOW}&min_cases=1`)).json();
      expect(equity.areas.reduce((s: number, a: { cases: number }) => s + a.cases, 0) + equity.cases_in_no_area).toBe(sanitation.opened);
      // The demo city's planted trend is in Pothole Repair (Streets): not the Sanitation manager's to see.
      const trends = (await scoped('/api/trends?by=service&weeks=52')).json();
      for (const f of [...trends.trends, ...trends.anomalies]) expect(SANITATION_SERVICES, f.sentence).toContain(f.service);
      expect(trends.series_tested).toBe(3);
    });

    it('dimensions are narrowed to the scope, and another agency is not a filter the caller may use', async () => {
      const d = (await scoped('/api/dimensions')).json();
      expect(d.agencies).toEqual([AGENCY]);
      expect(d.services.map((s: { name: string }) => s.name).sort()).toEqual(SANITATION_SERVICES);
      expect((await unscoped('/api/dimensions')).json().agencies.length).toBeGreaterThan(3);
      const other = await scoped(`/api/kpis?agency=Parks&${WINDOW}`);
      expect(other.statusCode).toBe(400);
      expect(other.json().message).toMatch(/^querystring\/agency "Parks" is not an agency in your scope; closest: "Sanitation"/);
    });
  });

  describe('the audit log', () => {
    it('records who read staff data (principal, route, parameters, rows, time), readable by admins only', async () => {
      const reader = await createToken(t.wh, { name: 'auditee', role: 'manager', agencies: [AGENCY] });
      const headers = { authorization: `Bearer ${reader.token}` };
      const before = Date.now();
      expect((await fastify.inject({ url: `/api/kpis?by=service&${WINDOW}`, headers })).statusCode).toBe(200);
      expect((await fastify.inject({ url: `/api/kpis?by=service&${WINDOW}&format=csv`, headers })).statusCode).toBe(200);
      expect((await fastify.inject({ url: `/api/hotspots?${WINDOW}`, headers })).statusCode).toBe(200);
      expect((await fastify.inject({ url: '/api/tokens', headers })).statusCode).toBe(403);
      expect((await fastify.inject({ url: '/api/kpis?by=service' })).statusCode).toBe(401); // anonymous: nobody to record

      const res = await admin(`/api/audit?principal=${reader.token_id}`);
      expect(res.statusCode).toBe(200);
      const { total, entries } = res.json();
      expect(total).toBe(4);
      const [refused, map, csv, json] = entries;
      expect(json).toMatchObject({
        principal_id: reader.token_id, principal_name: 'auditee', role: 'manager', agencies: [AGENCY], via: 'token',
        method: 'GET', route: '/api/kpis', parameters: { by: 'service', from: '2026-09-01', to: '2026-09-30', as_of: '2026-10-03T00:00:00Z' },
        status: 200, rows_returned: 3, request_id: expect.any(String),
      });
      expect(new Date(json.at).getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(json.duration_ms).toBeGreaterThan(0);
      expect(csv).toMatchObject({ route: '/api/kpis', parameters: { format: 'csv' }, rows_returned: 3 });
      expect(map).toMatchObject({ route: '/api/hotspots', status: 200, rows_returned: expect.any(Number) });
      expect(map.rows_returned).toBeGreaterThan(10);
      expect(refused).toMatchObject({ route: '/api/tokens', status: 403, rows_returned: null });

      expect((await admin('/api/audit?route=/api/hotspots&limit=1')).json().entries[0]).toMatchObject({ route: '/api/hotspots' });
      expect((await admin('/api/audit?since=2999-01-01')).json()).toMatchObject({ total: 0, entries: [] });
      const bad = await admin('/api/audit?since=yesterday');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toMatch(/^querystring\/since "yesterday" is not a date/);
      const asCsv = await admin(`/api/audit?principal=auditee&format=csv`);
      expect(asCsv.headers['content-type']).toMatch(/^text\/csv/);
      const rows = parse(asCsv.body, { columns: true }) as Record<string, string>[];
      expect(rows).toHaveLength(4);
      expect(rows[3]).toMatchObject({ principal_name: 'auditee', agencies: AGENCY, route: '/api/kpis', status: '200', rows_returned: '3' });
      expect(JSON.parse(rows[3].parameters)).toMatchObject({ by: 'service' });

      expect((await unscoped('/api/audit')).statusCode).toBe(403);
      expect((await fastify.inject('/api/audit')).statusCode).toBe(401);
    });

    it('records every one of many requests that arrive together, each with its own scope, parameters and status', async () => {
      // Rows that arrive while a write runs go in together (api/plugins/audit.ts): none may be
      // lost, doubled or given another request's values.
      const [a, b] = await Promise.all([
        createToken(t.wh, { name: 'burst a', role: 'manager', agencies: [AGENCY] }),
        createToken(t.wh, { name: 'burst b', role: 'planner' }),
      ]);
      const asA = { authorization: `Bearer ${a.token}` };
      const asB = { authorization: `Bearer ${b.token}` };
      const asOf = (i: number) => `2026-10-03T00:${String(i).padStart(2, '0')}:00Z`;
      const sent = Array.from({ length: 60 }, (_, i) => (i % 3 === 2
        ? { headers: asB, url: '/api/tokens', status: 403 }
        // Each request's own as-of time (minutes past midnight = its number) tells its row apart.
        : { headers: i % 3 ? asB : asA, url: `/api/kpis?by=service&from=2026-09-01&to=2026-09-30&as_of=${asOf(i)}`, status: 200 }));
      const answers = await Promise.all(sent.map((r) => fastify.inject({ url: r.url, headers: r.headers })));
      expect(answers.map((r) => r.statusCode)).toEqual(sent.map((r) => r.status));
      const ofA = (await admin(`/api/audit?principal=${a.token_id}&limit=1000`)).json();
      const ofB = (await admin(`/api/audit?principal=${b.token_id}&limit=1000`)).json();
      expect([ofA.total, ofB.total]).toEqual([20, 40]);
      type Entry = { route: string; status: number; agencies: string[] | null; parameters: { as_of?: string }; rows_returned: number | null; request_id: string };
      expect(new Set(ofA.entries.map((e: Entry) => e.parameters.as_of))).toEqual(new Set(sent.flatMap((r, i) => (r.headers === asA ? [asOf(i)] : []))));
      expect(ofA.entries.every((e: Entry) => e.route === '/api/kpis' && e.status === 200 && e.rows_returned === 3 && e.agencies?.join() === AGENCY)).toBe(true);
      const refusedB = ofB.entries.filter((e: Entry) => e.route === '/api/tokens');
      expect(refusedB).toHaveLength(20);
      expect(refusedB.every((e: Entry) => e.status === 403 && e.rows_returned === null && e.agencies === null)).toBe(true);
      expect(new Set([...ofA.entries, ...ofB.entries].map((e: Entry) => e.request_id)).size).toBe(60);
    });

    it('records sign-in and sign-out, and the body of a token creation (never a token)', async () => {
      const { token, token_id } = await createToken(t.wh, { name: 'jo', role: 'planner' });
      const res = await fastify.inject({ method: 'POST', url: '/api/session', payload: { token } });
      const cookie = String(res.headers['set-cookie']).split(';')[0];
      await fastify.inject({ method: 'DELETE', url: '/api/session', headers: { cookie } });
      const entries = (await admin(`/api/audit?principal=${token_id}`)).json().entries;
      expect(entries.map((e: { method: string; route: string; via: string }) => `${e.method} ${e.route} ${e.via}`)).toEqual(['DELETE /api/session session', 'POST /api/session token']);
      expect(JSON.stringify(entries)).not.toContain(token);
      await admin({ method: 'POST', url: '/api/tokens', payload: { role: 'planner', name: 'made by admin' } });
      const made = (await admin('/api/audit?route=/api/tokens&limit=5')).json().entries.find((e: { method: string }) => e.method === 'POST');
      expect(made.parameters).toEqual({ body: { role: 'planner', name: 'made by admin' } });
      const all = (await admin('/api/audit?limit=10000')).json();
      expect(JSON.stringify(all)).not.toMatch(/cp_[A-Za-z0-9_-]{32}/);
    });
  });
});

describe('OpenID Connect bearer tokens', () => {
  const ISSUER = 'https://id.riverton.example/realms/city';
  const AUDIENCE = 'civic-pulse';
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let fastify: FastifyInstance;
  let key: CryptoKey;
  let otherKey: CryptoKey;

  const sign = (claims: Record<string, unknown>, o: { iss?: string; aud?: string; exp?: number | string; key?: CryptoKey; sub?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'city-1' })
      .setIssuer(o.iss ?? ISSUER)
      .setAudience(o.aud ?? AUDIENCE)
      .setSubject(o.sub ?? 'u-123')
      .setIssuedAt()
      .setExpirationTime(o.exp ?? '10m')
      .sign(o.key ?? key);
  const call = async (url: string, jwt: string) => fastify.inject({ url, headers: { authorization: `Bearer ${jwt}` } });

  beforeAll(async () => {
    t = await demoWarehouse();
    const pair = await generateKeyPair('RS256');
    key = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'city-1', alg: 'RS256', use: 'sig' };
    const jwksFile = join(t.dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
    const config = parseConfig({
      auth: { oidc: { issuer: ISSUER, audience: AUDIENCE, jwks_file: jwksFile, role_claim: 'realm_access.roles', role_map: { 'civic-managers': 'manager', 'civic-planners': 'planner', 'civic-admins': 'admin' }, agencies_claim: 'civic_agencies' } },
    });
    fastify = await testApp(t.wh, { ...TZ_CONFIG, auth: config.auth });
  });
  afterAll(async () => {
    await fastify?.close();
    t?.cleanup();
  });

  it('a valid token: its role from the mapped claim (the highest of several), its name, no agency claim = every agency', async () => {
    const jwt = await sign({ name: 'Kim Park', realm_access: { roles: ['offline_access', 'civic-planners', 'civic-managers'] } });
    const who = (await call('/api/session', jwt)).json();
    expect(who).toMatchObject({ signed_in: true, name: 'Kim Park', role: 'manager', agencies: null, via: 'oidc' });
    expect((await call('/api/dimensions', jwt)).json().agencies.length).toBeGreaterThan(3);
    // A role name in the claim is taken as it is.
    expect((await call('/api/session', await sign({ realm_access: { roles: ['planner'] } }))).json()).toMatchObject({ role: 'planner', name: 'u-123' });
  });

  it('the agencies claim scopes the identity like a token: only its cases', async () => {
    const jwt = await sign({ name: 'Lee', realm_access: { roles: ['civic-managers'] }, civic_agencies: [AGENCY] });
    const mine = (await call(`/api/kpis?by=agency&${WINDOW}`, jwt)).json();
    expect(mine.rows.map((r: { agency: string }) => r.agency)).toEqual([AGENCY]);
    const everyone = (await call(`/api/kpis?by=agency&${WINDOW}`, await sign({ realm_access: { roles: ['civic-managers'] } }))).json();
    expect(mine.rows[0].opened).toBe(everyone.rows.find((r: { agency: string }) => r.agency === AGENCY).opened);
    expect((await call('/api/dimensions', await sign({ realm_access: { roles: ['civic-planners'] }, civic_agencies: 'Parks' }))).json().agencies).toEqual(['Parks']);
    // An empty list sees nothing.
    expect((await call(`/api/kpis?${WINDOW}`, await sign({ realm_access: { roles: ['civic-planners'] }, civic_agencies: [] }))).json().rows[0].opened).toBe(0);
  });

  it.each([
    ['expired', () => sign({ realm_access: { roles: ['civic-managers'] } }, { exp: Math.floor(Date.now() / 1000) - 120 }), 401, /expired at/],
    ['for another audience', () => sign({ realm_access: { roles: ['civic-managers'] } }, { aud: 'another-app' }), 401, /another audience/],
    ['from another issuer', () => sign({ realm_access: { roles: ['civic-managers'] } }, { iss: 'https://evil.example' }), 401, /another issuer/],
    ['signed with another key', () => sign({ realm_access: { roles: ['civic-managers'] } }, { key: otherKey }), 401, /not signed by a key of the configured identity provider/],
    ['with an unknown role', () => sign({ realm_access: { roles: ['civic-janitors'] } }), 403, /role claim "realm_access\.roles" \("civic-janitors"\) maps to no role/],
    ['with no role', () => sign({ name: 'x' }), 403, /maps to no role/],
    ['with a malformed agencies claim', () => sign({ realm_access: { roles: ['civic-managers'] }, civic_agencies: 7 }), 401, /civic_agencies/],
  ])('refuses a token %s', async (_what, make, status, message) => {
    const res = await call('/api/kpis', await make());
    expect(res.statusCode).toBe(status);
    expect(res.json().message).toMatch(message);
  });

  it('refuses an unsigned token (alg none) and a public identity on staff routes', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'x', exp: Math.floor(Date.now() / 1000) + 600, realm_access: { roles: ['admin'] } })).toString('base64url');
    expect((await call('/api/kpis', `${header}.${body}.x`)).statusCode).toBe(401);
    const pub = await call('/api/kpis', await sign({ realm_access: { roles: ['public'] } }));
    expect(pub.statusCode).toBe(403);
    expect(pub.json().message).toBe('This needs the role admin, manager or planner; the identity has public.');
  });

  it('signs in to the dashboard with an identity token; its reads are audited under oidc:<subject>', async () => {
    const jwt = await sign({ name: 'Mo', realm_access: { roles: ['civic-admins'] } }, { sub: 'u-mo' });
    const res = await fastify.inject({ method: 'POST', url: '/api/session', payload: { token: jwt } });
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']).split(';')[0];
    expect((await fastify.inject({ url: '/api/session', headers: { cookie } })).json()).toMatchObject({ name: 'Mo', role: 'admin', via: 'session' });
    expect((await fastify.inject({ url: '/api/dimensions', headers: { cookie } })).statusCode).toBe(200);
    const log = (await fastify.inject({ url: '/api/audit?principal=oidc:u-mo', headers: { cookie } })).json();
    expect(log.entries.map((e: { route: string; via: string }) => `${e.route} ${e.via}`)).toEqual(['/api/dimensions session', '/api/session oidc']);
  });
});
