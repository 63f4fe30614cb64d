// Scheduled reports' records (migration 012): definitions made through the API, runs, each
// recipient's delivery, and the last cron slot each definition handled. Values are always bound;
// JSON columns are written and read here, so callers see objects.
import type { Warehouse } from '../db.ts';
import { ISO } from '../access/tokens.ts';

export type RunTrigger = 'schedule' | 'catch-up' | 'api' | 'cli' | 'retry';
export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed';
export type DeliveryKind = 'folder' | 'email' | 'webhook' | 'owner';
export type DeliveryStatus = 'sending' | 'sent' | 'failed';

export interface RunFile { name: string; bytes: number; sha256: string; content_type: string }

export interface RunRecord {
  run_id: string;
  report_id: string;
  title: string | null;
  trigger: RunTrigger;
  scheduled_for: string | null;
  retry_of: string | null;
  requested_by: string | null;
  started_at: string;
  finished_at: string | null;
  status: RunStatus;
  error: string | null;
  as_of: string | null;
  period: string | null;
  files: RunFile[];
  definition: Record<string, unknown>;
}

export interface DeliveryRecord {
  run_id: string;
  recipient: string;
  kind: DeliveryKind;
  started_at: string;
  finished_at: string | null;
  status: DeliveryStatus;
  attempts: number;
  error: string | null;
  detail: string | null;
}

export interface StoredDefinition { report_id: string; definition: Record<string, unknown>; created_by: string; created_at: string; updated_by: string; updated_at: string }

const ts = (col: string) => `strftime(${col}, ${ISO})`;

// ---- definitions made through the API ----

const DEFINITION_COLUMNS = `report_id, definition, created_by, ${ts('created_at')} AS created_at, updated_by, ${ts('updated_at')} AS updated_at`;

function toStored(r: Record<string, unknown>): StoredDefinition {
  return { ...(r as unknown as StoredDefinition), definition: JSON.parse(String(r.definition)) };
}

export async function listStoredDefinitions(wh: Warehouse): Promise<StoredDefinition[]> {
  return (await wh.all(`SELECT ${DEFINITION_COLUMNS} FROM report_definitions ORDER BY report_id`)).map(toStored);
}

export async function getStoredDefinition(wh: Warehouse, id: string): Promise<StoredDefinition | null> {
  const r = await wh.one(`SELECT ${DEFINITION_COLUMNS} FROM report_definitions WHERE report_id = $id`, { id });
  return r ? toStored(r) : null;
}

/** false when the id is taken. */
export async function insertStoredDefinition(wh: Warehouse, id: string, definition: object, by: string, at = new Date()): Promise<boolean> {
  const n = await wh.changed(
    `INSERT INTO report_definitions (report_id, definition, created_by, created_at, updated_by, updated_at)
     SELECT $id, $definition, $by, $at::TIMESTAMPTZ, $by, $at::TIMESTAMPTZ WHERE NOT EXISTS (SELECT 1 FROM report_definitions WHERE report_id = $id)`,
    { id, definition: JSON.stringify(definition), by, at: at.toISOString() },
  );
  return n > 0;
}

/** false when there is no such definition. */
export async function updateStoredDefinition(wh: Warehouse, id: string, definition: object, by: string, at = new Date()): Promise<boolean> {
  return (await wh.changed(`UPDATE report_definitions SET definition = $definition, updated_by = $by, updated_at = $at::TIMESTAMPTZ WHERE report_id = $id`, { id, definition: JSON.stringify(definition), by, at: at.toISOString() })) > 0;
}

export async function deleteStoredDefinition(wh: Warehouse, id: string): Promise<boolean> {
  const n = await wh.changed(`DELETE FROM report_definitions WHERE report_id = $id`, { id });
  // A definition made again under the same id starts its schedule afresh.
  await wh.run(`DELETE FROM report_schedule_state WHERE report_id = $id`, { id });
  return n > 0;
}

// ---- runs ----

const RUN_COLUMNS = `run_id, report_id, title, run_trigger AS "trigger", ${ts('scheduled_for')} AS scheduled_for, retry_of, requested_by,
  ${ts('started_at')} AS started_at, ${ts('finished_at')} AS finished_at, status, error, ${ts('as_of')} AS as_of, period, files, definition`;

