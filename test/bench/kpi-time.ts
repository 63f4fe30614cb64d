// computeKpis by service × week on any warehouse, as the routes call it: best of three runs per
// window, and the rows as JSON so two versions of the code can be compared on the same data.
//
//   node --import tsx test/bench/kpi-time.ts <warehouse.duckdb> <as-of ISO> <zone> '{"overview":{"from":"2026-08-24","to":"2026-11-15"}}' > out.json
//
// Measured with it (issue 10): a 10M-case warehouse built by our own ingest of a generated export.
import { Warehouse } from '../../warehouse/db.ts';
import { computeKpis } from '../../warehouse/analytics/kpis.ts';

const [db, asOf, zone, windowsJson] = process.argv.slice(2);
if (!db || !asOf || !zone || !windowsJson) {
  console.error('usage: kpi-time.ts <warehouse.duckdb> <as-of ISO> <zone> <{"name":{"from":"YYYY-MM-DD","to":"YYYY-MM-DD"}}>');
  process.exit(2);
}
const wh = await Warehouse.open(db);
const out: Record<string, unknown> = {};
for (const [name, w] of Object.entries(JSON.parse(windowsJson) as Record<string, { from: string; to: string }>)) {
  const seconds: number[] = [];
  let rows: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    rows = (await computeKpis(wh, ['service', 'week'], { ...w, as_of: asOf, timezone: zone })).rows;
    seconds.push((performance.now() - t0) / 1000);
  }
  out[name] = { best_seconds: Math.min(...seconds), runs: seconds, rows: rows.length };
  out[`${name}_rows`] = rows;
}
console.log(JSON.stringify(out));
wh.close();
