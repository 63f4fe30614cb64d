// What-if (issue 12 item 5): move crews between areas for one service and see the projected
// backlog and on-time share for the next weeks in each affected area, against the baseline (no
// move). Everything observed comes from the shared definitions: weekly arrivals, closures and the
// on-time rate from computeKpis by area × week (the opened cohort cut by opening week, the closed
// cohort by first-close week), the backlog at each week's start from the registry's backlog
// measure at that instant, the time-to-close distribution from the KPI's Kaplan–Meier curve, the
// arrivals ahead from forecastCounts on the same weekly series /api/forecast uses. The model is
// warehouse/stats/queueing.ts (a weekly fluid queue with Little's law): see its header for why.
import type { Warehouse } from '../db.ts';
import { ParameterError } from '../errors.ts';
import { appliedFilter, NO_AREA, type CaseFilter, type CaseScope, type CaseSelection, type CaseWindow } from '../queries/case-predicates.ts';
import { buildBacklogByAreaQuery, buildLocalDayQuery, buildSlaQuery, buildWeekStartsQuery } from '../queries/whatif-sql.ts';
import { closest } from '../errors.ts';
import { median } from '../stats/distributions.ts';
import {
  applyMoves, backtestErrors, fitThroughput, MoveError, projectWeeks, WEEK_HOURS,
  type BacktestErrors, type BacktestWeek, type Move, type ObservedWeek, type SurvivalStep,
} from '../stats/queueing.ts';
import { listDimensions, resolveSelection } from './dimensions.ts';
import { computeKpis, type KpiResult } from './kpis.ts';
import { computeSurvival } from './survival.ts';
import { countSeries } from './findings.ts';
import { checkHorizon, DEFAULT_HISTORY_WEEKS, DEFAULT_HORIZON, forecastCounts, weeksAfter, type ForecastMethod } from './forecast.ts';
import { resolveWindow } from './window.ts';
import { memoByData, memoKey } from './memo.ts';
import { nextTurn } from '../turns.ts';

/** Default fitting window: half a year of weeks (recent enough to be today's crews, long enough to see busy weeks). */
export const DEFAULT_FIT_WEEKS = 26;
/** The backtest replays at most this many of the last observed weeks… */
export const MAX_BACKTEST_WEEKS = 12;
/** …and fits on the weeks before them, at least this many; with fewer, no backtest. */
export const MIN_FIT_WEEKS = 8;
export const MIN_BACKTEST_WEEKS = 4;

/** Current crews per service (code or name) and area (id or name): configuration `crews`. */
export type CrewsConfig = Record<string, Record<string, number>>;

export type CrewsSource = 'configuration' | 'request' | 'crew-equivalents';

export interface WhatIfOptions {
  /** The fitting window (the shared window parameters; default 26 weeks). */
  window: CaseWindow;
  /** Service code or name (required). */
  service: string;
  /** Further filters (agency, channel, service group); `area` is not one: areas come from the moves. */
  filter?: CaseFilter;
  area_kind?: string;
  scope?: CaseScope;
  /** `from:to:crews`, comma-separated; areas by id or name. Empty: the baseline of every area. */
  move?: string;
  /** `area:crews`, comma-separated: current crews where the configuration has none. */
  crews?: string;
  /** Configuration `crews` (all services). */
  configured?: CrewsConfig;
  horizon?: number;
}

export interface WhatIfWeek {
  week: string;
  arrivals: number;
  arrivals_lower80: number;
  arrivals_upper80: number;
  capacity: number;
  closures: number;
  /** Backlog at the end of the week: from the mean forecast, and from its lower and upper 80% ends fed every week. */
  backlog: number;
  backlog_low: number;
  backlog_high: number;
  /** Projected share of the week's arrivals closed within the SLA (null without an SLA); low and high: the lowest and highest over the mean, lower and upper arrivals. */
  on_time_rate: number | null;
  on_time_low: number | null;
  on_time_high: number | null;
}

export interface WhatIfBacktestWeek {
  week: string;
  arrivals: number;
  actual_backlog: number;
  projected_backlog: number;
  actual_on_time: number | null;
  projected_on_time: number | null;
}

