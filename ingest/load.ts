// One ingest batch: stage the file, map and validate every row, keep the rejects, append what is
// new, refresh what it touched. Everything is built in temp tables first and written in one
// transaction, so a crash or a kill leaves the warehouse as it was before the batch.
import { randomUUID } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { model, type Warehouse } from '../warehouse/db.ts';
import { formatOf, type Profile } from './profile.ts';
import { buildMapQuery, buildRejectsQuery, checkColumns, MappingError } from './map-sql.ts';
import { CivicError } from '../warehouse/errors.ts';
import { buildNewEventsQuery, buildTrailRejectsQuery, DEDUPE_NEW_EVENTS_SQL, HELD_CASE_IDS_SQL, heldCasesSql } from './events-sql.ts';
import { dropStage, stageFile } from './stage.ts';
import { citizenHashKey } from './secret.ts';
import { dropRefreshTables, prepareTouchedCases, writeTouchedCases, type Rebuilt } from './refresh-cases.ts';
import { dropPlaceTables } from './places.ts';
import { capMemory, INGEST_MEMORY_LIMIT, withoutInsertionOrder } from './memory-budget.ts';
import { applyBusinessDueTimes } from './calendars.ts';
import { ingestDigest } from './file-digest.ts';
import { recordedJurisdiction, recordJurisdiction } from '../warehouse/analytics/jurisdiction.ts';
import { ensureSettledMasks, refreshSettledMasks } from '../warehouse/analytics/settled-masks.ts';

export interface IngestResult {
  batch_id: string;
  file: string;
  kind: Profile['kind'];
  read: number;
  loaded: number;
  rejected: number;
  duplicate: number;
  flagged: number;
  events_added: number;
  /** Things the caller should know although the batch loaded (a time zone unlike the warehouse's…). */
  warnings: string[];
  /**
   * The batch this one repeated: the same file read the same way as the batch finished last, so
   * nothing was staged or matched again (its counts, and its rejects, are that batch's).
   */
  same_as?: string;
}

export interface IngestOptions {
  hashKey?: string;
  /** Called with a phase and DuckDB's progress (0–100) while the file is read. */
  onProgress?: (phase: string, pct: number) => void;
  /** The jurisdiction this file belongs to (`civic ingest --jurisdiction`); beats the profile's. */
  jurisdiction?: string;
  /** Record the jurisdiction as the demo city's (seedDemoCity) rather than a real ingest's. */
  recordAs?: 'ingest' | 'demo';
  /**
   * DuckDB memory the batch may use (memory-budget.ts); default CIVIC_INGEST_MEMORY_LIMIT, else
   * 512 MiB. Past it, the batch's tables spill to disk instead of growing with the file. null = no
   * budget: the server passes null, because the setting is the whole instance's and would take
   * memory from the reads it answers meanwhile (they would fail instead of the batch spilling).
   */
  memoryLimit?: string | null;
  /** Rows of the file whose cases are rebuilt at a time (refresh-cases.ts ROWS_PER_SLICE); tests set it small to check slicing changes nothing. */
  rowsPerSlice?: number;
  /**
   * false: every case is rebuilt by grouping its events, even a new case from one flat row
   * (refresh-cases.ts `oneRow`); the test comparing the two ways sets it. Default true.
   */
  oneRow?: boolean;
  /** Told how the touched cases were rebuilt: how many from one row each, how many by grouping their events. */
  onRebuilt?: (rebuilt: Rebuilt) => void;
}

/**
 * A batch that another batch landed beside while it was built (ingest/README.md, "Built first"):
 * it wrote nothing. ingestFile builds it again once; a second race is reported.
 */
export class BatchRaceError extends CivicError {}

/** What tells whether a batch landed meanwhile: ingest_batches only grows, and every landed batch finishes. */
const LANDED_SQL = `SELECT count(*)::INTEGER AS n, coalesce(max(finished_at)::VARCHAR, '') AS last FROM ingest_batches`;

