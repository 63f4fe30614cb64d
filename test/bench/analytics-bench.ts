// KPIs (service × week) and hot-spots (H3 resolution 8) over a 5,000,000-case warehouse, each
// beside the bare DuckDB aggregation it rests on, timed in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { polygonToCells } from 'h3-js';
import { Warehouse } from '../../warehouse/db.ts';
import { computeKpis } from '../../warehouse/analytics/kpis.ts';
import { computeHotspots } from '../../warehouse/analytics/hotspots.ts';

export interface AnalyticsRun { label: string; seconds: number; bare_seconds: number; ratio: number; rows_out: number }
export interface AnalyticsBench { cases: number; build_seconds: number; runs: AnalyticsRun[] }

const BBOX: [number, number, number, number] = [-77.45, 41.1, -77.15, 41.3];

async function time<T>(fn: () => Promise<T>, repeat = 3): Promise<{ seconds: number; value: T }> {
  let best = Infinity;
  let value!: T;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    value = await fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return { seconds: best, value };
}

/**
 * Builds the `cases` table directly with SQL (the ingest is measured separately): a year of
 * requests over 9 services, realistic durations, 2% open, points on the demo city's H3 cells.
 */
export async function runAnalyticsBench(opts: { cases?: number; log?: (l: string) => void } = {}): Promise<AnalyticsBench> {
  const n = opts.cases ?? 5_000_000;
  const log = opts.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'civic-abench-'));
  const wh = await Warehouse.open(join(dir, 'w.duckdb'));
  try {
    const ring = [[BBOX[1], BBOX[0]], [BBOX[1], BBOX[2]], [BBOX[3], BBOX[2]], [BBOX[3], BBOX[0]], [BBOX[1], BBOX[0]]];
    const cells = polygonToCells(ring, 9);
    const t0 = performance.now();
    await wh.run(`INSERT INTO areas VALUES ('city', 'Riverton', 'city', NULL, $g)`, { g: JSON.stringify({ type: 'Polygon', coordinates: [ring.map(([la, lo]) => [lo, la])] }) });
    await wh.run(`CREATE TEMP TABLE bench_cells (i INTEGER, cell VARCHAR)`);
    const appender = await wh.conn.createAppender('bench_cells', 'main', 'temp');
    cells.forEach((c, i) => {
      appender.appendInteger(i + 1);
      appender.appendVarchar(c);
      appender.endRow();
    });
    appender.closeSync();
    await wh.run(
      `INSERT INTO cases (case_id, source, source_case_id, service_code, service_name, agency, channel, opened_at, first_response_at,
         closed_at, cancelled_at, due_at, status, reopen_count, lat, lon, area_name, quality_flags, refreshed_batch, area_id, h3_r7, h3_r8, h3_r9, last_event_at)
       WITH g AS (
         SELECT i, TIMESTAMPTZ '2025-11-17 05:00:00+00' + to_microseconds((random() * 364 * 86400e6)::BIGINT) AS opened,
                (i % 9) AS svc, 1 + (hash(i) % $ncells)::INTEGER AS cell_i, exp(random() * 5) AS hours, random() < 0.02 AS still_open
         FROM range($n) t(i)
       )
       SELECT 'bench:' || g.i, 'bench', g.i::VARCHAR, 'S' || svc, 'Service ' || svc, 'Agency ' || (svc % 4), 'phone', opened, opened,
              CASE WHEN still_open THEN NULL ELSE opened + to_microseconds((hours * 3600e6)::BIGINT) END, NULL,
              opened + INTERVAL 72 HOUR, CASE WHEN still_open THEN 'open' ELSE 'closed' END, 0, NULL, NULL, NULL, NULL, 'bench', 'city',
              NULL, c.cell, NULL, opened
       FROM g JOIN bench_cells c ON c.i = g.cell_i`,
      { n, ncells: cells.length },
    );
    // Resolution 8 cells are the parents of the resolution 9 ones we drew.
    await wh.run(`UPDATE cases SET h3_r9 = h3_r8`);
    const build = (performance.now() - t0) / 1000;
    log(`  built ${n.toLocaleString('en-US')} cases in ${build.toFixed(1)} s`);
    await fixParents(wh);

    const window = { from: '2026-08-24', to: '2026-11-15', as_of: '2026-11-16T05:00:00Z', timezone: 'America/New_York' };
    const runs: AnalyticsRun[] = [];
    const kpi = await time(() => computeKpis(wh, ['service', 'week'], window));
    const bareKpi = await time(() =>
      wh.all(`SELECT service_name, date_trunc('week', opened_at AT TIME ZONE $tz) AS w, count(*) AS n, count(closed_at) AS c, median(epoch(closed_at - opened_at)) AS m
              FROM cases WHERE opened_at >= timezone($tz, $from::DATE::TIMESTAMP) AND opened_at < timezone($tz, ($to::DATE + 1)::TIMESTAMP) GROUP BY ALL`,
      { tz: window.timezone, from: window.from, to: window.to }));
    runs.push({ label: 'KPIs by service × week, 12 weeks (KM median + P90 + on-time)', seconds: kpi.seconds, bare_seconds: bareKpi.seconds, ratio: kpi.seconds / bareKpi.seconds, rows_out: kpi.value.rows.length });
    log(`  ${runs[runs.length - 1].label}: ${kpi.seconds.toFixed(3)} s (bare ${bareKpi.seconds.toFixed(3)} s)`);
    const year = { from: '2025-11-17', to: '2026-11-15', as_of: window.as_of, timezone: window.timezone };
    const kpiYear = await time(() => computeKpis(wh, ['service', 'week'], year), 1);
    const bareYear = await time(() =>
      wh.all(`SELECT service_name, date_trunc('week', opened_at AT TIME ZONE $tz) AS w, count(*) AS n, median(epoch(closed_at - opened_at)) AS m FROM cases GROUP BY ALL`, { tz: year.timezone }), 1);
    runs.push({ label: 'KPIs by service × week, whole year (all 5M cases)', seconds: kpiYear.seconds, bare_seconds: bareYear.seconds, ratio: kpiYear.seconds / bareYear.seconds, rows_out: kpiYear.value.rows.length });
    log(`  ${runs[runs.length - 1].label}: ${kpiYear.seconds.toFixed(3)} s (bare ${bareYear.seconds.toFixed(3)} s)`);
    const hot = await time(() => computeHotspots(wh, { resolution: 8, k: 1, window: year, fdr: true }));
    const bareHot = await time(() => wh.all(`SELECT h3_r8, count(*) AS n FROM cases WHERE opened_at >= timezone($tz, $from::DATE::TIMESTAMP) AND opened_at < timezone($tz, ($to::DATE + 1)::TIMESTAMP) GROUP BY 1`, { tz: year.timezone, from: year.from, to: year.to }));
    runs.push({ label: 'Hot-spots, H3 resolution 8, k = 1, whole year (Gi*, FDR, Local Moran)', seconds: hot.seconds, bare_seconds: bareHot.seconds, ratio: hot.seconds / bareHot.seconds, rows_out: hot.value.cells.length });
    log(`  ${runs[runs.length - 1].label}: ${hot.seconds.toFixed(3)} s (bare ${bareHot.seconds.toFixed(3)} s)`);
    return { cases: n, build_seconds: build, runs };
  } finally {
    wh.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function fixParents(wh: Warehouse) {
  const { cellToParent } = await import('h3-js');
  const cells = (await wh.all<{ c: string }>(`SELECT DISTINCT h3_r9 AS c FROM cases`)).map((r) => r.c);
  await wh.run(`CREATE TEMP TABLE parents (c9 VARCHAR, c8 VARCHAR, c7 VARCHAR)`);
  const app = await wh.conn.createAppender('parents', 'main', 'temp');
  for (const c of cells) {
    app.appendVarchar(c);
    app.appendVarchar(cellToParent(c, 8));
    app.appendVarchar(cellToParent(c, 7));
    app.endRow();
  }
  app.closeSync();
  await wh.run(`UPDATE cases SET h3_r8 = p.c8, h3_r7 = p.c7 FROM parents p WHERE p.c9 = cases.h3_r9`);
}

export function formatAnalyticsBench(b: AnalyticsBench): string {
  const lines = [`Analytics over ${b.cases.toLocaleString('en-US')} cases (table built in ${b.build_seconds.toFixed(1)} s); best of 3 runs, bare DuckDB aggregation in the same run`, ''];
  lines.push('| analysis | ours s | bare DuckDB s | ours ÷ bare | rows out |', '|---|--:|--:|--:|--:|');
  for (const r of b.runs) lines.push(`| ${r.label} | ${r.seconds.toFixed(3)} | ${r.bare_seconds.toFixed(3)} | ${r.ratio.toFixed(1)} | ${r.rows_out.toLocaleString('en-US')} |`);
  return lines.join('\n');
}