export interface WhatIfBacktest {
  /** Weeks replayed, and the weeks before them the model was fitted on. */
  weeks: number;
  fit_weeks: number;
  mae_backlog: number | null;
  /** Mean error of the backlog (projected − actual): above 0, the model overstates it. */
  bias: number | null;
  mae_on_time: number | null;
  bias_on_time: number | null;
  on_time_weeks: number;
}

export interface WhatIfFitted {
  area: string;
  area_id: string;
  crews: number;
  crews_source: CrewsSource;
  throughput_per_crew: number | null;
  /** `observed`: closures per busy week ÷ crews; `median of areas`: this area had no busy week (or no crews), so the service's median. */
  throughput_source: 'observed' | 'median of areas';
  busy_weeks: number;
  arrivals_per_week: number;
  closures_per_week: number;
  backlog_now: number;
  /** Little's law over the fitting weeks: mean backlog ÷ closures, in hours. */
  time_in_system_hours: number | null;
  sla_hours: number | null;
  forecast_method: ForecastMethod | 'mean of the window';
  forecast_reason: string;
  backtest: WhatIfBacktest | null;
  backtest_reason: string;
}

export interface WhatIfArea {
  area: string;
  area_id: string;
  crews_before: number;
  crews_after: number;
  backlog_now: number;
  baseline: WhatIfWeek[];
  scenario: WhatIfWeek[];
  backtest: WhatIfBacktestWeek[];
}

export interface WhatIfResult {
  service: string;
  service_code: string | null;
  area_kind: string;
  from: string;
  to: string;
  as_of: string;
  timezone: string;
  filter: CaseFilter;
  horizon: number;
  /** The Monday the projection starts (the week after the last whole observed week); `backlog_now` is the backlog then. */
  start: string;
  moves: Move[];
  model: {
    name: string;
    assumptions: string[];
    /** One crew-equivalent in closures a week, where some area's crews are not known (else null). */
    crew_equivalent: { closures_per_week: number; basis: string } | null;
    sla_hours: number | null;
    sla_source: 'services table' | 'median due time of the cases' | null;
    fitted: WhatIfFitted[];
    /** Pooled over the affected areas' replayed weeks. */
    backtest: WhatIfBacktest & { areas: number };
  };
  areas: WhatIfArea[];
  sentence: string;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
const DAY_MS = 86_400_000;
const dayMs = (d: string) => Date.parse(`${d}T00:00:00Z`);
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** ISO weekday: Monday 1 … Sunday 7. */
const isoDow = (d: string) => new Date(dayMs(d)).getUTCDay() || 7;

/** The whole Monday–Sunday weeks inside [from, end]: their Mondays. */
export function wholeWeeks(from: string, end: string): string[] {
  const first = dayMs(from) + ((8 - isoDow(from)) % 7) * DAY_MS;
  const lastSunday = dayMs(end) - (isoDow(end) % 7) * DAY_MS;
  const out: string[] = [];
  for (let m = first; m + 6 * DAY_MS <= lastSunday; m += 7 * DAY_MS) out.push(dayOf(m));
  return out;
}

interface AreaRef { id: string; name: string }

/** The what-if, memoized per data version like every analysis. */
export async function computeWhatIf(wh: Warehouse, o: WhatIfOptions): Promise<WhatIfResult> {
  const horizon = o.horizon ?? DEFAULT_HORIZON;
  checkHorizon(horizon);
  return memoByData(wh, memoKey('whatif', { ...o, horizon }), () => buildWhatIf(wh, { ...o, horizon }), (r) => r.areas.length * (2 * horizon + MAX_BACKTEST_WEEKS));
}

/** `a:b:n,…` or `a:n,…` split into their parts, each part trimmed; `what` names the form in the error. */
function splitList(text: string | undefined, parameter: string, parts: number, form: string): string[][] {
  const items = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return items.map((item) => {
    const p = item.split(':').map((s) => s.trim());
    if (p.length !== parts || p.some((x) => x === '')) throw new ParameterError(parameter, `${parameter} "${item}" is not ${form} (an area whose name holds ":" or "," is named by its id)`);
    return p;
  });
}

function crewNumber(text: string, parameter: string, item: string, positive: boolean): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(n) || n > 10_000 || (positive && n <= 0)) {
    throw new ParameterError(parameter, `${parameter} "${item}": "${text}" is not a number of crews ${positive ? 'above 0' : 'from 0'} (up to 10000)`);
  }
  return n;
}

