// Whose data this is, and in which time zone its days are cut. The warehouse records it at the
// first real ingest (ingest/load.ts); configuration, when it sets a value, wins. Nothing here is
// wired into the routes or the reports: they call resolveJurisdiction with the configured values.
import type { Warehouse } from '../db.ts';

export type RecordedSource = 'demo' | 'ingest' | 'config';

export interface RecordedJurisdiction {
  name: string;
  timezone: string;
  source: RecordedSource;
  recorded_at: string;
  batch_id: string | null;
}

export interface Jurisdiction {
  name: string;
  timezone: string;
  /** Where the name came from: configuration, the data (a real ingest or the demo city), or nothing yet. */
  source: 'config' | 'ingest' | 'demo' | 'default';
  /** Where the time zone came from (configuration may set one and not the other). */
  timezone_source: 'config' | 'ingest' | 'demo' | 'default';
}

/** What the warehouse says before anything is recorded or configured. */
export const NO_JURISDICTION = { name: '(no data yet)', timezone: 'UTC' } as const;

/** The recorded jurisdiction, or null when nothing has been recorded. */
export async function recordedJurisdiction(wh: Warehouse): Promise<RecordedJurisdiction | null> {
  const row = await wh.one<RecordedJurisdiction>(
    `SELECT name, timezone, source, strftime(recorded_at, '%Y-%m-%dT%H:%M:%SZ') AS recorded_at, batch_id
     FROM jurisdiction ORDER BY recorded_at DESC LIMIT 1`,
  );
  return row ?? null;
}

/**
 * Records the jurisdiction, unless it would overwrite a better claim: the demo city only fills an
 * empty warehouse; a real ingest replaces nothing or the demo's; configuration replaces anything.
 * Returns what was recorded before, and whether this call wrote.
 */
export async function recordJurisdiction(
  wh: Warehouse,
  j: { name: string; timezone: string; source: RecordedSource; batch_id?: string | null },
): Promise<{ recorded: boolean; previous: RecordedJurisdiction | null }> {
  const previous = await recordedJurisdiction(wh);
  const may = previous === null || j.source === 'config' || (j.source === 'ingest' && previous.source === 'demo');
  if (!may) return { recorded: false, previous };
  // Delete-then-insert, not an upsert: the table has no key (DuckDB checks keys eagerly inside a
  // transaction), and the loader calls this inside its batch's transaction.
  await wh.run('DELETE FROM jurisdiction');
  await wh.run(`INSERT INTO jurisdiction VALUES ($name, $tz, $source, now(), $batch)`, {
    name: j.name, tz: j.timezone, source: j.source, batch: j.batch_id ?? null,
  });
  return { recorded: true, previous };
}

/**
 * The jurisdiction every surface should state: configured values win (null = "from the data"),
 * then what the data recorded, then "(no data yet)" in UTC.
 */
export async function resolveJurisdiction(wh: Warehouse, configured: { jurisdiction: string | null; timezone: string | null }): Promise<Jurisdiction> {
  const recorded = configured.jurisdiction !== null && configured.timezone !== null ? null : await recordedJurisdiction(wh);
  const fromData = (recorded?.source ?? 'default') as Jurisdiction['source'];
  return {
    name: configured.jurisdiction ?? recorded?.name ?? NO_JURISDICTION.name,
    timezone: configured.timezone ?? recorded?.timezone ?? NO_JURISDICTION.timezone,
    source: configured.jurisdiction !== null ? 'config' : fromData,
    timezone_source: configured.timezone !== null ? 'config' : fromData,
  };
}
