// Pure builders: a profile + its kind's field specs → SQL that types every staged row, finds the
// first reason it cannot be loaded, and flags what is doubtful. Source column names come from the
// profile and are checked against the staged header (the allow-list) before they are quoted;
// every value is a bound parameter.
import { CivicError } from '../warehouse/errors.ts';
import { query, quoteIdent, type Params, type Query } from '../warehouse/db.ts';
import { fieldsOf, type FieldSpec } from './kinds.ts';
import { sourceColumns, type Profile } from './profile.ts';

export class MappingError extends CivicError {}

/** Flags a loaded case can carry: the case is still useful but a value in it is not. */
export const QUALITY_FLAGS = {
  closed_before_opened: 'closed time is before opened time: loaded, excluded from durations',
  invalid_coordinates: 'coordinates not numbers or out of range: loaded without a location',
  default_point: 'coordinates are 0,0 or a known fallback geocode: loaded without a location',
  outside_jurisdiction: "coordinates outside the profile's bounds: loaded without a location",
  closed_without_time: 'status says closed but no closed time: loaded as open',
  cancelled_without_time: 'status says cancelled but no time for it: loaded as open',
  unknown_status: 'status value not in the profile\'s value map: loaded, status taken from the times',
} as const;

/**
 * Fails when the file lacks a column the profile maps. Records from JSON, XML or Arrow need not
 * all carry every optional key, so there (strict = false) only required fields must be present.
 */
export function checkColumns(profile: Profile, header: string[], strict = true): void {
  const have = new Set(header);
  const wanted = [
    ...Object.entries(profile.columns).flatMap(([field, cols]) => [cols].flat().map((c) => [field, c] as const)),
    ...(profile.keep ?? []).map((c) => ['keep', c] as const),
  ];
  const missing = wanted.filter(([, col]) => !have.has(col));
  // A list of alternatives only needs one of its columns.
  const required = new Set(Object.entries(fieldsOf(profile.kind)).filter(([, s]) => s.required).map(([f]) => f));
  const fatal = missing.filter(([field]) =>
    (strict || required.has(field)) && (field === 'keep' || [profile.columns[field]].flat().every((c) => !have.has(c))));
  if (fatal.length > 0) {
    throw new MappingError(
      `Profile "${profile.name}" names columns the file does not have: ` +
        fatal.map(([field, col]) => `${field} → "${col}"`).join(', ') +
        `. The file's columns are: ${header.map((h) => `"${h}"`).join(', ')}.`,
    );
  }
}

export interface MapOptions {
  /** The file's columns: alternatives the file lacks are skipped. */
  header: string[];
  /** Secret for keyed hashes of citizen identifiers. */
  hashKey: string;
}

/** A text → TIMESTAMPTZ expression: a strptime format in the profile's zone, or ISO 8601 honouring any offset. */
export function timestampExpr(text: string, profile: Profile): string {
  if (profile.timestamp_format) {
    // With %z the text carries its own offset and strptime already returns the instant.
    if (/%z/i.test(profile.timestamp_format)) return `try_strptime(${text}, $ts_format)::TIMESTAMPTZ`;
    return `timezone($tz, try_strptime(${text}, $ts_format))`;
  }
  // An offset only counts after a time of day: in "2024-03-05" the "-05" is the day.
  return `CASE WHEN regexp_matches(${text}, '\\d:\\d{2}(:\\d{2}(\\.\\d+)?)?\\s*(Z|[+-]\\d{2}(:?\\d{2})?)$') THEN try_cast(${text} AS TIMESTAMPTZ)
          ELSE timezone($tz, try_cast(${text} AS TIMESTAMP)) END`;
}

/**
 * Staged rows (table `stage`: `row_number` + one VARCHAR column per source column) → temp table
 * `mapped`: one typed column per field of the kind (`<field>`, with `<field>_raw` beside it),
 * `reject_field`/`reject_reason` (NULL when the row loads), `flags` (cases), `attributes` (kept
 * columns). The raw text of rejected rows is added by `buildRejectsQuery`.
 */
