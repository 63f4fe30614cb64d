// The HTTP bench: autocannon against a running server (http-server.ts, its own process) on the
// demo city, every route in the same run beside a route that returns a constant (this machine's
// HTTP limit with our per-request hooks) and a static file; then /api/health while the heaviest
// KPI table the row cap allows is requested back to back. Beside each run, the server process's own
// event-loop delay over that run (http-server.ts measures it), and issue 15's aims.
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
  /** Measured on a fixed number of requests instead of the run's seconds: a timed run answered too few. */
  fixed_requests: boolean;
  /** Requests per second as a share of the constant route's, measured in the same run. */
  share_of_constant: number | null;
  /** The server process's event-loop delay during the run (sampled every `sample_ms`, so an idle loop reads about that). */
  event_loop: EventLoopDelay | null;
}

export interface EventLoopDelay { sample_ms: number; samples: number; p50_ms: number; p99_ms: number; max_ms: number }

/** Issue 15's aims, judged on this run's figures. */
export interface HttpAim { label: string; aim: string; measured: string; met: boolean }

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
  aims: HttpAim[];
}

/** /api/kpis?by=service within 10× of the constant route; /api/health's p99 under 50 ms while the heaviest request runs. */
export const KPI_SHARE_AIM = 0.1;
export const HEALTH_P99_AIM_MS = 50;

const loadavg = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

interface Started { child: ChildProcess; url: string; constant_url: string; event_loop_url: string }

function startChild(database: string, dir: string): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, database, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, ...(JSON.parse(line) as Omit<Started, 'child'>) });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`http-server exited with ${code} before it listened: ${out.slice(-500)}`)));
  });
}

// autocannon 9 takes `amount` too (a fixed number of requests); types/autocannon.d.ts omits it.
declare module 'autocannon' {
  interface Options { amount?: number }
}

/** Fewer answers than this in a timed run, and the route is measured on this many requests instead. */
const MIN_ANSWERS = 20;