function toRun(r: Record<string, unknown>): RunRecord {
  return { ...(r as unknown as RunRecord), files: JSON.parse(String(r.files)), definition: JSON.parse(String(r.definition)) };
}

export async function insertRun(
  wh: Warehouse,
  r: { run_id: string; report_id: string; title: string; trigger: RunTrigger; scheduled_for: string | null; retry_of: string | null; requested_by: string | null; started_at: string; definition: object },
): Promise<void> {
  await wh.run(
    `INSERT INTO report_runs (run_id, report_id, title, run_trigger, scheduled_for, retry_of, requested_by, started_at, status, definition)
     VALUES ($run_id, $report_id, $title, $trigger, $scheduled_for::TIMESTAMPTZ, $retry_of, $requested_by, $started_at::TIMESTAMPTZ, 'running', $definition)`,
    { ...r, definition: JSON.stringify(r.definition) },
  );
}

/** What the built report was (as-of time, period, files), recorded before any delivery starts. */
export async function recordRunFiles(wh: Warehouse, runId: string, r: { as_of: string; period: string; files: RunFile[] }): Promise<void> {
  await wh.run(`UPDATE report_runs SET as_of = $as_of::TIMESTAMPTZ, period = $period, files = $files WHERE run_id = $run_id`, { run_id: runId, as_of: r.as_of, period: r.period, files: JSON.stringify(r.files) });
}

export async function finishRun(wh: Warehouse, runId: string, status: Exclude<RunStatus, 'running'>, error: string | null, at = new Date()): Promise<void> {
  await wh.run(`UPDATE report_runs SET status = $status, error = $error, finished_at = $at::TIMESTAMPTZ WHERE run_id = $run_id`, { run_id: runId, status, error, at: at.toISOString() });
}

/**
 * Runs the server did not finish (it stopped mid-run): marked failed at the next start, so a run is
 * never left "running" forever, nor counted as sent.
 */
export async function failUnfinishedRuns(wh: Warehouse, at = new Date()): Promise<string[]> {
  const rows = await wh.all<{ run_id: string }>(`SELECT run_id FROM report_runs WHERE status = 'running' ORDER BY run_id`);
  if (rows.length === 0) return [];
  await wh.run(
    `UPDATE report_deliveries SET status = 'failed', error = 'the server stopped during the delivery', finished_at = $at::TIMESTAMPTZ
     WHERE status = 'sending' AND run_id IN (SELECT run_id FROM report_runs WHERE status = 'running')`,
    { at: at.toISOString() },
  );
  await wh.run(`UPDATE report_runs SET status = 'failed', error = 'the server stopped before the run finished', finished_at = $at::TIMESTAMPTZ WHERE status = 'running'`, { at: at.toISOString() });
  return rows.map((r) => r.run_id);
}

export interface RunQuery { report?: string; status?: RunStatus; reports?: readonly string[] | null; limit: number; offset: number }