/** The source name the demo city's profiles use: their data never names a real jurisdiction. */
export const DEMO_SOURCE = 'demo';

export async function ingestFile(wh: Warehouse, file: string, profile: Profile, opts: IngestOptions = {}): Promise<IngestResult> {
  const budget = opts.memoryLimit === null ? null : (opts.memoryLimit ?? process.env.CIVIC_INGEST_MEMORY_LIMIT ?? INGEST_MEMORY_LIMIT);
  const capped = { lowered: false };
  try {
    try {
      return await ingestOnce(wh, file, profile, opts, budget, capped);
    } catch (err) {
      // Another batch landed while this one was built from what the warehouse held before it:
      // nothing of this one was written, and it is built again from what is there now.
      if (!(err instanceof BatchRaceError)) throw err;
      return await ingestOnce(wh, file, profile, opts, budget, capped);
    }
  } catch (err) {
    // Only a batch the budget made smaller is worth running again.
    if (!capped.lowered) throw err;
    // Not every DuckDB operator can spill (seen at 5M rows under 768 MiB): the batch rolled back,
    // so it runs again under the warehouse's own limit rather than fail where it used to load.
    if (!/Out of Memory Error/i.test(String((err as Error)?.message))) throw err;
    const again = await ingestOnce(wh, file, profile, opts, null, capped);
    // Said, so a load that needed more memory than its budget is seen (the run's peak shows it only as a number).
    again.warnings.push(`DuckDB ran out of memory under the batch's ${budget} budget (${String((err as Error).message).split('\n')[0].slice(0, 200)}); ` +
      `the batch was rolled back and loaded again under the warehouse's own memory limit.`);
    return again;
  }
}

