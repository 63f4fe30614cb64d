// Pure builders for the case-event side of ingest: flat case rows, nested event trails and
// later snapshots of the same cases all become events, minus the ones already stored.
import { query, type Params, type Query } from '../warehouse/db.ts';
import { timestampExpr } from './map-sql.ts';
import type { Profile } from './profile.ts';

const attrs = (a = '') =>
  `${['service_code', 'service_name', 'agency', 'channel', 'status', 'lat', 'lon', 'area_name', 'expected_at'].map((c) => a + c).join(', ')},
      CASE WHEN len(${a}flags) = 0 THEN NULL ELSE ${a}flags END AS quality_flags, ${a}attributes`;
const ATTRS = attrs();

/** A flat row's end event: cancelled when the row says so, else closed (at the row's closed time). */
const END_TYPE = (a: string) => `CASE WHEN ${a}status = 'cancelled' THEN 'cancelled' ELSE 'closed' END`;

/**
 * The batch's cases the warehouse already holds → temp table `held_cases`, with what the new
 * events are decided by (status, agency, last event) and where each was placed (the refresh keeps
 * a place whose point did not move: ingest/sql/refresh-targets.sql). Their ids first, reading
 * only `cases.case_id`; the other columns only when there are any (heldCasesSql). On a large
 * warehouse each column read is a good part of a second: a daily export of new requests reads one.
 */
export const HELD_CASE_IDS_SQL = `
CREATE OR REPLACE TEMP TABLE held_cases AS
SELECT c.case_id FROM cases c SEMI JOIN (SELECT case_key FROM mapped WHERE reject_field IS NULL) m ON m.case_key = c.case_id`;

/** `held_cases` with the columns the batch reads (see HELD_CASE_IDS_SQL); with none held, empty, without reading `cases`. */
export const heldCasesSql = (anyHeld: boolean) => `
CREATE OR REPLACE TEMP TABLE held_cases AS
SELECT c.case_id, c.status, c.agency, c.last_event_at, c.lat, c.lon, c.area_name, c.area_id, c.h3_r7, c.h3_r8, c.h3_r9
FROM cases c ${anyHeld ? 'SEMI JOIN held_cases h ON h.case_id = c.case_id' : 'WHERE false'}`;

/**
 * Candidate events → temp table `new_events`, keyed by a deterministic id
 * md5(source | case id | event type | time µs [| trail type]) so a repeat is a no-op; events
 * already in `case_events` are left out, and those repeated earlier in the same batch are then
 * removed by DEDUPE_NEW_EVENTS_SQL. Reads `held_cases` (heldCasesSql).
 *
 * Every case with an event stored has its `cases` row (a batch writes both or neither), so only
 * the events of held cases can be stored already. With `held` false (none of the batch's cases is
 * held: a first load, or a daily export of new requests) `case_events` is not read at all: its
 * ids were most of a daily load's time (1.7 s of 3.1 s for 10,000 rows into 10M cases, cold).
 *
 * A flat row's opened event also carries the end event the same row adds (`row_end_type`,
 * `row_end_at`: the close part's type and time; NULL on every other event and for a row with no
 * closed time), so a case new to the warehouse whose events all come from one row is rebuilt from
 * that one event, without grouping (warehouse/models/refresh-cases.sql, `one_row`). For a case
 * already held the close part can be left out (`closed_requires_status`); such cases never take
 * that way.
 */
