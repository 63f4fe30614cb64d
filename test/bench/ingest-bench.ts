// Ingest speed and memory, against DuckDB's own limit measured in the same run.
//
// Every load runs alone in a child process (ingest-child.ts), one after another (never two at
// once on this 2-core machine), so each peak RSS is that load's own. The plan:
//   1. generate 1M / 500k / 250k-row case exports (seeded; the smaller ones are prefixes);
//   2. read_csv: DuckDB's `CREATE TABLE t AS SELECT * FROM read_csv(file)` of the 1M file;
//   3. ours: ingestCasesCsv (demo-city profile) of 250k, 500k and 1M rows, each into a fresh
//      warehouse file — peak RSS at three sizes shows whether memory grows with the file;
//   4. ours again on 1M rows into a fresh file, then a re-ingest of the same file into it
//      (everything already present);
//   5. the daily load: a warehouse of `dailyBase` cases (5M; the bench's own rows with `quick`),
//      built by ingesting a generated export of that size — its peak RSS is the memory figure at
//      that size too —, then a 10,000-row daily export (the next 10,000 requests of the same
//      generator) into it, end to end, and the same export again (unchanged: nothing to load);
//   6. a 10M-row export into a fresh warehouse (not with `quick`): the memory figure at the size
//      of a large city's decade (issue 10's aim: peak RSS ≤ 1.5 GiB at 1M, 5M and 10M rows);
//   7. read_csv again. Speeds are the faster of the two runs on each side, so a burst of load
//      from another process on the machine hurts neither side alone.
// Beside each read_csv run, `tables` (tables-floor.ts): the data model's tables written from the
// same file by DuckDB alone, the plainest way, nothing else done: what is left of read_csv's
// speed once these tables are written, so the aim can be read against it on this machine.
// `quick` leaves out the 250k/500k growth runs and the runs under a 1 GB memory_limit.
import { spawn } from 'node:child_process';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES_HEADER, generateCasesCsv } from './generate-cases-csv.ts';
import type { ChildMode, ChildResult } from './ingest-child.ts';

const CHILD = fileURLToPath(new URL('./ingest-child.ts', import.meta.url));
const KIB_PER_MIB = 1024;

export interface BenchRun {
  label: string;
  mode: ChildMode;
  reingest: boolean;
  rows: number;
  seconds: number;
  rows_per_second: number;
  cpu_seconds: number;
  peak_rss_mib: number;
  baseline_rss_mib: number;
  close_seconds: number;
  load_average_1m: number;
  /** CPU the rest of the machine used while this child ran, as a share of all cores (Linux only; else null). */
  other_cpu_share: number | null;
  result: ChildResult;
}

export interface IngestBench {
  date: string;
  machine: { cpus: number; cpu_model: string; memory_gib: number; node: string; platform: string };
  seed: number;
  generate: { rows: number; bytes: number; seconds: number; open: number; cancelled: number };
  runs: BenchRun[];
  summary: {
    rows: number;
    read_csv: Picked;
    ours: Picked;
    reingest: Picked;
    /** DuckDB alone writing the data model's tables from the same file (tables-floor.ts): the faster of two runs (absent in older figures). */
    tables?: Picked;
    /** tables ÷ read_csv, rows per second: how much of read_csv's speed is left once these tables are written. */
    tables_ratio?: number;
    /** ours ÷ tables, rows per second. */
    ours_of_tables?: number;
    /** ours ÷ read_csv, rows per second (issue 10's aim: ≥ 0.2). */
    speed_ratio: number;
    /** ours ÷ read_csv, peak RSS. */
    memory_ratio: number;
    meets_speed_aim: boolean;
    /** Peak RSS at 250k, 500k, 1M rows; growth per 100k rows between the smallest and largest. */
    memory_growth: { rows: number; peak_rss_mib: number }[];
    rss_mib_per_100k_rows: number;
    memory_flat: boolean;
    /** A daily export into a large warehouse, end to end (added with the daily-load runs; absent in older figures). */
    daily?: {
      base_cases: number;
      rows: number;
      /** Building the base warehouse: one ingest of a `base_cases`-row export. */
      build: { seconds: number; rows_per_second: number; peak_rss_mib: number };
      seconds: number;
      peak_rss_mib: number;
      /** The same daily export again (everything already present). */
      reingest_seconds: number;
    };
    /** One large export into a fresh warehouse (10M rows in the full run): its time and peak memory. */
    large?: { rows: number; seconds: number; rows_per_second: number; peak_rss_mib: number };
    /** The largest peak RSS of any load of ours, and whether it is within the aim (1.5 GiB). */
    max_peak_rss_mib: number;
    meets_memory_aim: boolean;
  };
}

