// `npm run bench`: ingest speed and memory against DuckDB's own read_csv, measured in the same
// run; prints a table and writes the figures to data/bench/ingest.json. Never part of `npm test`.
//
//   npm run bench                 # 1,000,000 rows (plus 250k and 500k for memory growth)
//   npm run bench -- --rows 200000   # a quicker, smaller run
//   npm run bench -- --only analytics [--cases 1000000]   # KPIs and hot-spots over 5M cases
//   npm run bench -- --only http [--seconds 10] [--connections 10]   # autocannon against a running server
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIngestBench, runIngestBench } from './ingest-bench.ts';
import { formatAnalyticsBench, runAnalyticsBench } from './analytics-bench.ts';
import { formatHttpBench, runHttpBench } from './http-bench.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, 'data', 'bench', 'ingest.json');

function rowsArg(argv: string[]): number | undefined {
  const i = argv.indexOf('--rows');
  if (i < 0) return undefined;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 4 || n % 4 !== 0) {
    console.error('--rows must be a whole number divisible by 4');
    process.exit(2);
  }
  return n;
}

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
if (only !== null && !['ingest', 'analytics', 'http'].includes(only)) {
  console.error('--only takes ingest, analytics or http');
  process.exit(2);
}
const numberArg = (name: string) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : undefined);
const t0 = performance.now();
mkdirSync(dirname(OUT), { recursive: true });
if (only === null || only === 'ingest') {
  const bench = await runIngestBench({ rows: rowsArg(argv), log: (l) => console.log(l) });
  console.log('');
  console.log(formatIngestBench(bench));
  writeFileSync(OUT, JSON.stringify(bench, null, 2) + '\n');
}
if (only === null || only === 'analytics') {
  console.log('\nanalytics: building a 5,000,000-case warehouse …');
  const a = await runAnalyticsBench({ cases: argv.includes('--cases') ? Number(argv[argv.indexOf('--cases') + 1]) : undefined, log: (l) => console.log(l) });
  console.log('');
  console.log(formatAnalyticsBench(a));
  writeFileSync(join(dirname(OUT), 'analytics.json'), JSON.stringify(a, null, 2) + '\n');
}
if (only === null || only === 'http') {
  console.log('');
  const h = await runHttpBench({ seconds: numberArg('--seconds'), connections: numberArg('--connections'), log: (l) => console.log(l) });
  console.log('');
  console.log(formatHttpBench(h));
  writeFileSync(join(dirname(OUT), 'http.json'), JSON.stringify(h, null, 2) + '\n');
}
console.log(`\nfigures: ${relative(process.cwd(), dirname(OUT)) || dirname(OUT)}/ (ingest.json, analytics.json, http.json); whole bench ${((performance.now() - t0) / 1000).toFixed(0)} s`);
