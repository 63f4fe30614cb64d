// Windows follow the data: the as-of time defaults to the newest event ("data as of"), the last
// day to the newest *request* by then (a close months after the last request must not move the
// window into weeks with no requests), and the first day to `weeks` weeks before it. Every
// caller (API, CLI, reports) fills in a window here, the same way.
import type { Warehouse } from '../db.ts';
import { ParameterError } from '../errors.ts';
import type { CaseWindow } from '../queries/case-predicates.ts';
import { memoByData, memoKey } from './memo.ts';

/** A bad window parameter: 400 naming it. */
export class WindowError extends ParameterError {}

/** The newest event time: what the data is "as of" when the caller does not say. */
export async function dataAsOf(wh: Warehouse): Promise<string | null> {
  const r = await wh.one<{ t: string | null }>(`SELECT strftime(max(occurred_at), '%Y-%m-%dT%H:%M:%S.%fZ') AS t FROM case_events`);
  return r?.t ?? null;
}

/** The first and last request (opening) in the warehouse, up to an as-of time; local days too. */
export async function requestSpan(wh: Warehouse, asOf: string, timezone: string) {
  return (await wh.one<{ first_request: string | null; last_request: string | null; first_day: string | null; last_day: string | null }>(
    `SELECT strftime(min(opened_at), '%Y-%m-%dT%H:%M:%S.%fZ') AS first_request, strftime(max(opened_at), '%Y-%m-%dT%H:%M:%S.%fZ') AS last_request,
            strftime(min(opened_at) AT TIME ZONE $tz, '%Y-%m-%d') AS first_day, strftime(max(opened_at) AT TIME ZONE $tz, '%Y-%m-%d') AS last_day
     FROM cases WHERE opened_at <= $as_of::TIMESTAMPTZ`,
    { as_of: asOf, tz: timezone },
  ))!;
}

/** How much is loaded: cases (derived) and raw events. */
export async function warehouseCounts(wh: Warehouse): Promise<{ cases: number; events: number }> {
  return (await wh.one<{ cases: number; events: number }>(
    `SELECT (SELECT count(*) FROM cases)::INTEGER AS cases, (SELECT count(*) FROM case_events)::INTEGER AS events`,
  ))!;
}

/**
 * The latest whole Monday–Sunday local week up to the newest *request* by the as-of time (a close
 * months after the last request must not pick a week with no requests in it), the 12 weeks that
 * end with it, and the as-of time in local wall-clock terms.
 */
export async function lastWholeWeek(wh: Warehouse, asOf: string, timezone: string) {
  return (await wh.one<{ start: string; end: string; trend_start: string; as_of_local: string }>(
    `WITH d AS (
       SELECT coalesce((SELECT max(opened_at) FROM cases WHERE opened_at <= $as_of::TIMESTAMPTZ), $as_of::TIMESTAMPTZ) AT TIME ZONE $tz AS t
     ), d2 AS (SELECT t::DATE AS day FROM d)
     SELECT strftime(day - (isodow(day) % 7)::INTEGER - 6, '%Y-%m-%d') AS start,
            strftime(day - (isodow(day) % 7)::INTEGER, '%Y-%m-%d') AS end,
            strftime(day - (isodow(day) % 7)::INTEGER - 83, '%Y-%m-%d') AS trend_start,
            strftime($as_of::TIMESTAMPTZ AT TIME ZONE $tz, '%Y-%m-%d %H:%M') AS as_of_local
     FROM d2`,
    { as_of: asOf, tz: timezone },
  ))!;
}

export interface WindowRequest { from?: string; to?: string; as_of?: string; weeks?: number }

/** Years a window may reach: a date outside is a typo (or an attack), not a 311 request. */
const MIN_YEAR = 1900;
const MAX_YEAR = 2999;
/** The longest window any analysis accepts, in days (ten years and a bit). */
export const MAX_WINDOW_DAYS = 3700;

/**
 * Fills in a window: as-of defaults to the newest event; `to` to the local day of the newest
 * request opened by then; `from` to `weeks` (default 12) weeks before `to`, but not before the
 * first request.
 */
