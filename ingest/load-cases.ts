// Loads a flat case export (one row per case) into case_events, atomically, and refreshes the
// cases it touched. Parsing is DuckDB's own read_csv; mapping and validation are SQL built from
// the profile, so the whole batch runs at the engine's speed.
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { existsSync } from 'node:fs';
import { model, type Warehouse } from '../warehouse/db.ts';
import type { Profile } from './profile.ts';
import { buildMapCasesQuery, buildNewCaseEventsQuery, checkColumns, MappingError } from './map-cases-sql.ts';

export interface IngestResult {
  batch_id: string;
  file: string;
  read: number;
  loaded: number;
  rejected: number;
  duplicate: number;
  flagged: number;
  events_added: number;
}

export async function ingestCasesCsv(wh: Warehouse, file: string, profile: Profile): Promise<IngestResult> {
  if (!existsSync(file)) throw new MappingError(`No such file: ${file}`);
  const batchId = `b_${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}_${randomUUID().slice(0, 8)}`;
  return wh.transaction(async () => {
    await wh.run(
      `INSERT INTO ingest_batches (batch_id, source, kind, file_name, profile, started_at) VALUES ($b, $s, 'cases', $f, $p, now())`,
      { b: batchId, s: profile.source, f: basename(file), p: profile.name },
    );
    const malformed = await stageCsv(wh, file, profile);
    const header = (await wh.all<{ column_name: string }>(
      `SELECT column_name FROM (DESCRIBE stage) WHERE column_name <> 'row_number'`,
    )).map((r) => r.column_name);
    checkColumns(profile, header);

    const mapQ = buildMapCasesQuery(profile);
    await wh.run(mapQ.sql, mapQ.params);
    await wh.run(
      `INSERT INTO ingest_rejects SELECT $b, row_number, reject_field, reject_reason, raw FROM mapped WHERE reject_field IS NOT NULL`,
      { b: batchId },
    );
    for (const m of malformed) {
      await wh.run(`INSERT INTO ingest_rejects VALUES ($b, $n, $f, $r, NULL)`, { b: batchId, n: m.row_number, f: m.field, r: m.reason });
    }

    const evQ = buildNewCaseEventsQuery(profile);
    await wh.run(evQ.sql, evQ.params);
    await wh.run(
      `INSERT INTO case_events (event_id, case_id, event_type, occurred_at, source, batch_id, source_case_id, service_code,
         service_name, agency, channel, status, lat, lon, area_name, expected_at, quality_flags, attributes)
       SELECT event_id, case_id, event_type, occurred_at, $s, $b, source_case_id, service_code, service_name, agency,
         channel, status, lat, lon, area_name, expected_at, quality_flags, attributes
       FROM new_events ORDER BY case_id, occurred_at`,
      { s: profile.source, b: batchId },
    );
    await wh.run(model('refresh-cases-delete'), { batch_id: batchId });
    await wh.run(model('refresh-cases'), { batch_id: batchId });

    const c = (await wh.one<Record<string, number>>(
      `SELECT
         (SELECT count(*) FROM mapped)::INTEGER AS staged,
         (SELECT count(*) FROM mapped WHERE reject_field IS NOT NULL)::INTEGER AS rejected,
         (SELECT count(*) FROM mapped WHERE reject_field IS NULL)::INTEGER AS valid,
         (SELECT count(DISTINCT row_number) FROM new_events WHERE quality_flags IS NOT NULL)::INTEGER AS flagged,
         (SELECT count(DISTINCT row_number) FROM new_events)::INTEGER AS loaded,
         (SELECT count(*) FROM new_events)::INTEGER AS events`,
    ))!;
    const result: IngestResult = {
      batch_id: batchId,
      file,
      read: c.staged + malformed.length,
      loaded: c.loaded,
      rejected: c.rejected + malformed.length,
      duplicate: c.valid - c.loaded,
      flagged: c.flagged,
      events_added: c.events,
    };
    await wh.run(
      `UPDATE ingest_batches SET finished_at = now(), rows_read = $read, rows_loaded = $loaded, rows_rejected = $rejected,
         rows_duplicate = $dup, rows_flagged = $flagged, events_added = $events WHERE batch_id = $b`,
      { b: batchId, read: result.read, loaded: result.loaded, rejected: result.rejected, dup: result.duplicate, flagged: result.flagged, events: result.events_added },
    );
    for (const t of ['stage', 'mapped', 'new_events']) await wh.run(`DROP TABLE IF EXISTS ${t}`);
    return result;
  });
}

interface Malformed { row_number: number; field: string | null; reason: string }

/**
 * read_csv → temp table `stage` (all VARCHAR) with each record's 1-based `row_number` in the
 * file. Records DuckDB cannot parse (wrong column count, bad quoting) are returned as rejects;
 * their text is not stored, because it may hold personal fields the profile does not keep.
 */
async function stageCsv(wh: Warehouse, file: string, profile: Profile): Promise<Malformed[]> {
  const delim = profile.csv?.delimiter;
  await wh.run(
    `CREATE OR REPLACE TEMP TABLE stage_raw AS SELECT * FROM read_csv($path, all_varchar = true, header = true,
       store_rejects = true, rejects_table = 'stage_reject_errors', rejects_scan = 'stage_reject_scans'
       ${delim ? ', delim = $delim' : ''})`,
    delim ? { path: file, delim } : { path: file },
  );
  const bad = await wh.all<{ record: number; column_name: string | null; error_type: string; error_message: string; line: number }>(
    `SELECT (line::INTEGER - 1) AS record, column_name, error_type, error_message, line::INTEGER AS line
     FROM stage_reject_errors ORDER BY line`,
  );
  // rowid order is file order (insertion order is preserved); the k-th good record is record
  // k + (number of malformed records with fewer than k good records before them).
  const ordinal = `row_number() OVER (ORDER BY s.rowid)`;
  const numbering = bad.length === 0
    ? `SELECT ${ordinal}::INTEGER AS row_number, s.* FROM stage_raw s ORDER BY s.rowid`
    : `WITH bad AS (SELECT DISTINCT (line::INTEGER - 1) AS record FROM stage_reject_errors),
          ranked AS (SELECT record - row_number() OVER (ORDER BY record) AS good_before FROM bad),
          good AS (SELECT ${ordinal} AS k, s.* FROM stage_raw s)
     SELECT (g.k + (SELECT count(*) FROM ranked r WHERE r.good_before < g.k))::INTEGER AS row_number, g.* EXCLUDE (k)
     FROM good g ORDER BY g.k`;
  await wh.run(`CREATE OR REPLACE TEMP TABLE stage AS ${numbering}`);
  for (const t of ['stage_raw', 'stage_reject_errors', 'stage_reject_scans']) await wh.run(`DROP TABLE IF EXISTS ${t}`);
  const seen = new Set<number>();
  return bad
    .filter((b) => !seen.has(b.record) && seen.add(b.record))
    .map((b) => ({
      row_number: b.record,
      field: b.column_name,
      reason: `malformed CSV record: ${b.error_type.toLowerCase()} (${b.error_message})`,
    }));
}
