// Pure builders: a profile + the staged file's column names → SQL with bound values.
// Source column names come from the profile, so each is checked against the staged header
// (the allow-list) before it is quoted into SQL; every value is a bound parameter.
import { quoteIdent, type Query, type Params } from '../warehouse/db.ts';
import type { Profile, CaseField } from './profile.ts';

export class MappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingError';
  }
}

/** Flags a loaded row can carry: the case is still useful but a value in it is not. */
export const QUALITY_FLAGS = {
  closed_before_opened: 'closed time is before opened time: loaded, excluded from durations',
  invalid_coordinates: 'coordinates not numbers or out of range: loaded without a location',
  default_point: 'coordinates are 0,0 (a default, not a place): loaded without a location',
  closed_without_time: 'status says closed but no closed time: loaded as open',
} as const;

export function checkColumns(profile: Profile, header: string[]): void {
  const have = new Set(header);
  const wanted = [...Object.entries(profile.columns).map(([field, col]) => [field, col] as const), ...(profile.keep ?? []).map((c) => ['keep', c] as const)];
  const missing = wanted.filter(([, col]) => !have.has(col));
  if (missing.length > 0) {
    throw new MappingError(
      `Profile "${profile.name}" names columns the file does not have: ` +
        missing.map(([field, col]) => `${field} → "${col}"`).join(', ') +
        `. The file's columns are: ${header.map((h) => `"${h}"`).join(', ')}.`,
    );
  }
}

function col(profile: Profile, field: CaseField): string | null {
  const name = profile.columns[field];
  return name ? `nullif(trim(${quoteIdent(name)}), '')` : null;
}

/** A text → TIMESTAMPTZ expression: a strptime format in the profile's zone, or ISO 8601 honouring any offset. */
function timestampExpr(text: string, profile: Profile): string {
  if (profile.timestamp_format) return `timezone($tz, try_strptime(${text}, $ts_format))`;
  return `CASE WHEN regexp_matches(${text}, '(Z|[+-]\\d{2}(:?\\d{2})?)$') THEN try_cast(${text} AS TIMESTAMPTZ)
          ELSE timezone($tz, try_cast(${text} AS TIMESTAMP)) END`;
}

function valueMapExpr(text: string, map: Record<string, string> | undefined, prefix: string, params: Params, fallback: string): string {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return fallback;
  const whens = entries.map(([from, to], i) => {
    params[`${prefix}_k${i}`] = from;
    params[`${prefix}_v${i}`] = to;
    return `WHEN $${prefix}_k${i} THEN $${prefix}_v${i}`;
  });
  return `CASE ${text} ${whens.join(' ')} ELSE ${fallback} END`;
}

/**
 * Staged rows (table `stage`, all VARCHAR, `row_number` column) → temp table `mapped`: typed
 * fields, the first reason the row cannot be loaded (or NULL), quality flags, and the raw
 * mapped/kept columns as JSON for the rejects table.
 */