/** A run's figures as the summary quotes them; `label` names the run (absent in older figures). */
export interface Picked { seconds: number; rows_per_second: number; peak_rss_mib: number; label?: string }

/** Issue 10's aims for the ingest. */
export const SPEED_AIM = 0.2;
export const MEMORY_AIM_MIB = 1536;

/** The last `rows` rows of a generated export, with its header, as a file of their own. */
function tailRows(src: string, dst: string, rows: number): void {
  const size = statSync(src).size;
  const want = Math.min(size, rows * 400 + 4096); // generated rows are ~140 bytes
  const buf = Buffer.alloc(want);
  const fd = openSync(src, 'r');
  try {
    readSync(fd, buf, 0, want, size - want);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').trimEnd().split('\n');
  if (lines.length <= rows) throw new Error(`tailRows: ${src} has fewer than ${rows} rows in its last ${want} bytes`);
  writeFileSync(dst, [CASES_HEADER, ...lines.slice(-rows)].join('\n') + '\n');
}

function runChild(mode: ChildMode, file: string, db: string, memoryLimit?: string): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, file, db], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TZ: 'UTC', ...(memoryLimit ? { CIVIC_MEMORY_LIMIT: memoryLimit } : {}) },
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`ingest-child ${mode} ${file} exited with ${code}`));
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolvePromise(JSON.parse(last) as ChildResult);
      } catch {
        reject(new Error(`ingest-child ${mode} printed no result: ${out.slice(-500)}`));
      }
    });
  });
}

/** Busy CPU seconds of the whole machine so far (all cores), from /proc/stat; null off Linux. */
function machineBusySeconds(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / 100; // USER_HZ
  } catch {
    return null;
  }
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface BenchOptions {
  /** Rows in the largest file (the others are a quarter and a half of it). */
  rows?: number;
  seed?: number;
  log?: (line: string) => void;
  /** Fewer runs: no 250k/500k growth runs, no runs under a 1 GB memory_limit, a daily load into `rows` cases. */
  quick?: boolean;
  /** Cases in the warehouse the daily export goes into (default 5,000,000; with `quick`, `rows`); 0 skips the daily load. */
  dailyBase?: number;
  /** Rows of the daily export (default 10,000). */
  dailyRows?: number;
  /** Rows of the one large export loaded for its memory (default 10,000,000; with `quick`, none). */
  largeRows?: number;
}