async function buildWhatIf(wh: Warehouse, o: WhatIfOptions & { horizon: number }): Promise<WhatIfResult> {
  const window = o.window;
  if (o.filter?.area !== undefined) throw new ParameterError('area', 'the what-if takes its areas from `move` (from:to:crews), not from `area`');
  const filter: CaseFilter = { ...o.filter, service: o.service };
  const sel = await resolveSelection(wh, window, { filter, area_kind: o.area_kind, scope: o.scope });
  const dims = await listDimensions(wh, o.scope);
  const svc = dims.services.find((s) => s.code === o.service) ?? dims.services.find((s) => s.name === o.service)!;
  const serviceName = svc.name;
  const areaRefs: AreaRef[] = dims.areas.filter((a) => a.kind === sel.area_kind).map((a) => ({ id: a.id, name: a.name }));
  const findArea = (text: string, parameter: string, item: string): AreaRef => {
    const a = areaRefs.find((x) => x.id === text) ?? areaRefs.find((x) => x.name === text);
    if (!a) {
      throw new ParameterError(parameter, `${parameter} "${item}": "${text}" is not an area of kind "${sel.area_kind}"` +
        (areaRefs.length ? `; closest: ${closest(text, areaRefs.map((x) => x.name)).map((v) => `"${v}"`).join(', ')} (all: GET /api/dimensions)` : ': there are none'));
    }
    return a;
  };
  const moves: Move[] = splitList(o.move, 'move', 3, 'from:to:crews (e.g. D2:D6:2)').map(([from, to, n], i) => {
    const item = (o.move ?? '').split(',').map((s) => s.trim()).filter(Boolean)[i];
    return { from: findArea(from, 'move', item).name, to: findArea(to, 'move', item).name, crews: crewNumber(n, 'move', item, true) };
  });
  const requested = new Map<string, number>();
  for (const [a, n] of splitList(o.crews, 'crews', 2, 'area:crews (e.g. D2:4)')) {
    const item = `${a}:${n}`;
    const area = findArea(a, 'crews', item);
    if (requested.has(area.name)) throw new ParameterError('crews', `crews names ${area.name} twice`);
    requested.set(area.name, crewNumber(n, 'crews', item, false));
  }
  const notes: string[] = [];
  const configuredForService = o.configured?.[svc.code ?? ''] ?? o.configured?.[serviceName];
  const configKey = o.configured?.[svc.code ?? ''] ? svc.code : serviceName;
  const configured = new Map<string, number>();
  for (const [key, n] of Object.entries(configuredForService ?? {})) {
    const a = areaRefs.find((x) => x.id === key) ?? areaRefs.find((x) => x.name === key);
    if (!a) notes.push(`Configuration crews.${configKey}.${key} names no area of kind "${sel.area_kind}": not used.`);
    else configured.set(a.name, n);
  }
  for (const [area, n] of requested) {
    if (configured.has(area) && configured.get(area) !== n) {
      throw new ParameterError('crews', `crews gives ${area} ${n} crews, but the configuration (crews.${configKey}) says ${configured.get(area)}: leave it out of crews, or change the configuration`);
    }
  }

  // The weeks: every whole local week of the window up to the as-of day.
  const dayQ = buildLocalDayQuery(window.as_of, window.timezone);
  const asOfDay = (await wh.one<{ day: string }>(dayQ.sql, dayQ.params))!.day;
  const end = window.to < asOfDay ? window.to : asOfDay;
  const weeks = wholeWeeks(window.from, end);
  if (weeks.length === 0) throw new ParameterError('from', `the window ${window.from} to ${end} holds no whole Monday–Sunday week: nothing to fit the model on (widen it with weeks or from)`);
  const start = weeksAfter(weeks[weeks.length - 1], 1);
  const n = weeks.length;

  // Observed per area and week: arrivals, closures and on-time from the KPI table.
  const kpi = await memoByData(wh, memoKey('kpis', ['area', 'week'], window, filter, o.area_kind, o.scope),
    () => computeKpis(wh, ['area', 'week'], window, filter, { area_kind: o.area_kind, scope: o.scope }), (r: KpiResult) => r.rows.length);
  const weekIndex = new Map(weeks.map((w, i) => [w, i]));
  const observed = new Map<string, { arrivals: number[]; closures: number[]; onTime: (number | null)[] }>();
  const obsOf = (area: string) => {
    let x = observed.get(area);
    if (!x) observed.set(area, (x = { arrivals: new Array(n).fill(0), closures: new Array(n).fill(0), onTime: new Array(n).fill(null) }));
    return x;
  };
  for (const r of kpi.rows) {
    const i = weekIndex.get(r.week!);
    if (i === undefined || r.area === NO_AREA) continue;
    const x = obsOf(r.area!);
    x.arrivals[i] = r.opened;
    x.closures[i] = r.closed_in_period;
    x.onTime[i] = r.on_time_rate;
  }
  // Backlog at every week's start, and at the projection's start (never later than the as-of time).
  const startsQ = buildWeekStartsQuery(weeks[0], start, window.timezone);
  const starts = await wh.all<{ week: string; at: string }>(startsQ.sql, startsQ.params);
  const backlogAt = new Map<string, number[]>();
  for (let i = 0; i < starts.length; i++) {
    const at = Date.parse(starts[i].at) < Date.parse(window.as_of) ? starts[i].at : window.as_of;
    const atSel: CaseSelection = { ...sel, window: { ...sel.window, as_of: at } };
    const q = buildBacklogByAreaQuery(atSel);
    for (const r of await wh.all<{ area: string; backlog: number }>(q.sql, q.params)) {
      if (r.area === NO_AREA) continue;
      let b = backlogAt.get(r.area);
      if (!b) backlogAt.set(r.area, (b = new Array(n + 1).fill(0)));
      b[i] = Number(r.backlog);
      obsOf(r.area);
    }
  }
  const observedWeeks = (area: string): ObservedWeek[] => {
    const x = obsOf(area);
    const b = backlogAt.get(area) ?? new Array(n + 1).fill(0);
    return weeks.map((_, i) => ({ backlog_start: b[i], backlog_end: b[i + 1], arrivals: x.arrivals[i], closures: x.closures[i] }));
  };

  // The service's SLA: the services table's, else the median due time of its cases.
  const slaQ = buildSlaQuery(sel);
  const slaRow = (await wh.one<{ sla_hours: number | null; due_hours: number | null }>(slaQ.sql, slaQ.params))!;
  const slaHours = slaRow.sla_hours ?? slaRow.due_hours ?? null;
  const slaSource = slaRow.sla_hours !== null ? 'services table' as const : slaRow.due_hours !== null ? 'median due time of the cases' as const : null;

  // Fits and crews for every area with data (the crew-equivalent is a median over them).
  const areasWithData = [...observed.keys()].filter((a) => areaRefs.some((r) => r.name === a));
  const fits = new Map(areasWithData.map((a) => [a, fitThroughput(observedWeeks(a))]));
  const known = new Map<string, { crews: number; source: CrewsSource }>();
  for (const a of areaRefs) {
    if (configured.has(a.name)) known.set(a.name, { crews: configured.get(a.name)!, source: 'configuration' });
    else if (requested.has(a.name)) known.set(a.name, { crews: requested.get(a.name)!, source: 'request' });
  }
  const perCrew = [...known].flatMap(([a, k]) => {
    const c = fits.get(a)?.closures_per_busy_week ?? null;
    return c !== null && k.crews > 0 ? [c / k.crews] : [];
  });
  const busyClosures = [...fits.values()].flatMap((f) => (f.closures_per_busy_week !== null ? [f.closures_per_busy_week] : []));
  // One crew-equivalent: the median closures per crew-week where crews are known; where none is,
  // the median area's closures in a busy week (so that area is "1 crew-equivalent").
  const medianPerCrew = perCrew.length ? median(perCrew) : busyClosures.length ? median(busyClosures) : null;
  const relevant = moves.length ? [...new Set(moves.flatMap((m) => [m.from, m.to]))] : areasWithData;
  const needsEquivalents = relevant.some((a) => !known.has(a));
  const crewEquivalent = needsEquivalents && medianPerCrew !== null
    ? { closures_per_week: r2(medianPerCrew), basis: perCrew.length ? `the median closures per crew-week of the ${perCrew.length} area${perCrew.length === 1 ? '' : 's'} whose crews are known` : `the median area's closures in a busy week (no area's crews are known for ${serviceName})` }
    : null;
  const crewsOf = (area: string): { crews: number; source: CrewsSource; perCrew: number | null; perCrewSource: 'observed' | 'median of areas' } => {
    const f = fits.get(area);
    const k = known.get(area);
    if (k) {
      const c = f?.closures_per_busy_week ?? null;
      return c !== null && k.crews > 0 ? { ...k, perCrew: c / k.crews, perCrewSource: 'observed' } : { ...k, perCrew: medianPerCrew, perCrewSource: 'median of areas' };
    }
    const c = f?.closures_per_busy_week ?? f?.closures_per_week ?? 0;
    return { crews: medianPerCrew ? c / medianPerCrew : 0, source: 'crew-equivalents', perCrew: medianPerCrew, perCrewSource: 'median of areas' };
  };
  const before = new Map(areaRefs.map((a) => [a.name, crewsOf(a.name).crews]));
  let after: Map<string, number>;
  try {
    after = applyMoves(before, moves);
  } catch (err) {
    if (err instanceof MoveError) {
      const m = err.move;
      const unit = crewsOf(m.from).source === 'crew-equivalents' ? ` (crew-equivalents: its crews are not known — give them with crews=${m.from}:N or configuration crews.${svc.code ?? serviceName})` : '';
      throw new ParameterError('move', `move ${m.from}:${m.to}:${m.crews} ${err.message}${unit}`);
    }
    throw err;
  }

  // Arrivals ahead: the forecast's own weekly series (its default history, ending where the fit ends).
  const histWindow = await resolveWindow(wh, { to: window.to, as_of: window.as_of, weeks: DEFAULT_HISTORY_WEEKS }, window.timezone);
  const hist = { ...histWindow, from: histWindow.from < window.from ? histWindow.from : window.from };
  const histSel = await resolveSelection(wh, hist, { filter, area_kind: o.area_kind, scope: o.scope });
  const series = new Map((await countSeries(wh, ['area'], 'week', histSel)).map((s) => [s.area!, s]));

  const fitted: WhatIfFitted[] = [];
  const areas: WhatIfArea[] = [];
  const pooled: BacktestWeek[] = [];
  const K = Math.min(MAX_BACKTEST_WEEKS, n - MIN_FIT_WEEKS);
  for (const area of relevant) {
    await nextTurn();
    const ref = areaRefs.find((a) => a.name === area)!;
    const c = crewsOf(area);
    const f = fits.get(area) ?? fitThroughput(observedWeeks(area));
    const obs = observedWeeks(area);
    const backlogNow = (backlogAt.get(area) ?? [])[n] ?? 0;
    const curve: SurvivalStep[] = (await computeSurvival(wh, window, { ...filter, area }, { area_kind: o.area_kind, scope: o.scope })).points.map((p) => ({ hours: p.hours, survival: p.survival }));
    const refWeeks = f.time_in_system_weeks;

    // Forecast of arrivals.
    const s = series.get(area);
    const fc = s && s.periods[s.periods.length - 1] === weeks[n - 1] ? forecastCounts(s.counts, o.horizon) : null;
    const flat = f.arrivals_per_week;
    const useForecast = fc !== null && fc.forecast.mean.length === o.horizon;
    const mean = useForecast ? fc!.forecast.mean : new Array(o.horizon).fill(flat);
    const lower = useForecast ? fc!.forecast.lower80 : mean;
    const upper = useForecast ? fc!.forecast.upper80 : mean;
    const project = (crews: number): WhatIfWeek[] => {
      const cap = new Array(o.horizon).fill(crews * (c.perCrew ?? 0));
      const m = projectWeeks(backlogNow, mean, cap, curve, slaHours, refWeeks);
      const lo = projectWeeks(backlogNow, lower, cap, curve, slaHours, refWeeks);
      const hi = projectWeeks(backlogNow, upper, cap, curve, slaHours, refWeeks);
      return m.map((w, i) => ({
        week: weeksAfter(start, i), arrivals: r2(mean[i]), arrivals_lower80: r2(lower[i]), arrivals_upper80: r2(upper[i]),
        capacity: r2(cap[i]), closures: r2(w.closures),
        backlog: r1(w.backlog), backlog_low: r1(lo[i].backlog), backlog_high: r1(hi[i].backlog),
        on_time_rate: r3(w.on_time), ...onTimeBand([w.on_time, lo[i].on_time, hi[i].on_time]),
      }));
    };

    // Backtest: fit on the weeks before the last K, replay those K with their actual arrivals and today's crews.
    let bt: WhatIfBacktest | null = null;
    let btWeeks: WhatIfBacktestWeek[] = [];
    let btReason: string;
    if (K < MIN_BACKTEST_WEEKS) {
      btReason = `Not backtested: ${n} whole weeks in the window, fewer than the ${MIN_FIT_WEEKS + MIN_BACKTEST_WEEKS} needed (${MIN_FIT_WEEKS} to fit, ${MIN_BACKTEST_WEEKS} to replay).`;
    } else {
      const fitPart = fitThroughput(obs.slice(0, n - K));
      // Today's crews at the throughput per crew of the weeks before: crews × (closures per busy week ÷ crews).
      const capBt = fitPart.closures_per_busy_week ?? c.crews * (c.perCrew ?? 0);
      const replay = obs.slice(n - K);
      const p = projectWeeks(replay[0].backlog_start, replay.map((w) => w.arrivals), new Array(K).fill(capBt), curve, slaHours, fitPart.time_in_system_weeks);
      const onTime = obsOf(area).onTime.slice(n - K);
      btWeeks = replay.map((w, i) => ({
        week: weeks[n - K + i], arrivals: w.arrivals, actual_backlog: w.backlog_end, projected_backlog: r1(p[i].backlog),
        actual_on_time: r3(onTime[i]), projected_on_time: r3(p[i].on_time),
      }));
      const e = backtestErrors(replay.map((w, i) => ({ projected_backlog: p[i].backlog, actual_backlog: w.backlog_end, projected_on_time: p[i].on_time, actual_on_time: onTime[i] })));
      pooled.push(...replay.map((w, i) => ({ projected_backlog: p[i].backlog, actual_backlog: w.backlog_end, projected_on_time: p[i].on_time, actual_on_time: onTime[i] })));
      bt = errorsOut(e, n - K);
      btReason = `Fitted on the ${n - K} weeks from ${weeks[0]}, then replayed the last ${K} weeks from their actual starting backlog with their actual arrivals and today's crews (${r2(capBt)} closures a week).`;
    }

    fitted.push({
      area, area_id: ref.id, crews: r2(c.crews), crews_source: c.source,
      throughput_per_crew: c.perCrew === null ? null : r2(c.perCrew), throughput_source: c.perCrewSource, busy_weeks: f.busy_weeks,
      arrivals_per_week: r2(f.arrivals_per_week), closures_per_week: r2(f.closures_per_week), backlog_now: backlogNow,
      time_in_system_hours: refWeeks === null ? null : r1(refWeeks * WEEK_HOURS), sla_hours: slaHours,
      forecast_method: useForecast ? fc!.method : 'mean of the window',
      forecast_reason: useForecast ? fc!.reason : `No forecast for this area's series (${s ? `${s.counts.length} weeks` : 'no requests'}): its mean arrivals over the window, ${r2(flat)} a week, every week, with no interval.`,
      backtest: bt, backtest_reason: btReason,
    });
    areas.push({
      area, area_id: ref.id, crews_before: r2(before.get(area) ?? 0), crews_after: r2(after.get(area) ?? 0), backlog_now: backlogNow,
      baseline: project(before.get(area) ?? 0), scenario: project(after.get(area) ?? 0), backtest: btWeeks,
    });
  }

  const pooledErrors = backtestErrors(pooled);
  const assumptions = [
    `Weekly fluid queue: backlog at the end of a week = backlog at its start + arrivals − closures, where closures = crews × throughput per crew, never more than the cases there are to close.`,
    `Throughput per crew: the mean closures (first closes, as the KPI's closed cohort counts them) in the weeks the area's backlog was above 0 at both the week's start and end — weeks the crews had work all week — divided by its crews; crews moved into an area work at that area's rate.`,
    `Crews do not change in the weeks fitted, replayed or projected except by the moves; every crew of an area is on this service.`,
    `Time in the system (Little's law): the week's mean backlog (a straight line from its start to its end, or to 0 where the crews empty it mid-week) ÷ its closures. The on-time share of a week's arrivals is the observed Kaplan–Meier distribution of time to close over the window, stretched by the ratio of that week's time in the system to the window's: F(SLA × window's ÷ week's). A case is due SLA hours after it opens, in calendar hours.`,
    `Arrivals ahead: the demand forecast of the area's weekly requests (the model or benchmark /api/forecast publishes for that series, from up to ${DEFAULT_HISTORY_WEEKS} weeks of history); the band feeds every week's lower (upper) 80% forecast into the model, a plausible range, not a computed 80% interval of the backlog.`,
    `Backlog counts every open case however old (cancelled and reopened as the KPI's backlog counts them); cases in no area are left out.`,
    ...(slaHours === null ? [`${serviceName} has no SLA in the services table and its cases no due times: no on-time share is projected.`] : slaSource === 'median due time of the cases' ? [`${serviceName} has no SLA in the services table: the SLA is the median due time of its cases, ${r1(slaHours)} hours.`] : []),
    ...(crewEquivalent ? [`Where an area's crews are not known (configuration crews.${svc.code ?? serviceName}.<area>, or crews=<area>:<n>), its capacity is in crew-equivalents: its closures per busy week ÷ ${crewEquivalent.closures_per_week}, ${crewEquivalent.basis}.`] : []),
    ...notes,
  ];
  const result: WhatIfResult = {
    service: serviceName, service_code: svc.code, area_kind: sel.area_kind, from: window.from, to: window.to, as_of: window.as_of, timezone: window.timezone,
    filter: appliedFilter(sel.filter), horizon: o.horizon, start, moves,
    model: {
      name: 'Weekly fluid queue with Little\'s law (time in system) and the observed Kaplan–Meier time to close (on time)',
      assumptions, crew_equivalent: crewEquivalent, sla_hours: slaHours, sla_source: slaSource, fitted,
      backtest: { ...errorsOut(pooledErrors, K >= MIN_BACKTEST_WEEKS ? n - K : 0), weeks: K >= MIN_BACKTEST_WEEKS ? K : 0, areas: K >= MIN_BACKTEST_WEEKS ? relevant.length : 0 },
    },
    areas,
    sentence: '',
  };
  result.sentence = whatIfSentence(result);
  return result;
}