/** Newest first, with how many match in all. `reports` limits them to those definitions (a manager's scope). */
export async function listRuns(wh: Warehouse, q: RunQuery): Promise<{ total: number; runs: (RunRecord & { deliveries: { sent: number; failed: number; sending: number } })[] }> {
  const params: Record<string, string | number | null> = { report: q.report ?? null, status: q.status ?? null, limit: q.limit, offset: q.offset };
  const allowed = q.reports ? q.reports.map((_, i) => `$r${i}`).join(', ') : null;
  q.reports?.forEach((r, i) => (params[`r${i}`] = r));
  const where = `($report IS NULL OR report_id = $report) AND ($status IS NULL OR status = $status)${allowed === null ? '' : allowed === '' ? ' AND FALSE' : ` AND report_id IN (${allowed})`}`;
  const total = await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM report_runs WHERE ${where}`, { report: params.report, status: params.status, ...Object.fromEntries(Object.entries(params).filter(([k]) => /^r\d+$/.test(k))) });
  const rows = await wh.all(
    `SELECT ${RUN_COLUMNS},
       (SELECT count(*)::INTEGER FROM report_deliveries d WHERE d.run_id = r.run_id AND d.kind <> 'owner' AND d.status = 'sent') AS sent,
       (SELECT count(*)::INTEGER FROM report_deliveries d WHERE d.run_id = r.run_id AND d.kind <> 'owner' AND d.status = 'failed') AS failed,
       (SELECT count(*)::INTEGER FROM report_deliveries d WHERE d.run_id = r.run_id AND d.kind <> 'owner' AND d.status = 'sending') AS sending
     FROM report_runs r WHERE ${where} ORDER BY started_at DESC, run_id DESC LIMIT $limit OFFSET $offset`,
    params,
  );
  return {
    total: total?.n ?? 0,
    runs: rows.map((r) => {
      const { sent, failed, sending, ...run } = r as Record<string, unknown>;
      return { ...toRun(run), deliveries: { sent: Number(sent), failed: Number(failed), sending: Number(sending) } };
    }),
  };
}

export async function getRun(wh: Warehouse, runId: string): Promise<(RunRecord & { deliveries: DeliveryRecord[]; retried_by: string[] }) | null> {
  const r = await wh.one(`SELECT ${RUN_COLUMNS} FROM report_runs WHERE run_id = $run_id`, { run_id: runId });
  if (!r) return null;
  const deliveries = await wh.all<DeliveryRecord>(
    `SELECT run_id, recipient, kind, ${ts('started_at')} AS started_at, ${ts('finished_at')} AS finished_at, status, attempts, error, detail
     FROM report_deliveries WHERE run_id = $run_id ORDER BY kind = 'owner', started_at, recipient`,
    { run_id: runId },
  );
  const retries = await wh.all<{ run_id: string }>(`SELECT run_id FROM report_runs WHERE retry_of = $run_id ORDER BY started_at`, { run_id: runId });
  return { ...toRun(r), deliveries, retried_by: retries.map((x) => x.run_id) };
}

// ---- deliveries ----

export async function startDelivery(wh: Warehouse, d: { run_id: string; recipient: string; kind: DeliveryKind }, at = new Date()): Promise<void> {
  await wh.run(
    `INSERT INTO report_deliveries (run_id, recipient, kind, started_at, status, attempts) VALUES ($run_id, $recipient, $kind, $at::TIMESTAMPTZ, 'sending', 0)`,
    { ...d, at: at.toISOString() },
  );
}

export async function finishDelivery(
  wh: Warehouse,
  d: { run_id: string; recipient: string; kind: DeliveryKind; status: Exclude<DeliveryStatus, 'sending'>; attempts: number; error: string | null; detail: string | null },
  at = new Date(),
): Promise<void> {
  await wh.run(
    `UPDATE report_deliveries SET status = $status, attempts = $attempts, error = $error, detail = $detail, finished_at = $at::TIMESTAMPTZ
     WHERE run_id = $run_id AND recipient = $recipient AND kind = $kind`,
    { ...d, at: at.toISOString() },
  );
}

// ---- the schedule's memory ----

export async function lastScheduledSlot(wh: Warehouse, reportId: string): Promise<string | null> {
  const r = await wh.one<{ at: string }>(`SELECT ${ts('last_scheduled_for')} AS at FROM report_schedule_state WHERE report_id = $id`, { id: reportId });
  return r?.at ?? null;
}

/** Records `slot` as handled, never moving backwards (a late catch-up must not undo a newer slot). One statement: slots of two definitions may be recorded at the same moment. */
export async function recordScheduledSlot(wh: Warehouse, reportId: string, slot: string, at = new Date()): Promise<void> {
  await wh.run(
    `INSERT INTO report_schedule_state (report_id, last_scheduled_for, updated_at) VALUES ($id, $slot::TIMESTAMPTZ, $at::TIMESTAMPTZ)
     ON CONFLICT (report_id) DO UPDATE SET last_scheduled_for = greatest(report_schedule_state.last_scheduled_for, excluded.last_scheduled_for), updated_at = excluded.updated_at`,
    { id: reportId, slot, at: at.toISOString() },
  );
}