async function ingestOnce(wh: Warehouse, file: string, profile: Profile, opts: IngestOptions, budget: string | null, capped: { lowered: boolean }): Promise<IngestResult> {
  if (!existsSync(file)) throw new MappingError(`No such file: ${file}`);
  const format = formatOf(profile, file);
  const batchId = `b_${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}_${randomUUID().slice(0, 8)}`;
  const batchTime = new Date().toISOString();
  const hashKey = opts.hashKey ?? citizenHashKey(wh.path);
  const progress = (phase: string, pct: number) => opts.onProgress?.(phase, pct);
  const recordBatch = () => wh.run(
    `INSERT INTO ingest_batches (batch_id, source, kind, file_name, profile, started_at) VALUES ($b, $s, $k, $f, $p, $t::TIMESTAMPTZ)`,
    { b: batchId, s: profile.source, k: profile.kind, f: basename(file), p: profile.name, t: batchTime },
  );

  const restore = budget === null ? null : await capMemory(wh, budget);
  capped.lowered = restore !== null;
  // Every statement of a batch on one connection: its temp tables are that connection's.
  const result = await wh.session(async () => {
    // The batch's cases get this code's stored masks: those already held must be this code's too.
    await ensureSettledMasks(wh);
    // Batches run one at a time in this codebase; if another one still landed while this one was
    // read and built (a second writer connection in the same process), it is not written from
    // stale reads: its transaction checks first (landedSince).
    const landedBefore = JSON.stringify(await wh.one(LANDED_SQL));
    const landedSince = async () => {
      if (JSON.stringify(await wh.one(LANDED_SQL)) === landedBefore) return;
      throw new BatchRaceError(`Another batch landed in this warehouse while ${basename(file)} was being loaded; nothing of it was written. Load it again.`);
    };
    try {
      progress('read', 0);
      // The file's fingerprint: taken first when the file could be the one loaded last (then an
      // unchanged file is read once, and nothing else is done), else while DuckDB reads it.
      const bytes = statSync(file).size;
      const fingerprint = () => ingestDigest(resolve(file), profile, { jurisdiction: opts.jurisdiction, recordAs: opts.recordAs });
      let digest: Promise<string>;
      const last = REPEATABLE_KINDS.has(profile.kind) ? await lastBatch(wh, batchId) : null;
      if (last && last.file_bytes === bytes && last.kind === profile.kind) {
        const d = await fingerprint();
        if (d === last.file_digest) {
          return await wh.transaction(async () => (await landedSince(), await recordBatch(), sameAs(wh, batchId, last, { file, kind: profile.kind, bytes, digest: d })));
        }
        digest = Promise.resolve(d);
      } else {
        digest = fingerprint();
        digest.catch(() => undefined); // awaited below; a read error must not go unhandled meanwhile
      }

      // First the batch is built in temp tables, reading the warehouse but writing nothing to it;
      // then one transaction writes it (below), so a crash or a kill leaves the warehouse as it
      // was. Built outside the transaction because DuckDB reads a temp table created inside one
      // as slowly as on one thread (ingest/README.md, "Built first"): the bench's 1M-row load
      // took 43 s built inside, 25 s outside. Only this batch writes cases and events meanwhile
      // (one batch at a time: api/ingest-service.ts; the CLI holds the database file), so what
      // it read is still so when it writes — and the transaction checks that no batch landed.
      await wh.run(`CREATE OR REPLACE TEMP TABLE batch_rejects AS SELECT * FROM ingest_rejects LIMIT 0`);
      const staged = await stageFile(wh, resolve(file), profile, format, (pct) => progress('read', pct));
      progress('map', 0);
      const header = (await wh.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE stage) WHERE column_name <> 'row_number'`)).map((r) => r.column_name);
      checkColumns(profile, header, format === 'csv');
      const mapQ = buildMapQuery(profile, { header, hashKey });
      await wh.run(mapQ.sql, mapQ.params);
      // The rejects join the staged text back by row number: a pass over the whole staged file,
      // skipped when no row was rejected (the common case for a clean export).
      const anyRejected = (await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM (SELECT 1 FROM mapped WHERE reject_field IS NOT NULL LIMIT 1)`))!.n > 0;
      if (anyRejected) {
        const rejQ = buildRejectsQuery(profile, header, batchId);
        await wh.run(rejQ.sql, rejQ.params);
      }
      // The staged copy is no longer needed (the trail still is): free its memory before the load.
      await dropStage(wh);
      if (staged.unreadable.length > 0) {
        // An appender, not an INSERT each: a badly broken file may have many thousands.
        const appender = await wh.conn.createAppender('batch_rejects', 'main', 'temp');
        for (const u of staged.unreadable) {
          appender.appendVarchar(batchId);
          appender.appendInteger(u.row_number);
          if (u.field === null) appender.appendNull();
          else appender.appendVarchar(u.field);
          appender.appendVarchar(u.reason);
          appender.appendNull();
          appender.endRow();
        }
        appender.closeSync();
      }
      progress('load', 0);
      const counts = (await wh.one<{ staged: number; rejected: number; valid: number }>(
        `SELECT count(*)::INTEGER AS staged, count(reject_field)::INTEGER AS rejected, (count(*) - count(reject_field))::INTEGER AS valid FROM mapped`,
      ))!;
      const timezone = await zoneAfterBatch(wh, profile, opts);
      const o = { hasTrail: staged.hasTrail, batchTime, timezone, progress, rowsPerSlice: opts.rowsPerSlice, oneRow: opts.oneRow, onRebuilt: opts.onRebuilt, budgeted: capped.lowered };
      const prepared = await prepareKind(wh, profile, batchId, o);

      return await wh.transaction(async () => {
        await landedSince();
        await recordBatch();
        await wh.run(`INSERT INTO ingest_rejects SELECT * FROM batch_rejects`);
        const loaded = await writeKind(wh, profile, batchId, prepared, o);
        const r: IngestResult = {
          batch_id: batchId,
          file,
          kind: profile.kind,
          read: counts.staged + staged.unreadable.length,
          loaded: loaded.rows,
          rejected: counts.rejected + staged.unreadable.length,
          duplicate: counts.valid - loaded.rows,
          flagged: loaded.flagged,
          events_added: loaded.events,
          warnings: [],
        };
        if (profile.kind !== 'services') r.warnings.push(...(await noteJurisdiction(wh, profile, opts, batchId, r.loaded > 0)));
        if (profile.kind === 'cases' || profile.kind === 'case_events') {
          // Local days in the warehouse's zone (recorded by now if this batch is the first).
          const zone = (await recordedJurisdiction(wh))?.timezone ?? profile.timezone;
          await wh.run(model('refresh-local-days'), { tz: zone });
        }
        await wh.run(
          `UPDATE ingest_batches SET finished_at = now(), rows_read = $read, rows_loaded = $loaded, rows_rejected = $rejected,
             rows_duplicate = $dup, rows_flagged = $flagged, events_added = $events, file_bytes = $bytes, file_digest = $digest WHERE batch_id = $b`,
          { b: batchId, read: r.read, loaded: r.loaded, rejected: r.rejected, dup: r.duplicate, flagged: r.flagged, events: r.events_added, bytes, digest: await digest },
        );
        return r;
      });
    } finally {
      // Landed or not, the batch's temp tables go (a rolled-back transaction no longer drops them).
      await dropBatchTables(wh);
    }
  }).finally(restore ?? (async () => undefined));
  progress('done', 100);
  return result;
}

