// Hardening (api/plugins/security.ts): security headers on every response with a content security
// policy the dashboard works under (test/browser/overview.test.ts loads it with the policy on), a
// rate limit on the public API, and limits on the URL and the body, each refused naming the limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import app, { FASTIFY_OPTIONS } from '../../api/app.ts';
import { createToken } from '../../warehouse/access/tokens.ts';
import { tempWarehouse, type TempWarehouse } from '../helpers.ts';

describe('security headers, rate limits, URL and body limits', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let admin: { authorization: string };
  const inline = 'console.log("bootstrap")';

  beforeAll(async () => {
    t = await tempWarehouse();
    // A stand-in for the built dashboard: one page with an inline bootstrap script, one asset.
    const dashboard = join(t.dir, 'build');
    mkdirSync(join(dashboard, '_app'), { recursive: true });
    writeFileSync(join(dashboard, 'index.html'), `<!doctype html><html><body><script>${inline}</script><script src="./_app/start.js"></script></body></html>`);
    writeFileSync(join(dashboard, '_app', 'start.js'), 'export {}');
    fastify = Fastify({ logger: false, ...FASTIFY_OPTIONS });
    await fastify.register(app, {
      warehouse: t.wh,
      config: { timezone: 'UTC', jurisdiction: 'Test' },
      dashboardDir: dashboard,
      limits: { public_per_minute: 3, max_url_length: 1000, max_body_kb: 1 },
    });
    // Stand-ins for the public API (api/routes/public) and a public embed page: the limits apply by URL.
    fastify.get('/api/public/ping', async () => ({ pong: true }));
    fastify.get('/embed/ping', async () => ({ pong: true }));
    await fastify.ready();
    admin = { authorization: `Bearer ${(await createToken(t.wh, { name: 'security test', role: 'admin' })).token}` };
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('every response carries the security headers: API answers, errors, 404s and static files', async () => {
    for (const url of ['/api/health', '/api/kpis?nonsense=1', '/api/no-such-route', '/', '/_app/start.js', '/docs/json']) {
      const res = await fastify.inject(url);
      expect(res.headers['content-security-policy'], url).toMatch(/default-src 'self'/);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security'], url).toMatch(/max-age=/);
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      expect(res.headers['x-powered-by'], url).toBeUndefined();
    }
  });

  it('the content security policy allows the dashboard\'s own inline bootstrap by hash, and no eval, no inline handlers, no other origin', async () => {
    const csp = (await fastify.inject('/')).headers['content-security-policy'] as string;
    const directives = Object.fromEntries(csp.split(';').map((d) => { const [name, ...values] = d.trim().split(/\s+/); return [name, values]; }));
    const hash = `'sha256-${createHash('sha256').update(inline).digest('base64')}'`;
    expect(directives['script-src']).toEqual(["'self'", hash]);
    expect(csp).not.toMatch(/unsafe-eval/);
    expect(directives['script-src-attr']).toEqual(["'none'"]);
    expect(directives['connect-src']).toEqual(["'self'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(directives['frame-ancestors']).toEqual(["'self'"]);
    expect(csp).not.toMatch(/upgrade-insecure-requests/);
  });

  it('public embeds may be framed by other sites; nothing else may', async () => {
    const embed = await fastify.inject('/embed/ping');
    expect(embed.headers['x-frame-options']).toBeUndefined();
    expect(embed.headers['content-security-policy']).toMatch(/frame-ancestors \*/);
    expect((await fastify.inject('/embedded')).headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('rate-limits the public API per address (429 naming the limit, with Retry-After), and only the public API', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await fastify.inject({ url: '/api/public/ping', remoteAddress: '203.0.113.7' });
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last!.headers['retry-after']).toMatch(/^\d+$/);
    expect(last!.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(last!.json().message).toMatch(/^Too many requests: the public API takes 3 a minute from one address \(limits\.public_per_minute\)\. Try again in/);
    // Another address has its own allowance; staff and health routes have none.
    expect((await fastify.inject({ url: '/api/public/ping', remoteAddress: '198.51.100.2' })).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await fastify.inject({ url: '/api/health', remoteAddress: '203.0.113.7' })).statusCode).toBe(200);
    // The real public routes (api/routes/public) are limited by their URL, with no configuration of their own.
    for (const url of ['/api/public/kpis', '/api/public/trends']) expect((await fastify.inject({ url, remoteAddress: '192.0.2.9' })).headers['x-ratelimit-limit'], url).toBe('3');
    expect((await fastify.inject({ url: '/api/kpis', headers: admin, remoteAddress: '192.0.2.9' })).headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('refuses a URL over the length limit with a 414 naming it, and an overlong path parameter (Fastify maxParamLength)', async () => {
    const res = await fastify.inject(`/api/kpis?service=${'x'.repeat(1200)}`);
    expect(res.statusCode).toBe(414);
    expect(res.json()).toMatchObject({ statusCode: 414, error: 'URI Too Long' });
    expect(res.json().message).toMatch(/^The URL has 1,2\d\d characters; at most 1,000 are accepted \(limits\.max_url_length\)/);
    const segment = await fastify.inject({ url: `/api/tokens/${'a'.repeat(300)}`, method: 'DELETE', headers: admin });
    expect(segment.statusCode).toBe(414);
    expect(segment.json().message).toMatch(/is exceeding the max param length/);
  });

  it('refuses a body over the limit with a 413 naming it, whether its length is declared or not', async () => {
    const big = JSON.stringify({ role: 'admin', name: 'x'.repeat(2000) });
    const declared = await fastify.inject({ url: '/api/tokens', method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, payload: big });
    expect(declared.statusCode).toBe(413);
    expect(declared.json().message).toMatch(/^body: 2,0\d\d bytes is more than this route takes \(1,024 bytes, limits\.max_body_kb\)/);
    // Chunked, no content-length: Fastify's own limit (the same number) stops it.
    const { Readable } = await import('node:stream');
    const chunked = await fastify.inject({ url: '/api/tokens', method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, payload: Readable.from([big]) });
    expect(chunked.statusCode).toBe(413);
    expect((await fastify.inject({ url: '/api/tokens', method: 'POST', headers: admin, payload: { role: 'planner', name: 'fits' } })).statusCode).toBe(201);
  });

  it('refuses a number that is not finite (1e309 passes JSON Schema as an integer) with a 400 naming the parameter', async () => {
    for (const [url, name] of [['/api/kpis?weeks=1e309', 'weeks'], ['/api/audit?offset=-Infinity', 'offset']] as const) {
      const res = await fastify.inject({ url, headers: admin });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().message).toBe(`querystring/${name} must be a finite number`);
    }
  });

  it('names the reason phrase of Fastify\'s own errors (not "FastifyError")', async () => {
    const res = await fastify.inject({ url: '/api/tokens', method: 'POST', headers: { ...admin, 'content-type': 'text/csv' }, payload: 'a,b' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
  });

  it('refuses unknown query parameters with a 400 naming them', async () => {
    const res = await fastify.inject({ url: '/api/kpis?by=service&servcie=Pothole', headers: admin });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/servcie/);
  });
});