export function buildNewEventsQuery(profile: Profile, opts: { hasTrail: boolean; batchTime: string; held: boolean }): Query {
  const params: Params = { source: profile.source, batch_time: opts.batchTime, tz: profile.timezone };
  if (profile.timestamp_format) params.ts_format = profile.timestamp_format;
  const parts: string[] = [];
  if (profile.kind === 'case_events') {
    parts.push(`SELECT row_number, 0 AS ordinal, event_type, occurred_at, NULL::VARCHAR AS detail, case_key, case_id_raw, ${ATTRS},
        NULL::VARCHAR AS row_end_type, NULL::TIMESTAMPTZ AS row_end_at
      FROM mapped WHERE reject_field IS NULL`);
  } else {
    // Only a source's own update time orders snapshots: without it (or with an older one) a
    // later-looking row cannot reopen or reassign a case, so an old export never rewinds one.
    const newer = `m.updated_at IS NOT NULL AND m.updated_at > coalesce(c.last_event_at, '-infinity'::TIMESTAMPTZ)`;
    parts.push(
      `SELECT row_number, 0 AS ordinal, 'opened' AS event_type, opened_at AS occurred_at, NULL::VARCHAR AS detail, case_key, case_id_raw, ${ATTRS},
         CASE WHEN closed_at IS NOT NULL THEN ${END_TYPE('')} END AS row_end_type, closed_at AS row_end_at
       FROM mapped WHERE reject_field IS NULL`,
      `SELECT m.row_number, 0, ${END_TYPE('m.')}, m.closed_at, NULL, m.case_key, m.case_id_raw, ${attrs('m.')}, NULL, NULL
       FROM mapped m ${profile.closed_requires_status
         // An Open311 "closed" time is the last update: once we hold a case closed, a later
         // update to it is not another close.
         ? `LEFT JOIN held_cases c ON c.case_id = m.case_key WHERE m.reject_field IS NULL AND m.closed_at IS NOT NULL AND coalesce(c.status, 'open') = 'open'`
         : `WHERE m.reject_field IS NULL AND m.closed_at IS NOT NULL`}`,
      // A later snapshot: a case we hold as closed that the source now shows open again.
      `SELECT m.row_number, 0, 'reopened', m.updated_at, NULL, m.case_key, m.case_id_raw, ${attrs('m.')}, NULL, NULL
       FROM mapped m JOIN held_cases c ON c.case_id = m.case_key
       WHERE m.reject_field IS NULL AND c.status = 'closed' AND m.status = 'open' AND m.closed_at IS NULL AND ${newer}`,
      // …or shows with another agency: reassigned.
      `SELECT m.row_number, 0, 'assigned', m.updated_at, m.agency, m.case_key, m.case_id_raw, ${attrs('m.')}, NULL, NULL
       FROM mapped m JOIN held_cases c ON c.case_id = m.case_key
       WHERE m.reject_field IS NULL AND m.agency IS NOT NULL AND c.agency IS NOT NULL AND m.agency <> c.agency AND ${newer}`,
    );
    if (opts.hasTrail && profile.trail) {
      const t = profile.trail;
      const types = Object.entries(t.types);
      types.forEach(([k, v], i) => {
        params[`tk${i}`] = k;
        params[`tv${i}`] = v;
      });
      params.other_type = t.other_types ?? 'note';
      const typeExpr = `CASE tr.${q(t.type)} ${types.map((_, i) => `WHEN $tk${i} THEN $tv${i}`).join(' ')} ELSE $other_type END`;
      parts.push(
        `SELECT m.row_number, tr.ordinal, ${typeExpr}, ${timestampExpr(`tr.${q(t.occurred_at)}`, profile)}, tr.__digest,
           m.case_key, m.case_id_raw, ${attrs('m.')}, NULL, NULL
         FROM stage_trail tr JOIN mapped m ON m.row_number = tr.row_number
         WHERE m.reject_field IS NULL AND ${timestampExpr(`tr.${q(t.occurred_at)}`, profile)} IS NOT NULL`,
      );
    }
  }
  const sql = `
CREATE OR REPLACE TEMP TABLE new_events AS
WITH candidate AS (
  ${parts.join('\n  UNION ALL\n  ')}
), keyed AS (
  SELECT md5(concat_ws('|', $source, case_id_raw, event_type, epoch_us(occurred_at)::VARCHAR,
           CASE WHEN event_type IN ('note', 'assigned') THEN detail END)) AS event_id, *
  FROM candidate WHERE occurred_at IS NOT NULL
)
SELECT k.* FROM keyed k${opts.held ? `
WHERE k.case_key NOT IN (SELECT case_id FROM held_cases)
   OR NOT EXISTS (SELECT 1 FROM case_events e WHERE e.event_id = k.event_id)` : ''}`;
  return query(sql, params);
}

/**
 * The same event twice in one file (a case listed on two rows): only the first, in file order,
 * stays in `new_events`. A separate, narrow step rather than a window over the candidate rows:
 * that window held every column of every event at once (the largest allocation of a batch), to
 * drop rows that are usually not there. The ids seen twice are looked for by their 64-bit hash
 * (grouping 2M numbers rather than 2M 32-character strings: 0.17 s against 0.2-0.6 s on the
 * bench's file); a hash seen twice only makes its events candidates, and the window over the
 * ids themselves decides.
 */
export const DEDUPE_NEW_EVENTS_SQL = `
DELETE FROM new_events WHERE rowid IN (
  SELECT rowid FROM (
    SELECT rowid, row_number() OVER (PARTITION BY event_id ORDER BY row_number, ordinal) AS n
    FROM new_events SEMI JOIN (SELECT hash(event_id) AS h FROM new_events GROUP BY h HAVING count(*) > 1) d ON d.h = hash(new_events.event_id)
  ) WHERE n > 1)`;

function q(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Trail entries (notes) whose time cannot be read: the row loads, but each such entry is kept in
 * ingest_rejects (through temp table `batch_rejects`, as buildRejectsQuery's rows) under the row's
 * number, with the entry named, so none vanishes silently.
 */
export function buildTrailRejectsQuery(profile: Profile, batchId: string): Query | null {
  const t = profile.trail;
  if (!t) return null;
  const ts = timestampExpr(`tr.${q(t.occurred_at)}`, profile);
  const params: Params = { batch_id: batchId, tz: profile.timezone, from: t.from, field: t.occurred_at, fmt: profile.timestamp_format ?? 'ISO 8601' };
  if (profile.timestamp_format) params.ts_format = profile.timestamp_format;
  const sql = `
INSERT INTO batch_rejects
SELECT $batch_id, tr.row_number, $from || '[' || tr.ordinal || '].' || $field,
       'unparseable date "' || tr.${q(t.occurred_at)} || '" (expected ' || $fmt || ') in a trail entry; the row itself loaded', NULL
FROM stage_trail tr JOIN mapped m ON m.row_number = tr.row_number
WHERE m.reject_field IS NULL AND tr.${q(t.occurred_at)} IS NOT NULL AND ${ts} IS NULL`;
  return query(sql, params);
}
