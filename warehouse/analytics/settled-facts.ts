// Settled facts: what the KPIs read of the cases whose figures can no longer change, stored ahead.
// A settled case (case-predicates.ts settledSql: closed or cancelled, responded to) counts the same
// at every as-of time after its last time (settledAtSql), so its counts are summed and its
// durations sorted once, when a batch lands, from the measure registry (kpi-sql.ts):
// `settled_facts` per opening day, service, agency and channel (the opened cohort, and each
// duration's ends sorted), `settled_closed_facts` per day of first close (the closed cohort; a case
// settles for it once the reopen window after its close and its last contact are past). A KPI
// question reads those sums and sorted runs for the days before its cut (the first day with a fact
// settled at or after the as-of time) and the rest live: the days from the cut on, and before it
// the cases not settled — from `live_cases`, a copy of every case opened or closed since a horizon
// some weeks back and of those not settled, so a question as of the newest data scans a few weeks
// of cases, not all. A question by area (the facts hold none) or of data they were not built for
// reads every case from `cases`, as before. Same figures, to the bit: settled-facts.test.ts.
import { createHash } from 'node:crypto';
import type { Warehouse } from '../db.ts';
import { isPeriod, type CaseSelection, type Dimension } from '../queries/case-predicates.ts';
import { settledSql } from '../queries/case-predicates.ts';
import { buildSettledClosedFactsQuery, buildSettledFactsQuery, type SettledCuts } from '../queries/kpi-sql.ts';

/** The dimensions and filters the facts carry (everything but the area: that is per case). */
const FACT_DIMENSIONS: ReadonlySet<string> = new Set(['service', 'service_group', 'agency', 'channel']);

const NOT_SETTLED = `NOT coalesce(${settledSql('c.')}, false)`;

/** What the facts were built for: every landed batch (none lands without changing it). */
const STAMP_SQL = `SELECT concat_ws('|', (SELECT count(*) FROM ingest_batches), (SELECT max(coalesce(finished_at, started_at)) FROM ingest_batches)) AS stamp`;

async function stampNow(wh: Warehouse): Promise<string> {
  return (await wh.one<{ stamp: string }>(STAMP_SQL))!.stamp;
}

/** The build's identity: the facts' SQL (registry and predicates) for a zone. */
const shapes = new Map<string, string>();
const shapeOf = (zone: string) => shapes.get(zone) ?? shapes.set(zone, createHash('sha256')
  .update(buildSettledFactsQuery(zone, { days: 'days', surveys: true }).sql)
  .update(buildSettledClosedFactsQuery(zone, { days: 'days', contacts: true }).sql)
  .update(LIVE_CASES_SQL)
  .digest('hex').slice(0, 16)).get(zone)!;

interface Meta { stamp: string; zone: string; shape: string; horizon: string; built: string }
async function meta(wh: Warehouse): Promise<Meta | null> {
  return (await wh.one<Meta>(`SELECT stamp, zone, shape, strftime(horizon, '%Y-%m-%d') AS horizon, epoch_us(built_at)::VARCHAR AS built FROM settled_facts_meta LIMIT 1`)) ?? null;
}

/**
 * How many days before the newest opening or close `live_cases` keeps every case opened or closed
 * since: enough that the usual question (as of the newest data) has both its cuts after it — the
 * opened cohort's within days of the newest data, the closed cohort's a reopen window (30 days)
 * and a day before it.
 */
const HORIZON_DAYS = 45;

/** The cases `live_cases` holds: opened or closed since the horizon day, or not settled. */
const LIVE_CASES_SQL = `SELECT c.*, NOT (NOT_SETTLED) AS is_settled FROM cases c
  WHERE (c.opened_day >= $horizon::DATE OR c.closed_day >= $horizon::DATE OR NOT_SETTLED)`;
const liveCasesSql = (extra = '') => LIVE_CASES_SQL.replaceAll('NOT_SETTLED', NOT_SETTLED) + extra;

/** The zone every case's local days are cut in, or null (none, or several: no facts then). */
async function dayZone(wh: Warehouse): Promise<string | null> {
  const r = await wh.all<{ z: string | null }>(`SELECT DISTINCT day_zone AS z FROM cases LIMIT 2`);
  return r.length === 1 ? r[0].z : null;
}

/** Whether the stored facts are those of the data as it is now (asked before a batch writes: whether it may then update them by days). */
export async function settledFactsCurrent(wh: Warehouse): Promise<boolean> {
  const m = await meta(wh);
  return m !== null && m.stamp === (await stampNow(wh)) && m.shape === shapeOf(m.zone) && (await tablesExist(wh));
}

