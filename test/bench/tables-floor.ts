// The ingest bench's second limit: what DuckDB alone takes to store the rows the data model asks
// of a flat export (DESIGN.md, *Warehouse model*) — per row an opened event and, when it has a
// closed time, a closed or cancelled one, each with the row's attributes and its deterministic
// md5 id, and one `cases` row — read straight from `read_csv` in one transaction, with nothing
// else: no mapping or validation, no rejects kept, no repeats looked for, no cases already held
// looked up, no areas, H3 cells or settled masks. Any loader that stores these tables does at
// least this much, so `read_csv` ÷ this is the most of `read_csv`'s speed such a loader can
// reach on this machine, beside the aim of 0.2 of it (issue 10).
//
// Written for the bench's generated files (the demo city's `cases.csv` columns, CASES_HEADER);
// tables-floor.test.ts holds it to the same events and cases the real ingest stores from such a file.
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

/** Loads a generated `cases.csv` the least way (above); returns the rows read. */
export async function loadTablesOnly(wh: Warehouse, path: string): Promise<number> {
  const params = { source: SOURCE, batch: 'floor' };
  await wh.run(READ, { path });
  const rows = (await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM floor_rows`))!.n;
  await wh.transaction(async () => {
    await wh.run(EVENTS, params);
    await wh.run(CASES, { ...params, tz: TIME_ZONE });
  });
  await wh.run(`DROP TABLE floor_rows`);
  return rows;
}