export function buildMapCasesQuery(profile: Profile): Query {
  const params: Params = { tz: profile.timezone, source: profile.source };
  if (profile.timestamp_format) params.ts_format = profile.timestamp_format;
  const nul = 'NULL::VARCHAR';
  const text = (f: CaseField) => col(profile, f) ?? nul;
  const ts = (f: CaseField) => (profile.columns[f] ? timestampExpr(text(f), profile) : 'NULL::TIMESTAMPTZ');
  const num = (f: CaseField) => (profile.columns[f] ? `try_cast(${text(f)} AS DOUBLE)` : 'NULL::DOUBLE');

  const rawCols = [...new Set([...Object.values(profile.columns), ...(profile.keep ?? [])])];
  const rawJson = `json_object(${rawCols.map((c, i) => ((params[`raw_k${i}`] = c), `$raw_k${i}, ${quoteIdent(c)}`)).join(', ')})`;
  const keep = profile.keep ?? [];
  const attrs = keep.length
    ? `json_object(${keep.map((c, i) => ((params[`keep_k${i}`] = c), `$keep_k${i}, ${quoteIdent(c)}`)).join(', ')})`
    : 'NULL::JSON';

  const status = valueMapExpr(text('status'), profile.values?.status, 'st', params, 'NULL::VARCHAR');
  const channel = valueMapExpr(text('channel'), profile.values?.channel, 'ch', params, `lower(${text('channel')})`);
  const fmt = profile.timestamp_format ?? 'ISO 8601';
  params.fmt_label = fmt;

  const sql = `
CREATE OR REPLACE TEMP TABLE mapped AS
WITH typed AS (
  SELECT
    row_number,
    ${text('case_id')}      AS source_case_id,
    ${text('opened_at')}    AS opened_raw,   ${ts('opened_at')}   AS opened_at,
    ${text('closed_at')}    AS closed_raw,   ${ts('closed_at')}   AS closed_at,
    ${text('expected_at')}  AS expected_raw, ${ts('expected_at')} AS expected_at,
    ${text('service_code')} AS service_code,
    ${text('service_name')} AS service_name,
    ${text('agency')}       AS agency,
    ${channel}              AS channel,
    ${status}               AS status,
    ${text('lat')} AS lat_raw, ${num('lat')} AS lat_num,
    ${text('lon')} AS lon_raw, ${num('lon')} AS lon_num,
    ${text('area_name')}    AS area_name,
    ${attrs}                AS attributes,
    ${rawJson}              AS raw
  FROM stage
), checked AS (
  SELECT *,
    CASE
      WHEN source_case_id IS NULL THEN 'case_id'
      WHEN opened_raw IS NULL OR opened_at IS NULL THEN 'opened_at'
      WHEN closed_raw IS NOT NULL AND closed_at IS NULL THEN 'closed_at'
      WHEN expected_raw IS NOT NULL AND expected_at IS NULL THEN 'expected_at'
    END AS reject_field,
    (lat_raw IS NOT NULL OR lon_raw IS NOT NULL)
      AND (lat_num IS NULL OR lon_num IS NULL OR NOT (lat_num BETWEEN -90 AND 90) OR NOT (lon_num BETWEEN -180 AND 180)) AS bad_coords,
    coalesce(lat_num = 0 AND lon_num = 0, false) AS default_point
  FROM typed
)
SELECT
  row_number, source_case_id, $source || ':' || source_case_id AS case_id,
  opened_at, closed_at, expected_at, service_code, service_name, agency, channel, status,
  CASE WHEN bad_coords OR default_point THEN NULL ELSE lat_num END AS lat,
  CASE WHEN bad_coords OR default_point THEN NULL ELSE lon_num END AS lon,
  area_name, attributes, raw, reject_field,
  CASE reject_field
    WHEN 'case_id'     THEN 'missing case id'
    WHEN 'opened_at'   THEN CASE WHEN opened_raw IS NULL THEN 'missing opened time'
                             ELSE 'unparseable date "' || opened_raw || '" (expected ' || $fmt_label || ')' END
    WHEN 'closed_at'   THEN 'unparseable date "' || closed_raw || '" (expected ' || $fmt_label || ')'
    WHEN 'expected_at' THEN 'unparseable date "' || expected_raw || '" (expected ' || $fmt_label || ')'
  END AS reject_reason,
  list_filter([
    CASE WHEN closed_at < opened_at THEN 'closed_before_opened' END,
    CASE WHEN bad_coords THEN 'invalid_coordinates' END,
    CASE WHEN default_point THEN 'default_point' END,
    CASE WHEN status = 'closed' AND closed_at IS NULL THEN 'closed_without_time' END
  ], x -> x IS NOT NULL) AS quality_flags
FROM checked`;
  return { sql, params };
}

/**
 * Loadable rows of `mapped` → temp table `new_events`: the opened event and, when the row has an
 * end time, its closed (or cancelled) event — minus events already in the warehouse or repeated
 * earlier in the same file. `event_id` is deterministic, so a re-ingest adds nothing.
 */
export function buildNewCaseEventsQuery(profile: Profile): Query {
  const common = `case_id, source_case_id, service_code, service_name, agency, channel, status, lat, lon, area_name,
      expected_at, CASE WHEN len(quality_flags) = 0 THEN NULL ELSE quality_flags END AS quality_flags, attributes`;
  const sql = `
CREATE OR REPLACE TEMP TABLE new_events AS
WITH candidate AS (
  SELECT row_number, 'opened' AS event_type, opened_at AS occurred_at, ${common}
  FROM mapped WHERE reject_field IS NULL
  UNION ALL
  SELECT row_number, CASE WHEN status = 'cancelled' THEN 'cancelled' ELSE 'closed' END, closed_at, ${common}
  FROM mapped WHERE reject_field IS NULL AND closed_at IS NOT NULL
), keyed AS (
  SELECT md5(concat_ws('|', $source, source_case_id, event_type, epoch_us(occurred_at)::VARCHAR)) AS event_id, *
  FROM candidate
)
SELECT k.* FROM keyed k
WHERE NOT EXISTS (SELECT 1 FROM case_events e WHERE e.event_id = k.event_id)
QUALIFY row_number() OVER (PARTITION BY k.event_id ORDER BY k.row_number) = 1`;
  return { sql, params: { source: profile.source } };
}