/**
 * Brings the facts and `live_cases` up to the data as it is now, and stamps them so. `days` (a
 * relation with a column `day`): only the cases opened or first closed on those days changed
 * since the facts were current (`wasCurrent`, asked before the change) — then only those days
 * are built again, and only the rows of `cases` (a relation with a column `case_id`: every case
 * the change touched, none if absent) are copied again into live_cases; else everything is. Run
 * after the change has committed, in a transaction of its own (ingest/load.ts refreshFactsAfter).
 */
export async function refreshSettledFacts(wh: Warehouse, o: { days?: string; cases?: string; wasCurrent?: boolean; casesPerSlice?: number } = {}): Promise<void> {
  const zone = await dayZone(wh);
  const before = await meta(wh);
  await wh.run(`DELETE FROM settled_facts_meta`);
  if (zone === null) {
    for (const t of ['settled_facts', 'settled_closed_facts', 'live_cases']) await wh.run(`DROP TABLE IF EXISTS ${t}`);
    return;
  }
  const held = (await wh.one<{ surveys: boolean; contacts: boolean; reopenings: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM survey_responses) AS surveys, EXISTS (SELECT 1 FROM interactions) AS contacts,
            EXISTS (SELECT 1 FROM cases WHERE reopen_count > 0) AS reopenings`))!;
  const newest = (await wh.one<{ h: string | null }>(
    `SELECT strftime(greatest(max(opened_day), max(closed_day)) - ${HORIZON_DAYS}, '%Y-%m-%d') AS h FROM cases`))?.h ?? '9999-12-31';
  const opened = (days: string) => buildSettledFactsQuery(zone, { days, surveys: held.surveys });
  const closed = (days: string) => buildSettledClosedFactsQuery(zone, { days, contacts: held.contacts, reopenings: held.reopenings });
  const per = o.casesPerSlice ?? CASES_PER_SLICE;
  let horizon = newest;
  try {
    if (o.days && o.wasCurrent && before && before.zone === zone) {
      horizon = before.horizon;
      const days = `(SELECT day FROM ${o.days})`;
      await wh.run(`DELETE FROM settled_facts WHERE opened_day IN ${days}`);
      await inSlices(wh, per, 'settled_facts', 'opened_day', opened, o.days);
      await wh.run(`DELETE FROM settled_closed_facts WHERE closed_day IN ${days}`);
      await inSlices(wh, per, 'settled_closed_facts', 'closed_day', closed, o.days);
      // Only the touched cases' rows can change in live_cases (whether a case is in it depends on its own row).
      if (o.cases) {
        await wh.run(`DELETE FROM live_cases WHERE case_id IN (SELECT case_id FROM ${o.cases})`);
        // Each touched case was opened on one of the days (a filter on the day lets the scan skip
        // what the days' range does not reach; with an OR it could not), or has no opening — a case
        // known only by later events.
        for (const opened of [`c.opened_day IN ${days}`, 'c.opened_day IS NULL']) {
          await wh.run(`INSERT INTO live_cases BY NAME ${liveCasesSql(` AND ${opened} AND c.case_id IN (SELECT case_id FROM ${o.cases})`)}`, { horizon });
        }
      }
      // The horizon moves on with the data: the settled cases it leaves behind are in the facts.
      if (newest > horizon) {
        await wh.run(`DELETE FROM live_cases WHERE is_settled AND opened_day < $horizon::DATE AND coalesce(closed_day < $horizon::DATE, true)`, { horizon: newest });
        horizon = newest;
      }
    } else {
      // The tables made empty, with the build's columns, then filled a slice of days at a time.
      await wh.run(`CREATE OR REPLACE TEMP TABLE fact_slice (day DATE)`);
      for (const [table, build] of [['settled_facts', opened], ['settled_closed_facts', closed]] as const) {
        const q = build('fact_slice');
        await wh.run(`CREATE OR REPLACE TABLE ${table} AS ${q.sql}`, q.params);
      }
      await inSlices(wh, per, 'settled_facts', 'opened_day', opened);
      await inSlices(wh, per, 'settled_closed_facts', 'closed_day', closed);
      await wh.run(`CREATE OR REPLACE TABLE live_cases AS ${liveCasesSql()}`, { horizon });
    }
  } finally {
    // (In a failed transaction this fails too, and the rollback drops the table: the cause stands.)
    await wh.run(`DROP TABLE IF EXISTS fact_slice`).catch(() => undefined);
  }
  const bad = await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM settled_facts WHERE censored > 0`);
  if (bad && bad.n > 0) throw new Error(`settled facts: ${bad.n} facts hold a censored duration (settledSql admits a case that is not final)`);
  await wh.run(`INSERT INTO settled_facts_meta VALUES ($stamp, $zone, $shape, $horizon::DATE, now())`, { stamp: await stampNow(wh), zone, shape: shapeOf(zone), horizon });
}

