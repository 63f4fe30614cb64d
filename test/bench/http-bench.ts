// The HTTP bench: autocannon against a running server (http-server.ts, its own process) on the
// demo city, every route in the same run beside a route that returns a constant (this machine's
// HTTP limit with our per-request hooks) and a static file; then /api/health while the heaviest
// KPI table the row cap allows is requested back to back.
import autocannon, { type Result } from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Warehouse } from '../../warehouse/db.ts';
import { seedDemoCity } from '../../ingest/demo-city.ts';
import { createToken } from '../../warehouse/access/tokens.ts';

const CHILD = fileURLToPath(new URL('./http-server.ts', import.meta.url));

/** The finest grouping over the longest window the row cap (5,000) allows on the demo city: about 4,000 rows. */
export const HEAVY_PATH = '/api/kpis?by=service,area,channel,day&from=2026-10-12&to=2026-11-15';

export interface HttpRun {
  label: string;
  path: string;
  requests_per_second: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  requests: number;
  non_2xx: number;
  errors: number;
  /** Requests per second as a share of the constant route's, measured in the same run. */
  share_of_constant: number | null;
}

export interface HttpBench {
  when: string;
  cores: number;
  connections: number;
  seconds_per_run: number;
  /** 1-minute load average before and after: other work on the machine shows here. */
  load_before: number;
  load_after: number;
  runs: HttpRun[];
  /** The heavy requests made while /api/health was loaded (the "under load" run). */
  heavy: { path: string; requests: number; rows: number; p50_ms: number; max_ms: number };
}

const loadavg = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

function startChild(database: string, dir: string): Promise<{ child: ChildProcess; url: string; constant_url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, database, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, ...(JSON.parse(line) as { url: string; constant_url: string }) });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`http-server exited with ${code} before it listened: ${out.slice(-500)}`)));
  });
}

async function load(url: string, opts: { connections: number; seconds: number; headers?: Record<string, string> }): Promise<Result> {
  return autocannon({ url, connections: opts.connections, duration: opts.seconds, headers: opts.headers, timeout: 60 });
}

export async function runHttpBench(opts: { seconds?: number; connections?: number; log?: (l: string) => void } = {}): Promise<HttpBench> {
  const seconds = opts.seconds ?? 10;
  const connections = opts.connections ?? 10;
  const log = opts.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'civic-hbench-'));
  const database = join(dir, 'civic.duckdb');
  let child: ChildProcess | undefined;
  try {
    log('http: seeding the demo city …');
    const wh = await Warehouse.open(database);
    await seedDemoCity(wh);
    const { token } = await createToken(wh, { name: 'http bench', role: 'admin' });
    await wh.run('CHECKPOINT');
    wh.close();
    const started = await startChild(database, dir);
    child = started.child;
    const { url, constant_url } = started;
    const auth = { authorization: `Bearer ${token}` };

    const targets: { label: string; path: string; url: string; headers?: Record<string, string> }[] = [
      { label: 'constant route (bare Fastify, same options and security hooks)', path: 'GET /constant', url: constant_url },
      { label: 'static file (the dashboard\'s favicon)', path: 'GET /favicon.svg', url: `${url}/favicon.svg` },
      { label: 'health', path: 'GET /api/health', url: `${url}/api/health` },
      { label: 'staff KPIs by service (admin token, 12 weeks, audited)', path: 'GET /api/kpis?by=service', url: `${url}/api/kpis?by=service`, headers: auth },
      { label: 'public KPIs (disclosure-controlled, anonymous)', path: 'GET /api/public/kpis', url: `${url}/api/public/kpis` },
    ];
    // Warm: code compiled, dimension lists cached (per data version), as a server that has served.
    for (const t of targets) for (let i = 0; i < 3; i++) await (await fetch(t.url, { headers: t.headers })).text();
    await (await fetch(url + HEAVY_PATH, { headers: auth })).text();

    const loadBefore = loadavg();
    const runs: HttpRun[] = [];
    const record = (label: string, path: string, r: Result) => {
      const run: HttpRun = {
        label,
        path,
        requests_per_second: r.requests.average,
        p50_ms: r.latency.p50,
        p99_ms: r.latency.p99,
        max_ms: r.latency.max,
        requests: r.requests.total,
        non_2xx: r.non2xx,
        errors: r.errors + r.timeouts,
        share_of_constant: null,
      };
      runs.push(run);
      log(`  ${path}: ${run.requests_per_second.toFixed(0)} req/s, p50 ${run.p50_ms} ms, p99 ${run.p99_ms} ms${run.non_2xx ? `, ${run.non_2xx} non-2xx` : ''}${run.errors ? `, ${run.errors} errors` : ''}`);
    };
    for (const t of targets) {
      log(`http: ${t.label}, ${connections} connections, ${seconds} s …`);
      record(t.label, t.path, await load(t.url, { connections, seconds, headers: t.headers }));
    }

    // /api/health while the heaviest allowed KPI table is asked for again and again, one at a time.
    log(`http: /api/health while ${HEAVY_PATH} runs back to back …`);
    let stop = false;
    const heavyMs: number[] = [];
    let rows = 0;
    const heavy = (async () => {
      while (!stop) {
        const t0 = performance.now();
        const res = await fetch(url + HEAVY_PATH, { headers: auth });
        const body = (await res.json()) as { rows?: unknown[] };
        if (res.status !== 200) throw new Error(`the heavy request answered ${res.status}`);
        rows = body.rows?.length ?? 0;
        heavyMs.push(performance.now() - t0);
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const underLoad = await load(`${url}/api/health`, { connections, seconds });
    stop = true;
    await heavy;
    record('health while the heaviest allowed KPI table runs', 'GET /api/health (under load)', underLoad);
    const loadAfter = loadavg();

    const constant = runs[0].requests_per_second;
    for (const r of runs) r.share_of_constant = constant > 0 ? r.requests_per_second / constant : null;
    return {
      when: new Date().toISOString(),
      cores: cpus().length,
      connections,
      seconds_per_run: seconds,
      load_before: loadBefore,
      load_after: loadAfter,
      runs,
      heavy: { path: HEAVY_PATH, requests: heavyMs.length, rows, p50_ms: Math.round(pct(heavyMs, 50)), max_ms: Math.round(Math.max(...heavyMs)) },
    };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatHttpBench(b: HttpBench): string {
  const lines = [
    `HTTP, ${b.connections} connections, ${b.seconds_per_run} s a run, ${b.cores} cores (load average ${b.load_before.toFixed(2)} before, ${b.load_after.toFixed(2)} after)`,
    '',
    '| route | req/s | p50 ms | p99 ms | max ms | ÷ constant |',
    '|---|--:|--:|--:|--:|--:|',
    ...b.runs.map((r) => `| ${r.path}${r.non_2xx || r.errors ? ` (${r.non_2xx} non-2xx, ${r.errors} errors)` : ''} | ${r.requests_per_second.toFixed(0)} | ${r.p50_ms} | ${r.p99_ms} | ${r.max_ms} | ${r.share_of_constant === null ? '–' : r.share_of_constant.toFixed(3)} |`),
    '',
    `heavy request meanwhile: ${b.heavy.path} (${b.heavy.rows} rows), ${b.heavy.requests} answered, p50 ${b.heavy.p50_ms} ms, max ${b.heavy.max_ms} ms`,
  ];
  return lines.join('\n');
}
