// A synthetic city's `cases` table, built directly in SQL for the analytics bench (the ingest is
// measured on its own): a year of requests over 9 services, durations from an hour to six days,
// 2% still open, points near the centres of H3 cells over a small city. Every value is a hash of the case number,
// so a table of N cases is the same in every run, and growing it from N to M adds cases N..M-1
// without touching the first N: the 1M, 5M and 20M warehouses are one table grown in steps.
import { cellToLatLng, cellToParent, polygonToCells } from 'h3-js';
import type { Warehouse } from '../../warehouse/db.ts';
import { settledMasksSql } from '../../warehouse/queries/kpi-sql.ts';

/** The zone the local days are cut in; the analyses' window uses the same, so they read the stored days. */
export const BENCH_ZONE = 'America/New_York';
/** The year of requests: opened from 2025-11-17 00:00 local for 364 days. */
export const BENCH_YEAR = { from: '2025-11-17', to: '2026-11-15', as_of: '2026-11-16T05:00:00Z' } as const;
/** The overview's window: the year's last 12 weeks, at the same as-of time. */
export const BENCH_OVERVIEW = { from: '2026-08-24', to: BENCH_YEAR.to, as_of: BENCH_YEAR.as_of } as const;

const BBOX: [number, number, number, number] = [-77.45, 41.1, -77.15, 41.3];
// Rows per INSERT: a 15M-row step in one statement holds more in memory than it needs to.
const CHUNK = 5_000_000;

/** The city's area and its H3 cells (resolution 9, with their resolution 8 and 7 parents), once per warehouse. */
export async function prepareBenchCity(wh: Warehouse): Promise<{ cells: number }> {
  const ring = [[BBOX[1], BBOX[0]], [BBOX[1], BBOX[2]], [BBOX[3], BBOX[2]], [BBOX[3], BBOX[0]], [BBOX[1], BBOX[0]]];
  await wh.run(`INSERT INTO areas VALUES ('city', 'Riverton', 'city', NULL, $g)`, { g: JSON.stringify({ type: 'Polygon', coordinates: [ring.map(([la, lo]) => [lo, la])] }) });
  const cells = polygonToCells(ring, 9);
  await wh.run(`CREATE TEMP TABLE bench_cells (i INTEGER, c9 VARCHAR, c8 VARCHAR, c7 VARCHAR, lat DOUBLE, lon DOUBLE)`);
  const app = await wh.conn.createAppender('bench_cells', 'main', 'temp');
  cells.forEach((c, i) => {
    app.appendInteger(i + 1);
    app.appendVarchar(c);
    app.appendVarchar(cellToParent(c, 8));
    app.appendVarchar(cellToParent(c, 7));
    const [lat, lon] = cellToLatLng(c);
    app.appendDouble(lat);
    app.appendDouble(lon);
    app.endRow();
  });
  app.closeSync();
  return { cells: cells.length };
}

/**
 * Adds cases `from`..`to`-1, each step's in order of opening. The local days of migration 010 (`opened_day`, `closed_day`,
 * `day_zone`) are filled as the loader fills them, so the analyses read stored days as they do
 * on a real warehouse whose zone is the window's.
 */
export async function addBenchCases(wh: Warehouse, from: number, to: number, cells: number): Promise<void> {
  for (let lo = from; lo < to; lo += CHUNK) {
    // Each settled case's masks computed as ingest computes them (kpi-sql.ts settledMasksSql).
    const q = settledMasksSql(`
       WITH g AS (
         SELECT i, TIMESTAMPTZ '2025-11-17 05:00:00+00' + to_microseconds((hash(i, 1) % 31449600000000)::BIGINT) AS opened,
                (i % 9) AS svc, 1 + (hash(i, 2) % $ncells)::INTEGER AS cell_i,
                exp(5 * (hash(i, 3) % 1000000)::DOUBLE / 1e6) AS hours, hash(i, 4) % 50 = 0 AS still_open
         FROM range($lo, $hi) t(i)
       ), d AS (
         SELECT *, CASE WHEN still_open THEN NULL ELSE opened + to_microseconds((hours * 3600e6)::BIGINT) END AS closed FROM g
       )
       SELECT 'bench:' || d.i AS case_id, 'bench' AS source, d.i::VARCHAR AS source_case_id, 'S' || svc AS service_code, 'Service ' || svc AS service_name,
              'Agency ' || (svc % 4) AS agency, 'phone' AS channel, opened AS opened_at, opened AS first_response_at,
              closed AS closed_at, NULL::TIMESTAMPTZ AS cancelled_at, opened + INTERVAL 72 HOUR AS due_at, CASE WHEN still_open THEN 'open' ELSE 'closed' END AS status, 0 AS reopen_count,
              -- A point within about 50 m of its cell's centre, on a grid of a millionth of a degree:
              -- most requests have a point of their own, as geocoded addresses do.
              round(b.lat + ((hash(d.i, 5) % 1001)::INTEGER - 500) * 1e-6, 6) AS lat, round(b.lon + ((hash(d.i, 6) % 1001)::INTEGER - 500) * 1e-6, 6) AS lon,
              NULL AS area_name, NULL AS quality_flags, 'bench' AS refreshed_batch, 'city' AS area_id, b.c7 AS h3_r7, b.c8 AS h3_r8, b.c9 AS h3_r9,
              coalesce(closed, opened) AS last_event_at, (opened AT TIME ZONE $tz)::DATE AS opened_day, (closed AT TIME ZONE $tz)::DATE AS closed_day, $tz AS day_zone
       FROM d JOIN bench_cells b ON b.i = d.cell_i
       -- Each step stored in order of opening, as ingest stores an export in request order (each
       -- slice's cases in order of opening: ingest/README.md): a window of days reads the row
       -- groups of its days. The 5M table is two sorted runs (1M, then 4M), the 20M five.
       ORDER BY d.opened, d.i`);
    await wh.run(
      `INSERT INTO cases BY NAME ${q.sql}`,
      { ...q.params, lo, hi: Math.min(to, lo + CHUNK), ncells: cells, tz: BENCH_ZONE },
    );
  }
}
