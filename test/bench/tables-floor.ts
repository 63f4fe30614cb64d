// The ingest bench's second limit: DuckDB alone writing the rows the data model asks of a flat
// export (DESIGN.md, *Warehouse model*) — per row an opened event and, when it has a closed time, a
// closed or cancelled one, each with the row's attributes and its deterministic md5 id, and one
// `cases` row — read straight from `read_csv` in one transaction, with nothing else: no mapping
// or validation, no rejects kept, no repeats or cases already held looked for, no areas, H3 cells
// or settled masks, no batch record. (The bench's file has no due times, quality flags or kept
// attributes, so those columns are empty both here and in the real ingest.) It is one way of
// writing these tables, the plainest, not a proven minimum; with `preserve_insertion_order` off,
// as the ingest's events step runs under its budget, the events took the same time (2.87 s
// against 2.89 s for 2M rows). `read_csv` ÷ this tells how much of `read_csv`'s speed is left to a
// loader once it stores these tables, beside the aim of 0.2 of it (issue 10).
//
// Written for the bench's generated files (the demo city's `cases.csv` columns, CASES_HEADER);
// tables-floor.test.ts holds it to the same events and cases the real ingest stores from such a
// file, every column but those named above.
//
// loadFlatRowsOnly is the same for another model, not DESIGN.md's: each flat row stored once with
// both its events' ids (the events would be a view over it), and the cases. Not in the bench run;
// `node --import tsx test/bench/ingest-child.ts flat <file.csv> <warehouse.duckdb>` times it.
import type { Warehouse } from '../../warehouse/db.ts';

/** The demo-city profile's source and time zone (ingest/profiles/demo-city.json). */
const SOURCE = 'demo';
const TIME_ZONE = 'America/New_York';

const READ = `
CREATE OR REPLACE TEMP TABLE floor_rows AS
SELECT * FROM read_csv($path, header = true, auto_detect = false, columns = {
  'request_id': 'VARCHAR', 'service_code': 'VARCHAR', 'service_name': 'VARCHAR', 'agency': 'VARCHAR',
  'channel': 'VARCHAR', 'status': 'VARCHAR', 'requested_at': 'TIMESTAMPTZ', 'closed_at': 'TIMESTAMPTZ',
  'lat': 'DOUBLE', 'lon': 'DOUBLE', 'district': 'VARCHAR'})`;

/** A row's end event: cancelled when its status says so, else closed (as ingest/events-sql.ts). */
const END_TYPE = `CASE WHEN status = 'cancelled' THEN 'cancelled' ELSE 'closed' END`;
const ATTRS = `$source AS source, $batch AS batch_id, request_id AS source_case_id, service_code, service_name, agency,
  channel, status, lat, lon, district AS area_name`;
// The id as the loader computes it: md5(source | case id | type | time µs).
const EVENT_ID = (type: string, at: string) => `md5(concat_ws('|', $source, request_id, ${type}, epoch_us(${at})::VARCHAR))`;

const EVENTS = `
INSERT INTO case_events BY NAME
SELECT ${EVENT_ID(`'opened'`, 'requested_at')} AS event_id, $source || ':' || request_id AS case_id, 'opened' AS event_type,
  requested_at AS occurred_at, ${ATTRS}
FROM floor_rows
UNION ALL
SELECT ${EVENT_ID(END_TYPE, 'closed_at')}, $source || ':' || request_id, ${END_TYPE}, closed_at, ${ATTRS}
FROM floor_rows WHERE closed_at IS NOT NULL`;

const CASES = `
INSERT INTO cases BY NAME
SELECT $source || ':' || request_id AS case_id, $source AS source, request_id AS source_case_id, service_code, service_name,
  agency, channel, requested_at AS opened_at,
  closed_at AS first_response_at, -- a row's end is its first response, cancelled or closed
  CASE WHEN status <> 'cancelled' THEN closed_at END AS closed_at,
  CASE WHEN status = 'cancelled' THEN closed_at END AS cancelled_at,
  CASE WHEN status = 'cancelled' THEN 'cancelled' WHEN closed_at IS NOT NULL THEN 'closed' ELSE 'open' END AS status,
  0 AS reopen_count, lat, lon, district AS area_name, $batch AS refreshed_batch,
  coalesce(closed_at, requested_at) AS last_event_at,
  (requested_at AT TIME ZONE $tz)::DATE AS opened_day,
  (CASE WHEN status <> 'cancelled' THEN closed_at END AT TIME ZONE $tz)::DATE AS closed_day,
  $tz AS day_zone
FROM floor_rows ORDER BY requested_at`;

const FLAT_ROWS = `
CREATE TABLE flat_rows AS
SELECT ${EVENT_ID(`'opened'`, 'requested_at')} AS opened_event_id,
  CASE WHEN closed_at IS NOT NULL THEN ${EVENT_ID(END_TYPE, 'closed_at')} END AS end_event_id,
  $source || ':' || request_id AS case_id, $batch AS batch_id, *
FROM floor_rows`;

/** Loads a generated `cases.csv` the plainest way (above); returns the rows read. */
export async function loadTablesOnly(wh: Warehouse, path: string): Promise<number> {
  return load(wh, path, EVENTS);
}

/** The same with each row stored once instead of as two events (another model; above). */
export async function loadFlatRowsOnly(wh: Warehouse, path: string): Promise<number> {
  return load(wh, path, FLAT_ROWS);
}

async function load(wh: Warehouse, path: string, rowsSql: string): Promise<number> {
  const params = { source: SOURCE, batch: 'floor' };
  await wh.run(READ, { path });
  const rows = (await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM floor_rows`))!.n;
  await wh.transaction(async () => {
    await wh.run(rowsSql, params);
    await wh.run(CASES, { ...params, tz: TIME_ZONE });
  });
  await wh.run(`DROP TABLE floor_rows`);
  return rows;
}