/** Every temp table a batch may leave behind. */
async function dropBatchTables(wh: Warehouse): Promise<void> {
  await dropStage(wh).catch(() => undefined);
  for (const t of ['stage_trail', 'stage_bad', 'stage_reject_errors', 'stage_reject_scans', 'mapped', 'new_events', 'held_cases', 'batch_rejects']) {
    await wh.run(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
  }
  await dropPlaceTables(wh).catch(() => undefined);
  await dropRefreshTables(wh).catch(() => undefined);
}

/**
 * Kinds whose rows only ever add events: loading the same file again into the same warehouse finds
 * every row already there and changes nothing. (A services file is a catalogue that may be loaded
 * again on purpose; it is always read.)
 */
const REPEATABLE_KINDS: ReadonlySet<string> = new Set(['cases', 'case_events']);

interface LastBatch { batch_id: string; kind: string; file_bytes: number | null; file_digest: string | null; rows_read: number; rows_rejected: number }

/** The batch the warehouse finished last, of any kind. */
async function lastBatch(wh: Warehouse, batchId: string): Promise<LastBatch | null> {
  const r = await wh.one<LastBatch>(
    `SELECT batch_id, kind, file_bytes::DOUBLE AS file_bytes, file_digest, rows_read, rows_rejected FROM ingest_batches
     WHERE finished_at IS NOT NULL AND batch_id <> $b ORDER BY finished_at DESC, started_at DESC LIMIT 1`, { b: batchId });
  return r ?? null;
}

/**
 * The same file, read the same way, as the batch the warehouse finished last (none since, of any
 * kind — a services file in between could change what is rejected): it would reject the same rows
 * and find nothing new, so the batch is recorded as that one again, without staging or matching
 * anything. Its rejects are copied under this batch, as a full re-read would have kept them.
 */
async function sameAs(wh: Warehouse, batchId: string, last: LastBatch, of: { file: string; kind: Profile['kind']; bytes: number; digest: string }): Promise<IngestResult> {
  await wh.run(`INSERT INTO ingest_rejects SELECT $b, row_number, field, reason, raw FROM ingest_rejects WHERE batch_id = $same`, { b: batchId, same: last.batch_id });
  const r = { read: last.rows_read, rejected: last.rows_rejected, duplicate: last.rows_read - last.rows_rejected };
  await wh.run(
    `UPDATE ingest_batches SET finished_at = now(), rows_read = $read, rows_loaded = 0, rows_rejected = $rejected, rows_duplicate = $dup,
       rows_flagged = 0, events_added = 0, file_bytes = $bytes, file_digest = $digest, same_as = $same WHERE batch_id = $b`,
    { b: batchId, read: r.read, rejected: r.rejected, dup: r.duplicate, bytes: of.bytes, digest: of.digest, same: last.batch_id },
  );
  return { batch_id: batchId, file: of.file, kind: of.kind, read: r.read, loaded: 0, rejected: r.rejected, duplicate: r.duplicate, flagged: 0, events_added: 0, warnings: [], same_as: last.batch_id };
}

/** Whether this batch records the jurisdiction (when it loads anything): noteJurisdiction's rule. */
function recordsJurisdiction(profile: Profile, opts: IngestOptions, previous: { source: string } | null): boolean {
  const demo = opts.recordAs === 'demo' || profile.source === DEMO_SOURCE;
  return previous === null || (!demo && previous.source === 'demo');
}

/**
 * The zone the warehouse will cut local days in once this batch is in (the recorded one, or the
 * profile's if this batch records it), so the cases it writes carry their days already and the
 * refresh-local-days step after it finds nothing left to do (it still corrects any row cut in
 * another zone).
 */
async function zoneAfterBatch(wh: Warehouse, profile: Profile, opts: IngestOptions): Promise<string> {
  const previous = await recordedJurisdiction(wh);
  return previous === null || recordsJurisdiction(profile, opts, previous) ? profile.timezone : previous.timezone;
}

/**
 * The first real ingest into an empty or demo-only warehouse records whose data it is and its time
 * zone; later ones are checked against it. Returns the warnings for the caller.
 */
async function noteJurisdiction(wh: Warehouse, profile: Profile, opts: IngestOptions, batchId: string, loadedRows: boolean): Promise<string[]> {
  const demo = opts.recordAs === 'demo' || profile.source === DEMO_SOURCE;
  const named = opts.jurisdiction ?? profile.jurisdiction;
  const name = named ?? profile.source;
  const tz = profile.timezone;
  const warnings: string[] = [];
  const previous = await recordedJurisdiction(wh);
  const write = loadedRows && recordsJurisdiction(profile, opts, previous);
  if (write) await recordJurisdiction(wh, { name, timezone: tz, source: demo ? 'demo' : 'ingest', batch_id: batchId });
  if (demo) return warnings;
  if (write) {
    if (previous?.source === 'demo') {
      warnings.push(
        `This warehouse also holds the demo city's data ("${previous.name}"), which now counts as ${name}'s: ` +
          'to keep them apart, load real exports into a warehouse of their own (--database / CIVIC_DATABASE).',
      );
    }
    if (/^(UTC|Etc\/.*|GMT)$/i.test(tz)) {
      warnings.push(
        `The warehouse's time zone is now ${tz}, from profile "${profile.name}": days, weeks and months will be cut in ${tz}. ` +
          `If ${name} is elsewhere, give its zone (--timezone, or "timezone" in civic.config.json).`,
      );
    }
    if (!named) warnings.push(`The jurisdiction is recorded as "${name}" (the profile's source): give its real name with --jurisdiction, or "jurisdiction" in civic.config.json.`);
    return warnings;
  }
  if (previous && previous.source !== 'demo') {
    if (previous.timezone !== tz) {
      warnings.push(
        `This file's times were read in ${tz} (profile "${profile.name}"), but the warehouse's time zone is ${previous.timezone} (${previous.name}): ` +
          `its days, weeks and months are cut in ${previous.timezone}. If it belongs to another city, load it into a warehouse of its own.`,
      );
    }
    if (named && named !== previous.name) {
      warnings.push(`This file is ${named}'s, but the warehouse holds ${previous.name}'s data: their figures will be counted together.`);
    }
  }
  return warnings;
}

/** @deprecated name kept for callers written before other formats existed. */
export const ingestCasesCsv = ingestFile;

interface Loaded { rows: number; flagged: number; events: number }

/** What the batch built before its transaction: for cases and events, how many rows and events are new. */
interface Prepared { counted?: Loaded }

interface KindOptions { hasTrail: boolean; batchTime: string; timezone: string; progress: (phase: string, pct: number) => void; rowsPerSlice?: number; oneRow?: boolean; onRebuilt?: (r: Rebuilt) => void; budgeted: boolean }

/**
 * Before the batch's transaction, in temp tables: a cases or events file's new events and the
 * fresh rows of the cases they touch. Other kinds are written straight from `mapped`.
 */
async function prepareKind(wh: Warehouse, profile: Profile, batchId: string, o: KindOptions): Promise<Prepared> {
  if (profile.kind !== 'cases' && profile.kind !== 'case_events') return {};
  await wh.run(HELD_CASE_IDS_SQL);
  const held = (await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM (SELECT 1 FROM held_cases LIMIT 1)`))!.n > 0;
  await wh.run(heldCasesSql(held));
  const q = buildNewEventsQuery(profile, { ...o, held });
  // Under a batch's budget, without insertion order: the candidates' UNION ALL, kept in order,
  // was held in memory past the budget (out of memory at 10M rows under 512 MiB, then a reload
  // at 8 GiB). Nothing reads new_events in its stored order: DEDUPE_NEW_EVENTS_SQL orders by the
  // file's row number and the trail's ordinal. The setting is the whole database's, so a batch
  // the server runs (no budget of its own, reads answered meanwhile) leaves it alone.
  if (o.budgeted) await withoutInsertionOrder(wh, () => wh.run(q.sql, q.params));
  else await wh.run(q.sql, q.params);
  await wh.run(DEDUPE_NEW_EVENTS_SQL);
  const trailRejects = o.hasTrail ? buildTrailRejectsQuery(profile, batchId) : null;
  if (trailRejects) await wh.run(trailRejects.sql, trailRejects.params);
  // Nothing reads the mapped rows or the staged trail after this: their memory goes back to the
  // batch's budget before the cases are rebuilt (else those steps spill).
  for (const t of ['mapped', 'stage_trail']) await wh.run(`DROP TABLE IF EXISTS ${t}`);
  o.progress('count', 0);
  const counted = (await wh.one<Loaded>(
    `SELECT count(DISTINCT row_number)::INTEGER AS rows, count(DISTINCT row_number) FILTER (WHERE quality_flags IS NOT NULL)::INTEGER AS flagged,
            count(*)::INTEGER AS events FROM new_events`,
  ))!;
  // An unchanged file adds no event: nothing to rebuild, so a re-ingest costs its reading.
  if (counted.events > 0) {
    o.progress('refresh', 0);
    // A flat row's case is rebuilt from its own events without grouping them, unless the file's
    // rows are events, or a row also has a trail (its notes are more events of the same row).
    const oneRow = o.oneRow !== false && profile.kind === 'cases' && !o.hasTrail;
    await prepareTouchedCases(wh, {
      batchId, source: profile.source, timezone: o.timezone, onPhase: (p) => o.progress(p, 0), rowsPerSlice: o.rowsPerSlice, oneRow, onRebuilt: o.onRebuilt,
    });
  }
  return { counted };
}

/** Inside the batch's transaction: what prepareKind built (or, for the other kinds, `mapped`) into the warehouse. */
async function writeKind(wh: Warehouse, profile: Profile, batchId: string, prepared: Prepared, o: KindOptions): Promise<Loaded> {
  const src = profile.source;
  switch (profile.kind) {
    case 'cases':
    case 'case_events': {
      const c = prepared.counted!;
      if (c.events === 0) return c;
      o.progress('append', 0);
      await wh.run(
        `INSERT INTO case_events (event_id, case_id, event_type, occurred_at, source, batch_id, source_case_id, service_code,
           service_name, agency, channel, status, lat, lon, area_name, expected_at, quality_flags, attributes)
         SELECT event_id, case_key, event_type, occurred_at, $s, $b, case_id_raw, service_code, service_name, agency,
           channel, status, lat, lon, area_name, expected_at, quality_flags, attributes
         FROM new_events`,
        { s: src, b: batchId },
      );
      await writeTouchedCases(wh, { onPhase: (p) => o.progress(p, 0) });
      await applyBusinessDueTimes(wh, { batchId });
      return c;
    }
    case 'interactions': {
      const rows = await wh.changed(
        `INSERT INTO interactions
         SELECT $s || ':' || interaction_id, case_id, channel, direction, started_at, ended_at, wait_seconds, handle_seconds, outcome, team, citizen_id, $b
         FROM mapped m
         WHERE reject_field IS NULL AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.interaction_id = $s || ':' || m.interaction_id)
         QUALIFY row_number() OVER (PARTITION BY interaction_id ORDER BY row_number) = 1`,
        { s: src, b: batchId },
      );
      return { rows, flagged: 0, events: 0 };
    }
    case 'survey_responses': {
      const rows = await wh.changed(
        `INSERT INTO survey_responses
         SELECT $s || ':' || response_id, case_id, CASE WHEN interaction_id IS NULL THEN NULL ELSE $cs || ':' || interaction_id END,
                answered_at, csat::TINYINT, nps::TINYINT, trust::TINYINT, $b
         FROM mapped m
         WHERE reject_field IS NULL AND NOT EXISTS (SELECT 1 FROM survey_responses r WHERE r.response_id = $s || ':' || m.response_id)
         QUALIFY row_number() OVER (PARTITION BY response_id ORDER BY row_number) = 1`,
        { s: src, cs: profile.case_source ?? src, b: batchId },
      );
      return { rows, flagged: 0, events: 0 };
    }
    case 'services': {
      // Reference data: a later file may change a name or an SLA; an identical row is a duplicate.
      // A file without an on-time target column says nothing about targets: the stored ones stay
      // (an empty cell in a mapped column does clear a target back to the default).
      const targetColumn = profile.columns.on_time_target
        ? 'on_time_target'
        : '(SELECT s.on_time_target FROM services s WHERE s.service_code = mapped.service_code) AS on_time_target';
      await wh.run(
        // The file's last row per code wins; then only what differs from the stored row counts.
        `CREATE OR REPLACE TEMP TABLE changed_services AS
         WITH latest AS (
           SELECT service_code, name, agency, "group", sla_hours, sla_calendar, ${targetColumn} FROM mapped
           WHERE reject_field IS NULL
           QUALIFY row_number() OVER (PARTITION BY service_code ORDER BY row_number DESC) = 1
         )
         SELECT * FROM latest m WHERE NOT EXISTS (
           SELECT 1 FROM services s WHERE s.service_code = m.service_code AND s.name = m.name AND s.agency IS NOT DISTINCT FROM m.agency
             AND s.service_group IS NOT DISTINCT FROM m."group" AND s.sla_hours IS NOT DISTINCT FROM m.sla_hours
             AND s.sla_calendar IS NOT DISTINCT FROM m.sla_calendar AND s.on_time_target IS NOT DISTINCT FROM m.on_time_target)`,
      );
      await wh.run(`INSERT OR REPLACE INTO services SELECT * FROM changed_services`);
      await wh.run(model('refresh-due-times'));
      // A due time is one of the times a case's stored masks read.
      await refreshSettledMasks(wh, 'c.service_code IN (SELECT service_code FROM changed_services)');
      await applyBusinessDueTimes(wh, { serviceCodesTable: 'changed_services' });
      const rows = (await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM changed_services`))!.n;
      await wh.run(`DROP TABLE changed_services`);
      return { rows, flagged: 0, events: 0 };
    }
    default:
      throw new MappingError(`Unknown kind "${String(profile.kind)}"`);
  }
}