export function buildMapQuery(profile: Profile, opts: MapOptions): Query {
  const fields = fieldsOf(profile.kind);
  const have = new Set(opts.header);
  const params: Params = { tz: profile.timezone, source: profile.source, fmt_label: profile.timestamp_format ?? 'ISO 8601' };
  if (profile.timestamp_format) params.ts_format = profile.timestamp_format;
  let n = 0;
  const bind = (v: string | number) => {
    const name = `p${n++}`;
    params[name] = v;
    return `$${name}`;
  };

  const select: string[] = ['row_number'];
  const checks: { when: string; field: string; reason: string }[] = [];
  const isCases = profile.kind === 'cases' || profile.kind === 'case_events';

  for (const [field, spec] of Object.entries(fields) as [string, FieldSpec][]) {
    const cols = [profile.columns[field] ?? []].flat().filter((c) => have.has(c));
    const raw = cols.length ? `coalesce(${cols.map((c) => `nullif(trim(${quoteIdent(c)}), '')`).join(', ')})` : spec.default !== undefined ? bind(spec.default) : 'NULL::VARCHAR';
    select.push(`${raw} AS ${field}_raw`);
    const map = profile.values?.[field];
    const mapped = map && Object.keys(map).length
      ? `CASE ${raw} ${Object.entries(map).map(([k, v]) => `WHEN ${bind(k)} THEN ${bind(v)}`).join(' ')} ELSE ${field === 'channel' || field === 'status' || spec.oneOf ? `lower(${raw})` : raw} END`
      : field === 'channel' || spec.oneOf ? `lower(${raw})` : raw;
    const r = `${field}_raw`;
    switch (spec.type) {
      case 'timestamp':
        select.push(`${timestampExpr(raw, profile)} AS ${field}`);
        checks.push({ when: `${r} IS NOT NULL AND ${field} IS NULL`, field, reason: `'unparseable date "' || ${r} || '" (expected ' || $fmt_label || ')'` });
        break;
      case 'number':
      case 'integer':
        select.push(`try_cast(${raw} AS DOUBLE) AS ${field}`);
        // Bad coordinates do not cost a case its place in the counts: they are flagged below.
        if (!(isCases && (field === 'lat' || field === 'lon'))) {
          checks.push({ when: `${r} IS NOT NULL AND ${field} IS NULL`, field, reason: `'not a number: "' || ${r} || '"'` });
          if (spec.type === 'integer') checks.push({ when: `${field} IS NOT NULL AND ${field} <> round(${field})`, field, reason: `'not a whole number: "' || ${r} || '"'` });
          if (spec.range) checks.push({ when: `${field} IS NOT NULL AND NOT (${field} BETWEEN ${bind(spec.range[0])} AND ${bind(spec.range[1])})`, field, reason: `'${field} ' || ${r} || ' is outside ${spec.range[0]}–${spec.range[1]}'` });
        }
        break;
      case 'share': {
        // "85%" is 0.85; a bare number must already be a share. The text is trimmed above.
        const pct = `ends_with(${raw}, '%')`;
        select.push(`CASE WHEN ${pct} THEN try_cast(trim(rtrim(${raw}, '%')) AS DOUBLE) / 100 ELSE try_cast(${raw} AS DOUBLE) END AS ${field}`);
        checks.push({ when: `${r} IS NOT NULL AND ${field} IS NULL`, field, reason: `'not a share or a percentage: "' || ${r} || '" (write 0.85 or 85%)'` });
        checks.push({ when: `${field} IS NOT NULL AND NOT (${field} BETWEEN 0 AND 1)`, field, reason: `'${field} "' || ${r} || '" is not a share from 0 to 1 or a percentage from 0% to 100% (write 0.85 or 85%)'` });
        break;
      }
      case 'point': {
        // "(lat, lon)" text, as SF and NYC publish a location.
        const re = `'^\\(?\\s*(-?[0-9.]+)\\s*,\\s*(-?[0-9.]+)\\s*\\)?$'`;
        select.push(`try_cast(regexp_extract(${raw}, ${re}, 1) AS DOUBLE) AS point_lat`, `try_cast(regexp_extract(${raw}, ${re}, 2) AS DOUBLE) AS point_lon`);
        break;
      }
      default: {
        let value = mapped;
        if (spec.hashed) value = `CASE WHEN ${raw} IS NULL THEN NULL ELSE sha256(${bind(opts.hashKey)} || ${raw}) END`;
        if (spec.caseRef) value = `CASE WHEN ${raw} IS NULL THEN NULL ELSE ${bind(profile.case_source ?? profile.source)} || ':' || ${raw} END`;
        select.push(`${value} AS ${field}`);
        if (spec.oneOf && !(isCases && field === 'status')) {
          checks.push({ when: `${field} IS NOT NULL AND ${field} NOT IN (${spec.oneOf.map((v) => bind(v)).join(', ')})`, field, reason: `'unknown ${field} "' || ${r} || '"'` });
        }
      }
    }
    const where = cols.length ? ` (column ${cols.map((c) => `"${c.replaceAll("'", "''")}"`).join(' or ')})` : '';
    if (spec.required) checks.unshift({ when: `${r} IS NULL`, field, reason: `'missing ${field}${where}'` });
  }
  // Required-field checks come first (in field order), then the rest in field order.
  const required = checks.filter((c) => c.reason.startsWith("'missing"));
  const ordered = [...required.reverse(), ...checks.filter((c) => !c.reason.startsWith("'missing"))];
  if (profile.strict_services && profile.columns.service_code) {
    ordered.push({ when: `service_code IS NOT NULL AND service_code NOT IN (SELECT service_code FROM services)`, field: 'service_code', reason: `'unknown service code "' || service_code || '" (services are strict)'` });
  }

  const keep = (profile.keep ?? []).filter((c) => have.has(c));
  select.push(keep.length ? `json_object(${keep.map((c) => `${bind(c)}, ${quoteIdent(c)}`).join(', ')}) AS attributes` : 'NULL::JSON AS attributes');

  let flags = 'NULL::VARCHAR[]';
  let extra = '';
  if (isCases) {
    const defaults = (profile.default_points ?? []).map(([la, lo]) => `(abs(lat_any - ${bind(la)}) < 1e-6 AND abs(lon_any - ${bind(lo)}) < 1e-6)`);
    const b = profile.bounds;
    const outside = b ? `NOT (lon_any BETWEEN ${bind(b[0])} AND ${bind(b[2])} AND lat_any BETWEEN ${bind(b[1])} AND ${bind(b[3])})` : 'false';
    extra = `,
  located AS (
    SELECT *,
      (lat_raw IS NOT NULL OR lon_raw IS NOT NULL OR point_raw IS NOT NULL) AS has_coords
    FROM (SELECT *, coalesce(lat, point_lat) AS lat_any, coalesce(lon, point_lon) AS lon_any FROM checked)
  ), geo AS (
    SELECT *,
      has_coords AND (lat_any IS NULL OR lon_any IS NULL OR NOT (lat_any BETWEEN -90 AND 90) OR NOT (lon_any BETWEEN -180 AND 180)) AS bad_coords,
      coalesce((lat_any = 0 AND lon_any = 0)${defaults.map((d) => ` OR ${d}`).join('')}, false) AS default_point,
      coalesce(${outside}, false) AS outside
    FROM located
  )`;
    const closedCheck = profile.kind === 'cases'
      ? [`CASE WHEN closed_at < opened_at THEN 'closed_before_opened' END`, `CASE WHEN status = 'closed' AND closed_at IS NULL THEN 'closed_without_time' END`]
      : [];
    flags = `list_filter([
      ${[...closedCheck,
        `CASE WHEN bad_coords THEN 'invalid_coordinates' END`,
        `CASE WHEN default_point AND NOT bad_coords THEN 'default_point' END`,
        `CASE WHEN outside AND NOT default_point AND NOT bad_coords THEN 'outside_jurisdiction' END`,
        `CASE WHEN status_raw IS NOT NULL AND (status IS NULL OR status NOT IN ('open', 'closed', 'cancelled')) THEN 'unknown_status' END`,
        ...(profile.kind === 'cases' ? [`CASE WHEN status = 'cancelled' AND closed_at IS NULL THEN 'cancelled_without_time' END`] : [])].join(',\n      ')}
    ], x -> x IS NOT NULL)`;
  }

  // For cases, the text each field was read from and the location helpers are needed only inside
  // this query (reasons, flags): left out of `mapped`, which a large file spills to disk. The case
  // id's text stays (event ids and `source_case_id` use it).
  const helpers = [
    ...Object.keys(fields).filter((f) => f !== 'case_id').map((f) => `${f}_raw`),
    ...(isCases ? ['lat_any', 'lon_any', 'has_coords', 'bad_coords', 'default_point', 'outside'] : []),
    ...(Object.values(fields).some((f) => f.type === 'point') ? ['point_lat', 'point_lon'] : []),
  ];
  const sql = `
CREATE OR REPLACE TEMP TABLE mapped AS
WITH typed AS (
  SELECT
    ${select.join(',\n    ')}
  FROM stage
), checked AS (
  SELECT *,
    CASE ${ordered.map((c) => `WHEN ${c.when} THEN '${c.field}'`).join('\n      ')} END AS reject_field,
    CASE ${ordered.map((c) => `WHEN ${c.when} THEN ${c.reason}`).join('\n      ')} END AS reject_reason
  FROM typed
)${extra}
SELECT * ${isCases ? `EXCLUDE (lat, lon, status${profile.kind === 'cases' ? ', closed_at' : ''}, ${helpers.join(', ')}), ${flags} AS flags,${profile.kind === 'cases'
  // With closed_requires_status the "closed" column is a last-update time: it means a close only when the status says so.
  ? `\n  CASE WHEN ${profile.closed_requires_status ? "status IN ('closed', 'cancelled')" : 'true'} THEN closed_at END AS closed_at,` : ''}
  CASE WHEN bad_coords OR default_point OR outside THEN NULL ELSE lat_any END AS lat,
  CASE WHEN bad_coords OR default_point OR outside THEN NULL ELSE lon_any END AS lon,
  CASE WHEN status IN ('open', 'closed', 'cancelled') THEN status END AS status,
  $source || ':' || case_id_raw AS case_key` : ''}
FROM ${isCases ? 'geo' : 'checked'}`;
  return query(sql, params);
}

