// How reliably the overview and a year meet issue 10's aims: medians (and the spread) of many runs
// of computeKpis by service × week on the analytics bench's synthetic city, in one process, where
// the whole bench quotes the best of three. Builds the city at <cases> into <warehouse.duckdb>
// first if that file does not exist (about 25 s for 5M cases); run it again to measure again.
//
//   node --import tsx test/bench/kpi-medians.ts <warehouse.duckdb> [cases=5000000] [runs=9]
//
// Run under the bench's malloc setting (GLIBC_TUNABLES, as `npm run bench` sets it).
import { existsSync } from 'node:fs';
import { Warehouse } from '../../warehouse/db.ts';
import { computeKpis } from '../../warehouse/analytics/kpis.ts';
import { ensureSettledMasks } from '../../warehouse/analytics/settled-masks.ts';
import { addBenchCases, BENCH_OVERVIEW, BENCH_YEAR, BENCH_ZONE, prepareBenchCity } from './bench-cases.ts';

const [db, casesArg = '5000000', runsArg = '9'] = process.argv.slice(2);
if (!db) {
  console.error('usage: kpi-medians.ts <warehouse.duckdb> [cases=5000000] [runs=9]');
  process.exit(2);
}
const fresh = !existsSync(db);
const wh = await Warehouse.open(db);
if (fresh) {
  const cases = Number(casesArg);
  const t0 = performance.now();
  const { cells } = await prepareBenchCity(wh);
  // In steps of 1M, each stored in order of opening, as the analytics bench grows its table.
  for (let lo = 0; lo < cases; lo += 1_000_000) await addBenchCases(wh, lo, Math.min(cases, lo + 1_000_000), cells);
  await ensureSettledMasks(wh);
  await wh.run('CHECKPOINT');
  console.log(`built ${cases.toLocaleString('en-US')} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const runs = Math.max(1, Number(runsArg));
// The analytics bench's windows (analytics-bench.ts).
const windows = { overview: { ...BENCH_OVERVIEW, timezone: BENCH_ZONE }, year: { ...BENCH_YEAR, timezone: BENCH_ZONE } };
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const [name, w] of Object.entries(windows)) {
  await computeKpis(wh, ['service', 'week'], w); // warm: workers started, the file's pages read
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await computeKpis(wh, ['service', 'week'], w);
    ms.push(performance.now() - t0);
  }
  console.log(`${name.padEnd(8)} median ${median(ms).toFixed(0)} ms (${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)}), ${runs} runs`);
}
wh.close();