/**
 * The on-time band: the lowest and highest of the three paths. Usually the upper arrivals give the
 * lowest, but not always: where the crews empty the backlog mid-week, more arrivals spread the same
 * wait over more cases.
 */
function onTimeBand(xs: (number | null)[]): { on_time_low: number | null; on_time_high: number | null } {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? { on_time_low: r3(Math.min(...v)), on_time_high: r3(Math.max(...v)) } : { on_time_low: null, on_time_high: null };
}

function errorsOut(e: BacktestErrors, fitWeeks: number): WhatIfBacktest {
  return {
    weeks: e.weeks, fit_weeks: fitWeeks, mae_backlog: e.mae_backlog === null ? null : r1(e.mae_backlog), bias: e.bias_backlog === null ? null : r1(e.bias_backlog),
    mae_on_time: r3(e.mae_on_time), bias_on_time: r3(e.bias_on_time), on_time_weeks: e.on_time_weeks,
  };
}

const pct = (x: number | null) => (x === null ? 'no figure' : `${Math.round(x * 100)}%`);
const num = (x: number) => (Math.abs(x) < 10 ? String(Math.round(x * 10) / 10) : String(Math.round(x)));
const crewWords = (n: number, equivalents: boolean) => `${num(n)} ${equivalents ? 'crew-equivalent' : 'crew'}${n === 1 ? '' : 's'}`;

