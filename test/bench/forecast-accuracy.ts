// How good the demand forecast is (issue 12 item 4), measured the way GET /api/forecast judges it:
// rolling-origin backtests against the seasonal-naive benchmark, median MASE and the pooled
// coverage of the 80% and 95% intervals. On the demo city (one year, as tests seed it, and three
// years, where the 52-week season can be used) and on the real exports in test/fixtures. Not part
// of `npm test` (it loads four warehouses and fits a few thousand models: a minute or two).
//
//   node --import tsx test/bench/forecast-accuracy.ts [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Warehouse } from '../../warehouse/db.ts';
import { seedDemoCity } from '../../ingest/demo-city.ts';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { resolveWindow } from '../../warehouse/analytics/window.ts';
import { resolveJurisdiction } from '../../warehouse/analytics/jurisdiction.ts';
import { computeForecast, DEFAULT_HISTORY_WEEKS, type ForecastResult } from '../../warehouse/analytics/forecast.ts';
import type { SeriesGroup } from '../../warehouse/queries/series-sql.ts';
import { fixture, LA311_CSV } from '../helpers.ts';

interface Line { data: string; by: string; weeks: string; horizon: number; series: number; judged: number; seasonal: number; median_mase: number | null; coverage80: number | null; coverage95: number | null; model_used: number; benchmark_used: number; ms: number }

const lines: Line[] = [];

async function withWarehouse(load: (wh: Warehouse) => Promise<void>, run: (wh: Warehouse, tz: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'civic-forecast-'));
  const wh = await Warehouse.open(join(dir, 'civic.duckdb'));
  try {
    await load(wh);
    const j = await resolveJurisdiction(wh, { jurisdiction: null, timezone: null });
    await run(wh, j.timezone);
  } finally {
    wh.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(wh: Warehouse, tz: string, data: string, by: SeriesGroup[], weeks: number, horizon = 4) {
  const window = await resolveWindow(wh, { weeks }, tz);
  const t = performance.now();
  const r: ForecastResult = await computeForecast(wh, { window, by, horizon });
  const ms = Math.round(performance.now() - t);
  const s = r.summary;
  lines.push({
    data, by: by.join(',') || '(all)', weeks: `${r.from}..${r.to}`, horizon, series: s.series, judged: s.judged,
    seasonal: r.series.filter((x) => x.season !== null).length, median_mase: s.median_mase, coverage80: s.coverage80, coverage95: s.coverage95,
    model_used: s.model_used, benchmark_used: s.seasonal_naive_used, ms,
  });
  console.error(`${data} by ${by.join(',') || '(all)'}: ${s.sentence} (${ms} ms)`);
}

const groupings: SeriesGroup[][] = [[], ['service'], ['area'], ['service', 'area']];

await withWarehouse((wh) => seedDemoCity(wh).then(() => undefined), async (wh, tz) => {
  for (const by of groupings) await measure(wh, tz, 'demo city, 52 weeks', by, DEFAULT_HISTORY_WEEKS);
  await measure(wh, tz, 'demo city, 52 weeks', ['service'], DEFAULT_HISTORY_WEEKS, 8);
});
await withWarehouse((wh) => seedDemoCity(wh, { weeks: 156 }).then(() => undefined), async (wh, tz) => {
  for (const by of groupings) await measure(wh, tz, 'demo city, 156 weeks', by, DEFAULT_HISTORY_WEEKS);
});
await withWarehouse(async (wh) => void (await ingestFile(wh, fixture('sf311/sf311_cases_sample_10000.csv'), loadProfile('sf311'))), async (wh, tz) => {
  for (const by of [[], ['service']] as SeriesGroup[][]) {
    await measure(wh, tz, 'sf311 sample', by, DEFAULT_HISTORY_WEEKS);
    await measure(wh, tz, 'sf311 sample', by, 520);
  }
});
await withWarehouse(async (wh) => void (await ingestFile(wh, fixture('nyc311/nyc311_2011_sample_2000.csv'), loadProfile('nyc311'))), async (wh, tz) => {
  await measure(wh, tz, 'nyc311 sample', [], DEFAULT_HISTORY_WEEKS);
});
await withWarehouse(async (wh) => void (await ingestFile(wh, LA311_CSV, loadProfile('myla311'))), async (wh, tz) => {
  await measure(wh, tz, 'la311 subset', [], DEFAULT_HISTORY_WEEKS);
});

if (process.argv.includes('--json')) console.log(JSON.stringify(lines, null, 2));
else {
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
  console.log('| data | by | history | h | series | judged | seasonal | median MASE | 80% cover | 95% cover | model / benchmark | ms |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const l of lines) {
    console.log(`| ${l.data} | ${l.by} | ${l.weeks} | ${l.horizon} | ${l.series} | ${l.judged} | ${l.seasonal} | ${l.median_mase?.toFixed(3) ?? '—'} | ${pct(l.coverage80)} | ${pct(l.coverage95)} | ${l.model_used} / ${l.benchmark_used} | ${l.ms} |`);
  }
}
