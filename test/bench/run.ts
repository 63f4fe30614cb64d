// `npm run bench`: ingest, analytics and HTTP in one run, each figure beside its limit measured in
// the same run; writes BENCHMARKS.md and the figures as JSON under data/bench/. Never part of `npm test`.
//
//   npm run bench                     # the full run (about 20 minutes on 2 cores): ingest 1M rows,
//                                     # a 5M base with a daily load, a 10M file; analytics at 1M, 5M
//                                     # and 20M cases; HTTP 10 s a route
//   npm run bench -- --quick          # a few minutes: ingest 200k rows, analytics 250k and 1M, HTTP 3 s a route
//   npm run bench -- --only analytics [--cases 1000000,5000000]   # one part (BENCHMARKS.md is left as it is)
//   npm run bench -- --only ingest [--rows 200000]
//   npm run bench -- --only http [--seconds 10] [--connections 10]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIngestBench, runIngestBench } from './ingest-bench.ts';
import { FULL_SIZES, formatAnalyticsBench, QUICK_SIZES, runAnalyticsBench } from './analytics-bench.ts';
import { formatHttpBench, runHttpBench } from './http-bench.ts';
import { BenchArgError, parseBenchArgs, USAGE, type BenchArgs, type BenchPart } from './bench-args.ts';
import { benchContext } from './machine.ts';
import { renderBenchmarksMd, type BenchSection } from './benchmarks-md.ts';
import { formatReportBench, runReportBench } from './report-bench.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, 'data', 'bench');
const MD = join(ROOT, 'BENCHMARKS.md');
const QUICK = { rows: 200_000, seconds: 3 };

let args: BenchArgs;
try {
  args = parseBenchArgs(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof BenchArgError)) throw e;
  console.error(`${e.message}\nusage: ${USAGE}`);
  process.exit(2);
}
const argv = process.argv.slice(2);
const ctx = benchContext(ROOT, `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`);
const runs = (part: BenchPart) => args.only === null || args.only === part;
const log = (l: string) => console.log(l);
const write = (name: string, value: unknown) => writeFileSync(join(OUT, name), JSON.stringify(value, null, 2) + '\n');
const loadavg = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

console.log(`${ctx.command}: ${ctx.cores} cores (${ctx.cpu_model}), ${ctx.memory_gib} GiB, Node ${ctx.node}, commit ${ctx.commit ?? '?'}` +
  `${ctx.dirty_paths.length ? ` + ${ctx.dirty_paths.length} uncommitted paths` : ''}, load average ${ctx.load_average_1m}`);
mkdirSync(OUT, { recursive: true });
const sections: BenchSection[] = [];
const failed: string[] = [];
const t0 = performance.now();

/**
 * Runs one part; a part that fails is reported (here and in BENCHMARKS.md) and the others still
 * run: a half-hour run should not lose its analytics and HTTP figures to an ingest error.
 */
async function part(title: string, fn: () => Promise<Omit<BenchSection, 'title' | 'seconds'>>): Promise<void> {
  const s0 = performance.now();
  console.log(`\n== ${title.toLowerCase()}`);
  try {
    const done = await fn();
    sections.push({ title, seconds: (performance.now() - s0) / 1000, ...done });
  } catch (e) {
    console.error(`${title} failed:`, e);
    failed.push(title);
    const message = e instanceof Error ? e.message : String(e);
    sections.push({ title, seconds: (performance.now() - s0) / 1000, intro: '**Failed in this run**; no figures:', body: '```text\n' + message.slice(0, 2000) + '\n```' });
  }
}

if (runs('ingest')) await part('Ingest', async () => {
  // Built as a variable, not a literal: options the ingest bench grows (`quick`) pass through.
  const ingestOpts = { rows: args.rows ?? (args.quick ? QUICK.rows : undefined), quick: args.quick, log };
  const bench = await runIngestBench(ingestOpts);
  const text = formatIngestBench(bench);
  console.log('\n' + text);
  write('ingest.json', bench);
  return {
    intro: 'A seeded export in the demo city\'s `cases.csv` format loaded in child processes, one at a time, each into a fresh ' +
      'DuckDB file: *ours* is the full ingest (parse, map, validate, events, `cases` refresh, H3 cells, commit); the limit is ' +
      'DuckDB\'s own `CREATE TABLE t AS SELECT * FROM read_csv(file)` of the same file. Beside it, *tables only*: the data model\'s tables ' +
      '(an opened and an end event per row with their md5 ids, a `cases` row per case) written from the same file by DuckDB alone, with ' +
      'no mapping, validation, rejects, repeats, areas, H3 cells or masks (test/bench/tables-floor.ts): what is left of `read_csv`\'s speed ' +
      'once these tables are written, the plainest way. Issue 10\'s aims: at least 0.2 of `read_csv`\'s speed on 1M rows, ' +
      'peak memory within 1.5 GiB at 1M, 5M and 10M rows, a 10,000-row daily export into 5M cases in 2 s, and the same export again no dearer than reading it.',
    body: '```text\n' + text + '\n```',
  };
});
if (runs('analytics')) await part('Analytics', async () => {
  const sizes = args.cases ?? (args.quick ? QUICK_SIZES : FULL_SIZES);
  const a = await runAnalyticsBench({ sizes, log });
  const text = formatAnalyticsBench(a);
  console.log('\n' + text);
  write('analytics.json', a);
  return {
    intro: 'The analyses the dashboard and the API run (`computeKpis`, `computeHotspots`, as the routes call them) on a warehouse ' +
      'of each size.',
    body: text,
  };
});
if (runs('http')) await part('HTTP', async () => {
  const h = await runHttpBench({ seconds: args.seconds ?? (args.quick ? QUICK.seconds : undefined), connections: args.connections, log });
  const text = formatHttpBench(h);
  console.log('\n' + text);
  write('http.json', h);
  return { intro: 'One server, many clients (issue 15).', body: text };
});
// Reports (issue 14): whole runs only (`--only` names ingest, analytics or http); alone: node --import tsx test/bench/report-bench.ts
if (args.only === null) await part('Reports', async () => {
  const r = await runReportBench({ rows: args.quick ? 200_000 : 1_000_000, log });
  const text = formatReportBench(r);
  console.log('\n' + text);
  write('reports.json', r);
  return {
    intro: 'The demo city\'s full weekly staff report (summary, every service, every district, methodology) built and rendered to a tagged PDF; ' +
      'a CSV export through the reports\' streamed writer beside DuckDB\'s own `COPY (SELECT …) TO` of the same rows in the same run.',
    body: '```text\n' + text + '\n```',
  };
});

const total = (performance.now() - t0) / 1000;
write('run.json', { ...ctx, seconds: total, parts: sections.map((s) => ({ part: s.title, seconds: s.seconds })) });
const where = relative(process.cwd(), OUT) || OUT;
if (args.only === null) {
  writeFileSync(MD, renderBenchmarksMd(ctx, sections, total, loadavg()));
  console.log(`\nwhole bench ${total.toFixed(0)} s; BENCHMARKS.md and ${where}/ (ingest.json, analytics.json, http.json, run.json) written`);
} else {
  // One part alone would leave BENCHMARKS.md without the others: it stays the last whole run's.
  console.log(`\n${args.only} ${total.toFixed(0)} s; figures in ${where}/ (BENCHMARKS.md is written by whole runs only)`);
}
if (failed.length) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