export async function runIngestBench(opts: BenchOptions = {}): Promise<IngestBench> {
  const rows = opts.rows ?? 1_000_000;
  const seed = opts.seed ?? 311;
  const log = opts.log ?? (() => undefined);
  const quick = opts.quick ?? false;
  const sizes = (quick ? [rows] : [rows / 4, rows / 2, rows]).map(Math.round);
  const dailyBase = opts.dailyBase ?? (quick ? rows : 5_000_000);
  const dailyRows = opts.dailyRows ?? 10_000;
  const largeRows = opts.largeRows ?? (quick ? 0 : 10_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'civic-bench-'));
  try {
    log(`generating ${sizes.map((n) => n.toLocaleString('en-US')).join(' / ')}-row case exports in ${dir} …`);
    const gen = generateCasesCsv(dir, sizes, seed);
    const big = gen.files.get(rows)!;
    log(`  ${(gen.bytes.get(rows)! / 2 ** 20).toFixed(0)} MiB for ${rows.toLocaleString('en-US')} rows in ${gen.seconds.toFixed(1)} s`);

    const runs: BenchRun[] = [];
    let dbSeq = 0;
    const measure = async (label: string, mode: ChildMode, n: number, db = join(dir, `w${++dbSeq}.duckdb`), reingest = false, memoryLimit?: string, file = gen.files.get(n)!) => {
      const load = loadavg()[0];
      const busy0 = machineBusySeconds();
      const w0 = performance.now();
      const r = await runChild(mode, file, db, memoryLimit);
      const wall = (performance.now() - w0) / 1000;
      const busy1 = machineBusySeconds();
      const other = busy0 === null || busy1 === null ? null : Math.max(0, busy1 - busy0 - r.process_cpu_seconds) / (wall * cpus().length);
      if (r.rows !== n) throw new Error(`${label}: read ${r.rows} rows, expected ${n}`);
      if (mode === 'ours') {
        const want = reingest ? { loaded: 0, duplicate: n } : { loaded: n, duplicate: 0 };
        if (r.ingest?.loaded !== want.loaded || r.ingest?.duplicate !== want.duplicate || r.ingest?.rejected !== 0) {
          throw new Error(`${label}: unexpected ingest result ${JSON.stringify(r.ingest)}`);
        }
      }
      const run: BenchRun = {
        label, mode, reingest, rows: n,
        seconds: round(r.seconds, 3),
        rows_per_second: Math.round(n / r.seconds),
        cpu_seconds: round(r.cpu_seconds, 2),
        peak_rss_mib: Math.round(r.peak_rss_kib / KIB_PER_MIB),
        baseline_rss_mib: Math.round(r.rss_before_kib / KIB_PER_MIB),
        close_seconds: round(r.close_seconds, 3),
        load_average_1m: round(load),
        other_cpu_share: other === null ? null : round(other, 2),
        result: r,
      };
      runs.push(run);
      log(`  ${label.padEnd(28)} ${run.seconds.toFixed(2).padStart(7)} s  ${run.rows_per_second.toLocaleString('en-US').padStart(9)} rows/s  peak RSS ${run.peak_rss_mib} MiB`);
      return { run, db };
    };

    log('loading (each in its own child process) …');
    const limitA = await measure('read_csv (run 1)', 'read_csv', rows);
    const tablesA = await measure('tables only (run 1)', 'tables', rows);
    const growth = [];
    for (const n of sizes.slice(0, -1)) growth.push((await measure(`ours ${n.toLocaleString('en-US')}`, 'ours', n)).run);
    const oursA = await measure(`ours ${rows.toLocaleString('en-US')} (run 1)`, 'ours', rows);
    const oursB = await measure(`ours ${rows.toLocaleString('en-US')} (run 2)`, 'ours', rows);
    const re = await measure(`ours re-ingest ${rows.toLocaleString('en-US')}`, 'ours', rows, oursB.db, true);
    // The same loads with DuckDB capped at 1 GB (CIVIC_MEMORY_LIMIT): it spills instead of growing.
    if (!quick) for (const n of sizes) await measure(`ours ${n.toLocaleString('en-US')}, memory_limit 1GB`, 'ours', n, undefined, false, '1GB');
    let daily: IngestBench['summary']['daily'];
    if (dailyBase > 0) {
      // The base export and the day after it from one generator run: the daily rows are the next
      // requests after the base's last, as a city's next daily export would be.
      const dd = join(dir, 'daily');
      log(`generating a ${dailyBase.toLocaleString('en-US')}-case base export and the ${dailyRows.toLocaleString('en-US')} rows after it …`);
      const g = generateCasesCsv(dd, [dailyBase, dailyBase + dailyRows], seed + 1);
      const dayFile = join(dd, `daily-${dailyRows}.csv`);
      tailRows(g.files.get(dailyBase + dailyRows)!, dayFile, dailyRows);
      rmSync(g.files.get(dailyBase + dailyRows)!);
      const base = await measure(`ours ${dailyBase.toLocaleString('en-US')} (daily base)`, 'ours', dailyBase, undefined, false, undefined, g.files.get(dailyBase)!);
      rmSync(g.files.get(dailyBase)!);
      const day = await measure(`daily ${dailyRows.toLocaleString('en-US')} into ${dailyBase.toLocaleString('en-US')}`, 'ours', dailyRows, base.db, false, undefined, dayFile);
      const again = await measure(`daily again (unchanged)`, 'ours', dailyRows, base.db, true, undefined, dayFile);
      daily = {
        base_cases: dailyBase,
        rows: dailyRows,
        build: { seconds: base.run.seconds, rows_per_second: base.run.rows_per_second, peak_rss_mib: base.run.peak_rss_mib },
        seconds: day.run.seconds,
        peak_rss_mib: day.run.peak_rss_mib,
        reingest_seconds: again.run.seconds,
      };
    }
    let large: IngestBench['summary']['large'];
    if (largeRows > 0) {
      const ld = join(dir, 'large');
      log(`generating a ${largeRows.toLocaleString('en-US')}-row export …`);
      const g = generateCasesCsv(ld, [largeRows], seed + 2);
      const r = await measure(`ours ${largeRows.toLocaleString('en-US')} (large)`, 'ours', largeRows, undefined, false, undefined, g.files.get(largeRows)!);
      rmSync(ld, { recursive: true, force: true });
      large = { rows: largeRows, seconds: r.run.seconds, rows_per_second: r.run.rows_per_second, peak_rss_mib: r.run.peak_rss_mib };
    }
    const tablesB = await measure('tables only (run 2)', 'tables', rows);
    const limitB = await measure('read_csv (run 2)', 'read_csv', rows);

    const faster = (a: BenchRun, b: BenchRun) => (a.seconds <= b.seconds ? a : b);
    const limit = faster(limitA.run, limitB.run);
    const ours = faster(oursA.run, oursB.run);
    const tables = faster(tablesA.run, tablesB.run);
    growth.push(ours);
    const pick = (r: BenchRun): Picked => ({ seconds: r.seconds, rows_per_second: r.rows_per_second, peak_rss_mib: r.peak_rss_mib, label: r.label });
    const first = growth[0];
    const slope = ours.rows > first.rows ? ((ours.peak_rss_mib - first.peak_rss_mib) / (ours.rows - first.rows)) * 100_000 : 0;
    const speedRatio = ours.rows_per_second / limit.rows_per_second;
    const maxPeak = Math.max(...runs.filter((r) => r.mode === 'ours').map((r) => r.peak_rss_mib));
    return {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model ?? 'unknown',
        memory_gib: round(totalmem() / 2 ** 30, 1),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      },
      seed,
      generate: { rows, bytes: gen.bytes.get(rows)!, seconds: round(gen.seconds), open: gen.open, cancelled: gen.cancelled },
      runs,
      summary: {
        rows,
        read_csv: pick(limit),
        ours: pick(ours),
        reingest: pick(re.run),
        tables: pick(tables),
        tables_ratio: round(tables.rows_per_second / limit.rows_per_second, 3),
        ours_of_tables: round(ours.rows_per_second / tables.rows_per_second, 3),
        speed_ratio: round(speedRatio, 3),
        memory_ratio: round(ours.peak_rss_mib / limit.peak_rss_mib, 2),
        meets_speed_aim: speedRatio >= SPEED_AIM,
        memory_growth: growth.map((r) => ({ rows: r.rows, peak_rss_mib: r.peak_rss_mib })),
        rss_mib_per_100k_rows: round(slope, 1),
        // "Flat": the 4× larger file needs less than a quarter more memory.
        memory_flat: ours.peak_rss_mib <= first.peak_rss_mib * 1.25,
        ...(daily ? { daily } : {}),
        ...(large ? { large } : {}),
        max_peak_rss_mib: maxPeak,
        meets_memory_aim: maxPeak <= MEMORY_AIM_MIB,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function otherLine(b: IngestBench): string {
  const shares = b.runs.map((r) => r.other_cpu_share).filter((x): x is number => x !== null);
  if (shares.length === 0) return '';
  const max = Math.max(...shares);
  return ` Other processes used ${Math.round(100 * Math.min(...shares))}–${Math.round(100 * max)}% of the machine's CPU during the loads` +
    (max > 0.1 ? ' (wall times are disturbed by it; CPU s much less).' : '.');
}

/** The figures as a plain-text table plus the verdicts. */
export function formatIngestBench(b: IngestBench): string {
  const s = b.summary;
  const limitRps = s.read_csv.rows_per_second;
  const limitRss = s.read_csv.peak_rss_mib;
  const header = ['load', 'rows', 'seconds', 'rows/s', 'CPU s', 'peak RSS MiB', 'speed ÷ read_csv', 'RSS ÷ read_csv'];
  // The runs the summary quotes, by label (older figures have none: by seconds then).
  const quoted = [s.read_csv, s.ours, ...(s.tables ? [s.tables] : [])];
  const isQuoted = (r: BenchRun) => quoted.some((q) => (q.label !== undefined ? q.label === r.label : r.rows === s.rows && !r.reingest && q.seconds === r.seconds));
  const body = b.runs.map((r) => [
    r.label + (isQuoted(r) ? ' *' : ''),
    r.rows.toLocaleString('en-US'),
    r.seconds.toFixed(2),
    r.rows_per_second.toLocaleString('en-US'),
    r.cpu_seconds.toFixed(1),
    String(r.peak_rss_mib),
    (r.rows_per_second / limitRps).toFixed(3),
    (r.peak_rss_mib / limitRss).toFixed(2),
  ]);
  const rows = [header, ...body];
  const width = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  const rule = width.map((w) => '-'.repeat(w)).join('  ');
  const fmt = (n: number) => n.toLocaleString('en-US');
  return [
    `Ingest benchmark — ${b.date.slice(0, 10)}, ${b.machine.cpus} cores (${b.machine.cpu_model}), ${b.machine.memory_gib} GiB, Node ${b.machine.node}`,
    `file: ${fmt(s.rows)} rows, ${(b.generate.bytes / 2 ** 20).toFixed(0)} MiB (seed ${b.seed}; ${fmt(b.generate.open)} open, ${fmt(b.generate.cancelled)} cancelled); each load in its own child process`,
    '',
    line(header),
    rule,
    ...body.map(line),
    '',
    `* the faster of two runs, used below. Peak RSS includes the Node + tsx process (about ${b.runs[0].baseline_rss_mib} MiB before loading).`,
    `CPU s = the load's CPU time over all threads.` + otherLine(b),
    `speed:  ours ${fmt(s.ours.rows_per_second)} rows/s vs read_csv ${fmt(limitRps)} rows/s = ${s.speed_ratio.toFixed(3)} ` +
      `(${s.meets_speed_aim ? 'meets' : 'BELOW'} the aim of ≥ ${SPEED_AIM}); re-ingest of the unchanged file ${s.reingest.seconds.toFixed(2)} s ` +
      `vs read_csv's ${s.read_csv.seconds.toFixed(2)} s of it (${s.reingest.seconds <= s.read_csv.seconds ? 'meets' : 'ABOVE'} the aim of no more than reading it)`,
    ...(s.tables && s.tables_ratio !== undefined && s.ours_of_tables !== undefined
      ? [
        `floor:  the data model's tables alone (two events and a case per row, DuckDB only: tables-floor.ts) ${fmt(s.tables.rows_per_second)} rows/s ` +
          `= ${s.tables_ratio.toFixed(3)} of read_csv, what is left of read_csv's speed once they are written; ours is ${s.ours_of_tables.toFixed(3)} of it`,
      ]
      : []),
    `memory: ours ${s.memory_growth.map((g) => `${g.peak_rss_mib} MiB @ ${fmt(g.rows)}`).join(', ')} → ` +
      (s.memory_growth.length < 2
        ? '(one size: no growth measured); '
        : `${s.memory_flat ? 'flat' : 'GROWS with the file'} (${s.rss_mib_per_100k_rows >= 0 ? '+' : ''}${s.rss_mib_per_100k_rows} MiB per 100k rows); `) +
      `read_csv ${limitRss} MiB @ ${fmt(s.rows)} (ours × ${s.memory_ratio})` +
      (s.max_peak_rss_mib !== undefined
        ? `; largest peak of any load ${fmt(s.max_peak_rss_mib)} MiB` +
          (s.large ? ` (${fmt(s.large.rows)} rows: ${fmt(s.large.peak_rss_mib)} MiB, ${s.large.seconds.toFixed(0)} s, ${fmt(s.large.rows_per_second)} rows/s)` : '') +
          ` — ${s.meets_memory_aim ? 'within' : 'ABOVE'} the aim of ≤ ${fmt(MEMORY_AIM_MIB)} MiB at every size`
        : ''),
    ...(s.daily
      ? [
        `daily:  ${fmt(s.daily.rows)} rows into ${fmt(s.daily.base_cases)} cases in ${s.daily.seconds.toFixed(2)} s end to end (aim: ≤ 2 s), ` +
          `peak RSS ${s.daily.peak_rss_mib} MiB; the same file again ${s.daily.reingest_seconds.toFixed(2)} s; ` +
          `the base built in ${s.daily.build.seconds.toFixed(0)} s (${fmt(s.daily.build.rows_per_second)} rows/s, peak RSS ${s.daily.build.peak_rss_mib} MiB)`,
      ]
      : []),
  ].join('\n');
}