/**
 * Cases a slice of the facts is built from, at most (a day with more is a slice of its own): the
 * sorted lists are held in memory while they are built (DuckDB's list aggregate does not spill),
 * and the facts of a 10M-case load built at once took the load to 6.9 GiB.
 */
const CASES_PER_SLICE = 250_000;

/**
 * Inserts into `table` the facts `build` makes for the days of `dayColumn` (every day with a case,
 * or only those of the relation `only`), a slice of days of about `per` cases at a time.
 */
async function inSlices(wh: Warehouse, per: number, table: string, dayColumn: 'opened_day' | 'closed_day', build: (days: string) => { sql: string; params: Record<string, unknown> }, only?: string): Promise<void> {
  const slices = await wh.all<{ lo: string; hi: string }>(
    `WITH d AS (
       SELECT ${dayColumn} AS day, count(*) AS n FROM cases
       WHERE ${dayColumn} IS NOT NULL${only ? ` AND ${dayColumn} IN (SELECT day FROM ${only})` : ''}
       GROUP BY 1
     ), s AS (SELECT day, floor((sum(n) OVER (ORDER BY day) - n) / $per) AS slice FROM d)
     SELECT strftime(min(day), '%Y-%m-%d') AS lo, strftime(max(day), '%Y-%m-%d') AS hi FROM s GROUP BY slice ORDER BY slice`,
    { per },
  );
  for (const { lo, hi } of slices) {
    await wh.run(
      `CREATE OR REPLACE TEMP TABLE fact_slice AS SELECT t.d::DATE AS day FROM range($lo::DATE, $hi::DATE + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d)${only ? ` WHERE t.d::DATE IN (SELECT day FROM ${only})` : ''}`,
      { lo, hi });
    const q = build('fact_slice');
    await wh.run(`INSERT INTO ${table} BY NAME ${q.sql}`, q.params as never);
  }
}

/** After a batch that changed no case (the same file again): the facts, if current before it, are still the data's. */
export async function restampSettledFacts(wh: Warehouse, wasCurrent: boolean): Promise<void> {
  if (wasCurrent) await wh.run(`UPDATE settled_facts_meta SET stamp = (${STAMP_SQL})`);
  else await wh.run(`DELETE FROM settled_facts_meta`);
}

async function tablesExist(wh: Warehouse): Promise<boolean> {
  const r = await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary AND table_name IN ('settled_facts', 'settled_closed_facts', 'live_cases')`);
  return r?.n === 3;
}

/**
 * Whether a KPI question can read the stored facts, and from which opening day on it must read
 * the cases live instead (`cut`, "YYYY-MM-DD"): the first day with a fact settled at or after
 * the as-of time; `horizon`: from which day `live_cases` holds every case. Null — every case
 * from `cases` — when the facts are not those of the data now, their days are cut in another
 * zone than the question's, or it groups or filters by area.
 */
export async function settledPlan(wh: Warehouse, sel: CaseSelection, by: readonly Dimension[]): Promise<(SettledCuts & { stamp: string; built: string }) | null> {
  if (!sel.local_days) return null;
  const filters = Object.entries(sel.filter ?? {}).filter(([, v]) => v !== undefined && v !== null).map(([k]) => k);
  if (![...by, ...filters].every((d) => isPeriod(d) || FACT_DIMENSIONS.has(d))) return null;
  const m = await meta(wh);
  if (!m || m.zone !== sel.window.timezone || m.stamp !== (await stampNow(wh)) || m.shape !== shapeOf(m.zone)) return null;
  // Nothing settled at or after the as-of time: every stored day is read from the facts.
  const r = await wh.one<{ opened: string | null; closed: string | null }>(
    `SELECT (SELECT strftime(min(opened_day), '%Y-%m-%d') FROM settled_facts WHERE settled_us >= epoch_us($as_of::TIMESTAMPTZ)) AS opened,
            (SELECT strftime(min(closed_day), '%Y-%m-%d') FROM settled_closed_facts WHERE settled_us >= epoch_us($as_of::TIMESTAMPTZ)) AS closed`,
    { as_of: sel.window.as_of });
  return { opened: r?.opened ?? '9999-12-31', closed: r?.closed ?? '9999-12-31', horizon: m.horizon, stamp: m.stamp, built: m.built };
}

/**
 * Whether the facts a plan read are still the data's: a batch that landed while a question read
 * them (its statements each see the data committed when they start) could have had the facts of
 * one version summed with the live cases of another; the question is then asked again.
 */
export async function settledStillCurrent(wh: Warehouse, plan: SettledCuts & { stamp: string; built: string }): Promise<boolean> {
  // The build too, not only the stamp: a writer without a batch (civic calendars) builds them again under the same stamp.
  const m = await meta(wh);
  return m !== null && m.built === plan.built && (await stampNow(wh)) === plan.stamp;
}
