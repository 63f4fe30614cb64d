// One request cannot stall the server: reads run on a small pool of DuckDB connections (ingest has
// its own), every statement has a time limit (DuckDB's interrupt) and a row cap, and past either
// the answer is a 4xx/503 that says what to narrow. The heaviest request the caps allow runs on a
// real server while /api/health and a small KPI request are answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import app, { FASTIFY_OPTIONS } from '../../api/app.ts';
import { parseConfig } from '../../api/config.ts';
import { startServer, type RunningServer } from '../../api/server.ts';
import { createToken } from '../../warehouse/access/tokens.ts';
import { QueryTimeoutError, TooManyRowsError, WarehouseBusyError } from '../../warehouse/db.ts';
import { demoWarehouse } from '../demo-warehouse.ts';
import { tempWarehouse, type TempWarehouse } from '../helpers.ts';

/** A statement DuckDB needs seconds for (a scan of three billion numbers): only an interrupt ends it early. */
const SLOW = 'SELECT count(*)::INTEGER AS n FROM range(3000000000) t(i) WHERE i % 7 = 3';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a pool of readers (warehouse/db.ts)', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  it('interrupts a statement past the time limit with a 503 that says what to narrow, and the connection serves on', async () => {
    const readers = await t.wh.readers({ connections: 1, timeoutMs: 200 });
    try {
      const started = performance.now();
      const err = await readers.all(SLOW).catch((e: unknown) => e);
      const took = performance.now() - started;
      expect(err).toBeInstanceOf(QueryTimeoutError);
      expect((err as QueryTimeoutError).status).toBe(503);
      expect((err as Error).message).toMatch(/more than 200 ms of warehouse time and was stopped\. Narrow it: a shorter window/);
      expect(took).toBeLessThan(5000); // stopped, not run to the end
      await expect(readers.one('SELECT 42 AS x')).resolves.toEqual({ x: 42 });
    } finally {
      readers.close();
    }
  });

  it('refuses a statement with more rows than the cap before reading them all (413), and takes a lower cap per call', async () => {
    const readers = await t.wh.readers({ connections: 1, maxQueryRows: 1000 });
    try {
      await expect(readers.all('SELECT i FROM range(1000) t(i)')).resolves.toHaveLength(1000);
      const err = await readers.all('SELECT i FROM range(100000000) t(i)').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TooManyRowsError);
      expect((err as TooManyRowsError).status).toBe(413);
      expect((err as Error).message).toMatch(/more than 1,000 rows from the warehouse\. Narrow it/);
      const perCall = await readers.all('SELECT i FROM range(11) t(i)', {}, { maxRows: 10, what: 'rows (one per service × day)' }).catch((e: unknown) => e);
      expect((perCall as Error).message).toMatch(/more than 10 rows \(one per service × day\)/);
      // The unread rest of the stream was ended: the connection answers the next statement.
      await expect(readers.one('SELECT 1 AS one')).resolves.toEqual({ one: 1 });
    } finally {
      readers.close();
    }
  });

  it('counts the rows an answer will have, not its parts, when a statement reads an answer in parts (partOf)', async () => {
    const readers = await t.wh.readers({ connections: 1, maxQueryRows: 1000 });
    try {
      // 5,000 parts of 10 answer rows: within the cap of 1,000, though the parts are not.
      const parts = 'SELECT i % 10 AS g, i AS part FROM range(5000) t(i)';
      const partOf = (r: Record<string, unknown>) => String(r.g);
      await expect(readers.all(parts, {}, { partOf })).resolves.toHaveLength(5000);
      await expect(readers.allWithLists(`SELECT g, [part::DOUBLE] AS l FROM (${parts})`, {}, ['l'], { partOf })).resolves.toHaveLength(5000);
      // Without it, the parts are rows.
      await expect(readers.all(parts)).rejects.toBeInstanceOf(TooManyRowsError);
      // 11 answer rows against a cap of 10: refused, whichever of them come first.
      for (const read of [
        () => readers.all(parts.replace('% 10', '% 11'), {}, { partOf, maxRows: 10, what: 'rows (one per g)' }),
        () => readers.allWithLists(`SELECT g, [part::DOUBLE] AS l FROM (${parts.replace('% 10', '% 11')})`, {}, ['l'], { partOf, maxRows: 10, what: 'rows (one per g)' }),
      ]) {
        const err = await read().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TooManyRowsError);
        expect((err as Error).message).toMatch(/more than 10 rows \(one per g\)/);
      }
      await expect(readers.one('SELECT 1 AS one')).resolves.toEqual({ one: 1 });
    } finally {
      readers.close();
    }
  });

  it('runs statements side by side: a quick one is answered while a slow one holds another connection', async () => {
    const readers = await t.wh.readers({ connections: 2, timeoutMs: 3000 });
    try {
      let slowDone = false;
      const slow = readers.all(SLOW).catch((e: unknown) => e).finally(() => (slowDone = true));
      await sleep(50);
      await expect(readers.one('SELECT 7 AS x')).resolves.toEqual({ x: 7 });
      expect(slowDone).toBe(false);
      await slow;
    } finally {
      readers.close();
    }
  });

  it('a request that finds every connection busy for the whole time limit is a 503 saying so', async () => {
    const readers = await t.wh.readers({ connections: 1, timeoutMs: 200 });
    try {
      // A transaction holds its connection until it ends (here: 600 ms with no statement running).
      const holding = readers.transaction(async () => {
        await readers.one('SELECT 1 AS one');
        await sleep(600);
      });
      await sleep(20);
      const err = await readers.one('SELECT 2 AS two').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WarehouseBusyError);
      expect((err as Error).message).toMatch(/busy with other requests.*Try again shortly/);
      expect((err as WarehouseBusyError).retryAfterSeconds).toBe(1);
      await holding;
      await expect(readers.one('SELECT 3 AS three')).resolves.toEqual({ three: 3 });
    } finally {
      readers.close();
    }
  });

  it('a transaction on the pool runs every statement on the one connection it holds', async () => {
    const readers = await t.wh.readers({ connections: 3 });
    try {
      await readers.run('CREATE TABLE pool_tx (i INTEGER)');
      await readers.transaction(async () => {
        await readers.run('INSERT INTO pool_tx VALUES (1)');
        // The uncommitted row is visible only on the transaction's own connection.
        expect(await readers.one('SELECT count(*)::INTEGER AS n FROM pool_tx')).toEqual({ n: 1 });
        expect(await t.wh.one('SELECT count(*)::INTEGER AS n FROM pool_tx')).toEqual({ n: 0 });
      });
      expect(await t.wh.one('SELECT count(*)::INTEGER AS n FROM pool_tx')).toEqual({ n: 1 });
      await expect(readers.transaction(async () => {
        await readers.run('INSERT INTO pool_tx VALUES (2)');
        throw new Error('changed my mind');
      })).rejects.toThrow('changed my mind');
      expect(await readers.one('SELECT count(*)::INTEGER AS n FROM pool_tx')).toEqual({ n: 1 });
    } finally {
      readers.close();
    }
  });

  it('a plain warehouse (ingest, CLI, reports) keeps no time limit and no row cap', async () => {
    expect(t.wh.limits).toMatchObject({ timeoutMs: Infinity, maxQueryRows: Infinity, maxRows: Infinity });
    await expect(t.wh.all('SELECT i FROM range(200000) t(i)')).resolves.toHaveLength(200000);
  });
});