/** One plain sentence of the effect (or of the baseline, without a move). */
export function whatIfSentence(r: WhatIfResult): string {
  const h = r.horizon;
  const inWeeks = `in ${h} week${h === 1 ? '' : 's'}`;
  const last = (w: WhatIfWeek[]) => w[w.length - 1];
  if (r.moves.length === 0) {
    if (r.areas.length === 0) return `No area has ${r.service} requests in the window: nothing to project.`;
    const growth = (a: WhatIfArea) => last(a.baseline).backlog - a.backlog_now;
    const rising = r.areas.filter((a) => growth(a) > 0).sort((a, b) => growth(b) - growth(a));
    const most = rising[0];
    return `With no move, ${r.service}'s backlog would rise ${inWeeks} in ${rising.length} of ${r.areas.length} area${r.areas.length === 1 ? '' : 's'}` +
      (most ? ` (most in ${most.area}: from ${num(most.backlog_now)} to about ${num(last(most.baseline).backlog)})` : '') + '.';
  }
  const eq = new Set(r.model.fitted.filter((f) => f.crews_source === 'crew-equivalents').map((f) => f.area));
  const moves = r.moves.map((m, i) => `${i === 0 ? '' : 'and '}${crewWords(m.crews, eq.has(m.from) || eq.has(m.to))} from ${m.from} to ${m.to}`).join(', ');
  // Receiving areas first: the question is usually about them.
  const gain = (a: WhatIfArea) => a.crews_after - a.crews_before;
  const ordered = [...r.areas].sort((a, b) => gain(b) - gain(a));
  const [first, ...others] = ordered.map((a) => ({ a, s: last(a.scenario).backlog, b: last(a.baseline).backlog }));
  const effect = `would bring ${first.a.area}'s backlog from ${num(first.a.backlog_now)} to about ${num(first.s)} ${inWeeks} (about ${num(first.b)} without the move)` +
    (others.length ? `, while ${others.map((x) => `${x.a.area}'s would go from ${num(x.a.backlog_now)} to about ${num(x.s)} (about ${num(x.b)} without)`).join(' and ')}` : '');
  const onTime = ordered.filter((a) => last(a.scenario).on_time_rate !== null)
    .map((a) => `${a.area} ${pct(last(a.scenario).on_time_rate)} (${pct(last(a.baseline).on_time_rate)} without)`);
  return `Moving ${moves} for ${r.service} ${effect}${onTime.length ? `; on time in week ${h}: ${onTime.join(', ')}` : ''}.`;
}

/** The what-if as one flat table (CSV): each area's baseline, scenario and backtest weeks. */
export const WHATIF_CSV_COLUMNS = [
  'area', 'area_id', 'kind', 'week', 'crews', 'arrivals', 'arrivals_lower80', 'arrivals_upper80', 'capacity', 'closures',
  'backlog', 'backlog_low', 'backlog_high', 'on_time_rate', 'on_time_low', 'on_time_high', 'actual_backlog', 'actual_on_time',
] as const;

export function whatIfRows(r: WhatIfResult): Record<string, unknown>[] {
  return r.areas.flatMap((a) => [
    ...a.backtest.map((w) => ({ area: a.area, area_id: a.area_id, kind: 'backtest', week: w.week, crews: a.crews_before, arrivals: w.arrivals, backlog: w.projected_backlog, on_time_rate: w.projected_on_time, actual_backlog: w.actual_backlog, actual_on_time: w.actual_on_time })),
    ...a.baseline.map((w) => ({ area: a.area, area_id: a.area_id, kind: 'baseline', crews: a.crews_before, ...w })),
    ...a.scenario.map((w) => ({ area: a.area, area_id: a.area_id, kind: 'scenario', crews: a.crews_after, ...w })),
  ]);
}