export async function resolveWindow(wh: Warehouse, req: WindowRequest, timezone: string): Promise<CaseWindow> {
  // The defaults come from the data (its newest event and request): kept until it changes.
  return memoByData(wh, memoKey('window', req.from, req.to, req.as_of, req.weeks, timezone), () => fillWindow(wh, req, timezone));
}

async function fillWindow(wh: Warehouse, req: WindowRequest, timezone: string): Promise<CaseWindow> {
  const weeks = req.weeks ?? 12;
  if (!Number.isInteger(weeks) || weeks < 1 || weeks > 520) throw new WindowError('weeks', `weeks "${req.weeks}" must be a whole number of weeks from 1 to 520`);
  for (const key of ['from', 'to'] as const) {
    const v = req[key];
    if (v !== undefined && !isCalendarDate(v)) throw new WindowError(key, `${key} "${v}" is not a calendar date between ${MIN_YEAR} and ${MAX_YEAR} (YYYY-MM-DD)`);
  }
  if (req.as_of !== undefined) checkAsOf(req.as_of);
  const asOf = req.as_of ?? (await dataAsOf(wh)) ?? new Date().toISOString();
  const r = (await wh.one<{ to: string; from: string; as_of: string; days: number }>(
    `WITH latest AS (
       SELECT coalesce(max(opened_at), $as_of::TIMESTAMPTZ) AS t FROM cases WHERE opened_at <= $as_of::TIMESTAMPTZ
     ), d AS (
       SELECT coalesce($to::DATE, (t AT TIME ZONE $tz)::DATE) AS to_day FROM latest
     ), first AS (
       SELECT (min(opened_at) AT TIME ZONE $tz)::DATE AS first_day FROM cases WHERE opened_at <= $as_of::TIMESTAMPTZ
     ), w AS (
       -- A default window never starts before the data does (it would only add empty weeks).
       SELECT to_day, coalesce($from::DATE, greatest(to_day - $days_back, coalesce(least(first_day, to_day), to_day - $days_back))) AS from_day FROM d, first
     )
     SELECT strftime(to_day, '%Y-%m-%d') AS to, strftime(from_day, '%Y-%m-%d') AS from,
            strftime($as_of::TIMESTAMPTZ, '%Y-%m-%dT%H:%M:%S.%gZ') AS as_of, (to_day - from_day)::INTEGER + 1 AS days
     FROM w`,
    { to: req.to ?? null, from: req.from ?? null, as_of: asOf, tz: timezone, days_back: 7 * weeks - 1 },
  ))!;
  if (r.from > r.to) throw new WindowError('from', `from (${r.from}) must be on or before to (${r.to})`);
  if (r.days > MAX_WINDOW_DAYS) throw new WindowError('from', `from (${r.from}) to ${r.to} is ${r.days} days; a window may be at most ${MAX_WINDOW_DAYS} days`);
  return { from: r.from, to: r.to, as_of: r.as_of, timezone };
}

function isCalendarDate(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m || +m[1] < MIN_YEAR || +m[1] > MAX_YEAR) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

/** An instant with an offset whose every field is in range (no leap second, no 25:00). */
/** An as-of time must be an instant with an offset (a bare date would silently mean UTC midnight). */
export function checkAsOf(value: string, parameter = 'as_of'): string {
  if (!isInstant(value)) throw new WindowError(parameter, `${parameter} "${value}" is not an ISO 8601 time with an offset (e.g. 2026-11-15T23:59:00Z)`);
  return value;
}

function isInstant(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/.exec(v);
  if (!m || !isCalendarDate(`${m[1]}-${m[2]}-${m[3]}`)) return false;
  if (+m[4] > 23 || +m[5] > 59 || (m[6] !== undefined && +m[6] > 59)) return false;
  if (m[8] !== undefined && (+m[8] > 14 || +m[9] > 59)) return false;
  return Number.isFinite(Date.parse(v));
}