describe('the API under its limits', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let auth: { authorization: string };
  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = Fastify({ logger: false, ...FASTIFY_OPTIONS });
    await fastify.register(app, {
      warehouse: t.wh,
      config: { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)' },
      dashboardDir: '/nonexistent',
      limits: { query_timeout_seconds: 1, read_connections: 2 },
    });
    // A route of this test only, to reach a statement slower than any the product runs on the demo city
    // (the product's own routes are left to the running server below, with the default time limit).
    fastify.get('/test/slow', async () => fastify.warehouse.all(SLOW));
    await fastify.ready();
    auth = { authorization: `Bearer ${(await createToken(t.wh, { name: 'load test', role: 'admin' })).token}` };
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('a statement past the time limit is a 503 whose message says what to narrow (other 5xx still hide theirs)', async () => {
    const res = await fastify.inject('/test/slow');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    expect(res.json().message).toMatch(/more than 1 s of warehouse time and was stopped\. Narrow it/);
    const health = await fastify.inject('/api/health');
    expect(health.statusCode).toBe(200);
  });
});

describe('the heaviest allowed request on a running server', () => {
  let t: TempWarehouse;
  let server: RunningServer;
  let auth: { authorization: string };
  beforeAll(async () => {
    t = await demoWarehouse();
    auth = { authorization: `Bearer ${(await createToken(t.wh, { name: 'load test', role: 'admin' })).token}` };
    t.wh.close();
    mkdirSync(join(t.dir, 'reports'));
    const config = parseConfig({ port: 0, database: t.path, seed_demo_when_empty: false, reports: { out_dir: join(t.dir, 'reports'), schedules: [] }, ingest: { inbox_dir: null } });
    server = await startServer(config, { logger: false, dashboardDir: '/nonexistent' });
  });
  afterAll(async () => {
    await server?.close();
    t.cleanup();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const started = performance.now();
    const res = await fetch(server.url + path, { headers });
    const body = await res.text();
    return { status: res.status, body, ms: performance.now() - started, at: performance.now() };
  };

  it('answers /api/health and a small KPI request while the heaviest KPI table runs', async () => {
    // The finest grouping over the longest window the row cap allows (about 4,000 of 5,000 rows).
    const heavyPath = '/api/kpis?by=service,area,channel,day&from=2026-10-12&to=2026-11-15';
    // Warm (the dimension lists are cached per data version, the code compiled), as a server that has served before.
    expect((await get('/api/kpis?by=service', auth)).status).toBe(200);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    let heavyEnd = Infinity;
    const heavy = get(heavyPath, auth).then((r) => ((heavyEnd = performance.now()), r));
    const quick: Awaited<ReturnType<typeof get>>[] = [];
    // A health check and a small KPI table at once, then health checks one after another, for as long as the heavy one runs.
    const small = (async () => {
      await sleep(30);
      quick.push(...(await Promise.all([get('/api/health'), get('/api/kpis?by=service', auth)])));
      while (heavyEnd === Infinity) quick.push(await get('/api/health'));
    })();
    const h = await heavy;
    await small;
    delay.disable();
    const heavyMs = heavyEnd - started;
    expect(h.status).toBe(200);
    const rows = JSON.parse(h.body).rows.length;
    expect(rows).toBeGreaterThan(3000);
    expect(rows).toBeLessThanOrEqual(5000);
    expect(quick.every((q) => q.status === 200)).toBe(true);
    // At least one health check was answered before the heavy table was, and the small KPI table
    // was answered (whether before or after the heavy one depends on the machine's load: a 2-core
    // CI box may finish the heavy one first, so only its answer is asserted, and its time logged).
    const during = quick.filter((q) => q.at < heavyEnd);
    // The table is fetched, built and sent a few hundred rows per turn of the event loop, and
    // health answers from a reading at most a second old: health checks one after another keep
    // being answered while it runs (when it was built and serialised in one go, one was).
    expect(during.filter((q) => /"status":"ok"/.test(q.body)).length).toBeGreaterThanOrEqual(5);
    expect(quick.filter((q) => /"rows":/.test(q.body))).toHaveLength(1);
    const healthMs = quick.filter((q) => /"status":"ok"/.test(q.body)).map((q) => q.ms).sort((a, b) => a - b);
    console.log(
      `heaviest allowed KPI table: ${rows} rows in ${heavyMs.toFixed(0)} ms; meanwhile ${during.length} quick requests answered; ` +
        `/api/health max ${healthMs.at(-1)?.toFixed(0)} ms (median ${healthMs[Math.floor(healthMs.length / 2)]?.toFixed(0)} ms); ` +
        `event-loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms, max ${(delay.max / 1e6).toFixed(0)} ms`,
    );
  });

  it('a heavier one is refused with a 413 naming the cap, the grouping and what to narrow, and the server answers on', async () => {
    const r = await get('/api/kpis?by=service,area,channel,day&weeks=52', auth);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).message).toMatch(
      /^This request would return more than 5,000 rows \(one per service × area × channel × day\)\. Narrow it: a shorter window \(from\/to, or fewer weeks\), a coarser period \(week instead of day\), fewer groupings in by, or a filter/,
    );
    expect((await get('/api/health')).status).toBe(200);
  });
});