/**
 * Rejected rows of `mapped` → temp table `batch_rejects` (the batch's transaction copies it into
 * ingest_rejects: ingest/load.ts), with the row's mapped and kept source columns as
 * JSON (never the others, which may be personal). Built only for rejected rows: building it for
 * every row cost a third of the mapping step's memory.
 */
export function buildRejectsQuery(profile: Profile, header: string[], batchId: string): Query {
  const have = new Set(header);
  const params: Params = { batch_id: batchId };
  // A citizen identifier exists in the warehouse only as its keyed hash, never in a reject.
  const hashedCols = new Set(
    Object.entries(fieldsOf(profile.kind)).filter(([, spec]) => spec.hashed).flatMap(([f]) => [profile.columns[f] ?? []].flat()),
  );
  const cols = sourceColumns(profile).filter((c) => have.has(c) && !hashedCols.has(c));
  const pairs = cols.map((c, i) => ((params[`k${i}`] = c), `$k${i}, s.${quoteIdent(c)}`));
  const sql = `
INSERT INTO batch_rejects
SELECT $batch_id, m.row_number, m.reject_field, m.reject_reason, ${pairs.length ? `json_object(${pairs.join(', ')})` : 'NULL'}
FROM mapped m JOIN stage s ON s.row_number = m.row_number
WHERE m.reject_field IS NOT NULL`;
  return query(sql, params);
}