async function load(url: string, opts: { connections: number; seconds: number; headers?: Record<string, string> }): Promise<{ r: Result; fixed: boolean }> {
  const r = await autocannon({ url, connections: opts.connections, duration: opts.seconds, headers: opts.headers, timeout: 60 });
  if (r.requests.total >= MIN_ANSWERS) return { r, fixed: false };
  // A route slower than the run is long answers a handful (or none: the requests still in flight
  // when the run ends are not counted), which says nothing; a fixed number of requests does.
  const again = await autocannon({ url, connections: Math.min(opts.connections, MIN_ANSWERS), amount: MIN_ANSWERS, headers: opts.headers, timeout: 60 });
  return { r: again, fixed: true };
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
    const { url, constant_url, event_loop_url } = started;
    const resetEventLoop = async () => void (await (await fetch(event_loop_url, { method: 'DELETE' })).text());
    const readEventLoop = async () => (await (await fetch(event_loop_url)).json()) as EventLoopDelay;
    const auth = { authorization: `Bearer ${token}` };

    const targets: { label: string; path: string; url: string; headers?: Record<string, string> }[] = [
      { label: 'constant route (bare Fastify, same options and security hooks)', path: 'GET /constant', url: constant_url },
      { label: 'static file (the dashboard\'s favicon)', path: 'GET /favicon.svg', url: `${url}/favicon.svg` },
      { label: 'health', path: 'GET /api/health', url: `${url}/api/health` },
      { label: 'staff KPIs by service (admin token, 12 weeks, audited)', path: 'GET /api/kpis?by=service', url: `${url}/api/kpis?by=service`, headers: auth },
      { label: 'public KPIs (disclosure-controlled, anonymous)', path: 'GET /api/public/kpis', url: `${url}/api/public/kpis` },
    ];
    // Warm: code compiled, dimension lists cached (per data version), as a server that has served.
    // Every route must answer 200 first: a run of refusals (the favicon of a dashboard never built
    // measured 404s at 7,000 a second) would pass for a figure.
    for (const t of targets) {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(t.url, { headers: t.headers });
        await res.text();
        if (res.status !== 200) throw new Error(`${t.path} answered ${res.status} before its run${t.path === 'GET /favicon.svg' ? ' (is the dashboard built? npm run build; npm run bench builds it first)' : ''}`);
      }
    }
    await (await fetch(url + HEAVY_PATH, { headers: auth })).text();

    const loadBefore = loadavg();
    const runs: HttpRun[] = [];
    const record = (label: string, path: string, { r, fixed }: { r: Result; fixed: boolean }, eventLoop: EventLoopDelay) => {
      // A refusal in the middle of a run (a rate limit, a 503 from a busy warehouse, an expired
      // token) would count as an answer: such a run is no figure, and the part fails saying so.
      if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
        throw new Error(`${path}: during its timed run ${r.non2xx} of ${r.requests.total} answers were not 2xx, ${r.errors} requests failed and ${r.timeouts} timed out; its figure would count them`);
      }
      const run: HttpRun = {
        label,
        path,
        // Answers over the run's own length (autocannon's per-second average misses a partial last second).
        requests_per_second: r.requests.total / r.duration,
        p50_ms: r.latency.p50,
        p99_ms: r.latency.p99,
        max_ms: r.latency.max,
        requests: r.requests.total,
        non_2xx: r.non2xx,
        errors: r.errors + r.timeouts,
        fixed_requests: fixed,
        share_of_constant: null,
        event_loop: eventLoop,
      };
      runs.push(run);
      log(`  ${path}: ${run.requests_per_second.toFixed(1)} req/s${fixed ? ` (on ${run.requests} requests: too few answered in ${seconds} s)` : ''}, p50 ${run.p50_ms} ms, p99 ${run.p99_ms} ms, server event loop p99 ${eventLoop.p99_ms} ms${run.non_2xx ? `, ${run.non_2xx} non-2xx` : ''}${run.errors ? `, ${run.errors} errors` : ''}`);
    };
    for (const t of targets) {
      log(`http: ${t.label}, ${connections} connections, ${seconds} s …`);
      await resetEventLoop();
      const r = await load(t.url, { connections, seconds, headers: t.headers });
      record(t.label, t.path, r, await readEventLoop());
    }

    // /api/health while the heaviest allowed KPI table is asked for again and again, one at a time.
    log(`http: /api/health while ${HEAVY_PATH} runs back to back …`);
    let stop = false;
    const heavyMs: number[] = [];
    let rows = 0;
    const heavy = (async () => {
      while (!stop) {
        const t0 = performance.now();
        // A different as_of each time: the same question would be answered from memory
        // (warehouse/analytics/memo.ts), and this run is about the table being computed and sent.
        const asOf = new Date(Date.parse('2026-11-16T00:00:00Z') + heavyMs.length * 1000).toISOString();
        const res = await fetch(`${url}${HEAVY_PATH}&as_of=${asOf}`, { headers: auth });
        const body = (await res.json()) as { rows?: unknown[] };
        if (res.status !== 200) throw new Error(`the heavy request answered ${res.status}`);
        rows = body.rows?.length ?? 0;
        heavyMs.push(performance.now() - t0);
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    await resetEventLoop();
    const underLoad = await load(`${url}/api/health`, { connections, seconds });
    // Read before the last heavy request finishes, so the delay covers the health run only.
    const underLoadLoop = await readEventLoop();
    stop = true;
    await heavy;
    record('health while the heaviest allowed KPI table runs', 'GET /api/health (under load)', underLoad, underLoadLoop);
    const loadAfter = loadavg();

    const constant = runs[0].requests_per_second;
    for (const r of runs) r.share_of_constant = constant > 0 ? r.requests_per_second / constant : null;
    const kpis = runs.find((r) => r.path === 'GET /api/kpis?by=service')!;
    const health = runs[runs.length - 1];
    const aims: HttpAim[] = [
      {
        label: '/api/kpis?by=service against the constant route',
        aim: `within 10× (≥ ${KPI_SHARE_AIM.toFixed(3)} of its req/s)`,
        measured: `${(kpis.share_of_constant ?? 0).toFixed(4)} (${kpis.share_of_constant ? `${(1 / kpis.share_of_constant).toFixed(0)}×` : '–'} slower)`,
        met: (kpis.share_of_constant ?? 0) >= KPI_SHARE_AIM,
      },
      {
        label: '/api/health p99 while the heaviest allowed KPI table runs',
        aim: `≤ ${HEALTH_P99_AIM_MS} ms`,
        measured: `${health.p99_ms} ms (server event loop p99 ${underLoadLoop.p99_ms} ms, max ${underLoadLoop.max_ms} ms)`,
        met: health.p99_ms <= HEALTH_P99_AIM_MS,
      },
    ];
    return {
      when: new Date().toISOString(),
      cores: cpus().length,
      connections,
      seconds_per_run: seconds,
      load_before: loadBefore,
      load_after: loadAfter,
      runs,
      heavy: { path: HEAVY_PATH, requests: heavyMs.length, rows, p50_ms: Math.round(pct(heavyMs, 50)), max_ms: Math.round(Math.max(...heavyMs)) },
      aims,
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

/** Markdown: every run beside the constant route, the server's event-loop delay, and the aims. */
export function formatHttpBench(b: HttpBench): string {
  const loop = (e: EventLoopDelay | null) => (e ? `${e.p99_ms} | ${e.max_ms}` : '– | –');
  const sample = b.runs.find((r) => r.event_loop)?.event_loop?.sample_ms ?? 10;
  const lines = [
    `autocannon, ${b.connections} connections, ${b.seconds_per_run} s a run, against the server in its own process on the demo city; ` +
      `${b.cores} cores, load average ${b.load_before.toFixed(2)} before, ${b.load_after.toFixed(2)} after. ` +
      `The limit is a constant route on a bare Fastify instance with the same options and security hooks in the same process. ` +
      `Event loop = the server process's own delay during the run (sampled every ${sample} ms, so an idle loop reads about ${sample} ms).`,
    '',
    '| route | req/s | p50 ms | p99 ms | max ms | ÷ constant | event loop p99 ms | event loop max ms |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
    ...b.runs.map((r) => `| ${r.path}${r.fixed_requests ? ` (${r.requests} requests†)` : ''}${r.non_2xx || r.errors ? ` (${r.non_2xx} non-2xx, ${r.errors} errors)` : ''} | ${r.requests_per_second < 10 ? r.requests_per_second.toFixed(1) : r.requests_per_second.toFixed(0)} | ${r.p50_ms} | ${r.p99_ms} | ${r.max_ms} | ${r.share_of_constant === null ? '–' : r.share_of_constant.toFixed(4)} | ${loop(r.event_loop)} |`),
    ...(b.runs.some((r) => r.fixed_requests) ? ['', `† too few answers in a ${b.seconds_per_run} s run: measured on ${MIN_ANSWERS} requests instead, however long they took.`] : []),
    '',
    `While the last run loaded /api/health, \`${b.heavy.path}\` (${b.heavy.rows.toLocaleString('en-US')} rows) was asked for back to back: ${b.heavy.requests} answered, p50 ${b.heavy.p50_ms.toLocaleString('en-US')} ms, max ${b.heavy.max_ms.toLocaleString('en-US')} ms.`,
    '',
    "Issue 15's aims:",
    '',
    '| aim | target | measured | met? |',
    '|---|---|---|---|',
    ...b.aims.map((a) => `| ${a.label} | ${a.aim} | ${a.measured} | ${a.met ? 'met' : '**not met**'} |`),
  ];
  return lines.join('\n');
}
