// The what-if's queueing model (issue 12 item 5), pure and small enough to check by hand.
//
// Why a weekly fluid queue and not Erlang C: M/M/c describes a queue in steady state and has no
// answer at all once arrivals exceed capacity (ρ ≥ 1) — exactly the weeks a planner worries
// about — and it forgets the backlog already there. A 311 backlog is a stock that drains or grows
// week by week, so the model carries it: each week the crews close what they can (capacity =
// crews × closures per crew-week, never more than there is to close), the rest waits. Time in the
// system then follows from Little's law (mean time in system = mean number in system ÷
// throughput), and the on-time share from the observed Kaplan–Meier distribution of time to
// close, stretched or shrunk by how much longer or shorter that time is than it was when the
// distribution was observed. Every step is arithmetic a reader can redo on paper.

/** Hours in a week: the model runs in weeks, SLAs are in hours. */
export const WEEK_HOURS = 168;

export interface FluidProjection {
  /** Backlog at the end of each week (= the start of the next). */
  backlog: number[];
  /** Cases closed in each week: capacity, capped by what there was to close. */
  closures: number[];
}

/**
 * backlog_{t+1} = max(0, backlog_t + arrivals_t − capacity_t); closures_t = backlog_t + arrivals_t
 * − backlog_{t+1} (so a week's capacity is capped by the cases there are to close).
 */
export function projectBacklog(backlog0: number, arrivals: readonly number[], capacity: readonly number[]): FluidProjection {
  if (arrivals.length !== capacity.length) throw new Error('projectBacklog: one capacity per week of arrivals');
  const backlog: number[] = [];
  const closures: number[] = [];
  let b = Math.max(0, backlog0);
  for (let t = 0; t < arrivals.length; t++) {
    const there = b + Math.max(0, arrivals[t]);
    const closed = Math.min(Math.max(0, capacity[t]), there);
    b = there - closed;
    closures.push(closed);
    backlog.push(b);
  }
  return { backlog, closures };
}

/**
 * The mean backlog over a week in the fluid model: the level moves in a straight line from the
 * week's start to its end, unless the crews empty it during the week — then it falls to 0 at
 * τ = backlog ÷ (capacity − arrivals) of the week and stays there, and the mean is backlog × τ ÷ 2.
 * For an observed week pass its closures as the capacity: a week that ended empty then has τ = 1.
 */
export function meanBacklog(backlogStart: number, arrivals: number, capacity: number): number {
  const b = Math.max(0, backlogStart);
  const end = Math.max(0, b + arrivals - capacity);
  if (end > 0 || capacity <= arrivals) return (b + end) / 2;
  const tau = Math.min(1, b / (capacity - arrivals));
  return (b * tau) / 2;
}

/**
 * Little's law over one week: mean cases in the system ÷ cases closed that week, in weeks. 0 when
 * nothing waits; Infinity when cases wait and none is closed; null when there is neither backlog
 * nor closure (no case to time).
 */
export function timeInSystemWeeks(meanBacklogOfWeek: number, closures: number): number | null {
  if (closures > 0) return meanBacklogOfWeek / closures;
  return meanBacklogOfWeek > 0 ? Infinity : null;
}

/** A Kaplan–Meier curve of time to close: S(t) after each step, hours ascending. */
export interface SurvivalStep { hours: number; survival: number }

/** The survival function read as R reads a KM curve: 1 before the first step, else the last step at or before t (beyond the last, the last). */
export function survivalAt(curve: readonly SurvivalStep[], hours: number): number {
  let s = 1;
  for (const p of curve) {
    if (p.hours > hours) break;
    s = p.survival;
  }
  return s;
}

/**
 * The share of a week's arrivals closed within the SLA: the observed distribution of time to close
 * F(h) = 1 − S(h), scaled in time by how the week's time in the system compares with the observed
 * one (a queue twice as long takes every case twice as long): F(sla × reference ÷ projected).
 * A projected time of 0 (nothing waits) reads F at infinity (the curve's last step); Infinity (cases wait, nothing
 * closes) reads F(0); null (no cases) or no SLA or no reference gives null.
 */
export function onTimeShare(curve: readonly SurvivalStep[], slaHours: number | null, referenceWeeks: number | null, projectedWeeks: number | null): number | null {
  if (slaHours === null || referenceWeeks === null || projectedWeeks === null || !(referenceWeeks > 0) || curve.length === 0) return null;
  const at = projectedWeeks === 0 ? Infinity : projectedWeeks === Infinity ? 0 : (slaHours * referenceWeeks) / projectedWeeks;
  return 1 - survivalAt(curve, at);
}

export interface ObservedWeek {
  /** Backlog at the start of the week and at its end (the next week's start). */
  backlog_start: number;
  backlog_end: number;
  arrivals: number;
  closures: number;
}

export interface ThroughputFit {
  /** Weeks with backlog at both start and end: the crews had work all week. */
  busy_weeks: number;
  /** Mean closures per busy week (null without one). */
  closures_per_busy_week: number | null;
  /** Mean closures and arrivals per week over every week. */
  closures_per_week: number;
  arrivals_per_week: number;
  /** Little's law over the weeks: Σ mean backlog (meanBacklog, closures as capacity) ÷ Σ closures, in weeks; null when nothing closed. */
  time_in_system_weeks: number | null;
}

/**
 * Observed throughput: closures in the weeks the crews were busy (backlog above 0 at the week's
 * start and at its end — in a week that ran out of work, closures say how much work there was,
 * not how much the crews could do) averaged; arrivals and closures per week; time in the system.
 */
export function fitThroughput(weeks: readonly ObservedWeek[]): ThroughputFit {
  const busy = weeks.filter((w) => w.backlog_start > 0 && w.backlog_end > 0);
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  const n = weeks.length;
  const closed = sum(weeks.map((w) => w.closures));
  const L = sum(weeks.map((w) => meanBacklog(w.backlog_start, w.arrivals, w.closures)));
  return {
    busy_weeks: busy.length,
    closures_per_busy_week: busy.length ? sum(busy.map((w) => w.closures)) / busy.length : null,
    closures_per_week: n ? closed / n : 0,
    arrivals_per_week: n ? sum(weeks.map((w) => w.arrivals)) / n : 0,
    time_in_system_weeks: closed > 0 ? L / closed : null,
  };
}

export interface WeekProjection {
  backlog: number;
  closures: number;
  time_in_system_weeks: number | null;
  on_time: number | null;
}

/** The fluid projection with each week's time in the system and on-time share. */
export function projectWeeks(
  backlog0: number, arrivals: readonly number[], capacity: readonly number[],
  curve: readonly SurvivalStep[], slaHours: number | null, referenceWeeks: number | null,
): WeekProjection[] {
  const p = projectBacklog(backlog0, arrivals, capacity);
  return p.backlog.map((b, t) => {
    const w = timeInSystemWeeks(meanBacklog(t === 0 ? backlog0 : p.backlog[t - 1], Math.max(0, arrivals[t]), Math.max(0, capacity[t])), p.closures[t]);
    return { backlog: b, closures: p.closures[t], time_in_system_weeks: w, on_time: onTimeShare(curve, slaHours, referenceWeeks, w) };
  });
}

export interface BacktestWeek { projected_backlog: number; actual_backlog: number; projected_on_time: number | null; actual_on_time: number | null }
export interface BacktestErrors {
  weeks: number;
  /** Mean |projected − actual| backlog at the weeks' ends, and mean (projected − actual): above 0 = the model overstates. */
  mae_backlog: number | null;
  bias_backlog: number | null;
  /** The same for the on-time share, over the weeks with both figures. */
  mae_on_time: number | null;
  bias_on_time: number | null;
  on_time_weeks: number;
}

/** MAE and mean error of a backtest's weeks. */
export function backtestErrors(weeks: readonly BacktestWeek[]): BacktestErrors {
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const db = weeks.map((w) => w.projected_backlog - w.actual_backlog);
  const dt = weeks.filter((w) => w.projected_on_time !== null && w.actual_on_time !== null).map((w) => w.projected_on_time! - w.actual_on_time!);
  return {
    weeks: weeks.length,
    mae_backlog: mean(db.map(Math.abs)), bias_backlog: mean(db),
    mae_on_time: mean(dt.map(Math.abs)), bias_on_time: mean(dt), on_time_weeks: dt.length,
  };
}

export interface Move { from: string; to: string; crews: number }

/**
 * Crews after the moves, applied in order; the total is unchanged. Throws (with the area and how
 * many it has at that point) when a move takes more crews than an area has.
 */
export function applyMoves(crews: ReadonlyMap<string, number>, moves: readonly Move[]): Map<string, number> {
  const after = new Map(crews);
  for (const m of moves) {
    if (m.from === m.to) throw new MoveError(m, `moves crews from ${m.from} to itself`);
    if (!(m.crews > 0)) throw new MoveError(m, 'must move more than 0 crews');
    const has = after.get(m.from) ?? 0;
    // A hair of tolerance: crew-equivalents are fractions and 0.1 + 0.2 is not 0.3.
    if (m.crews > has + 1e-9) throw new MoveError(m, `takes ${m.crews} crew${m.crews === 1 ? '' : 's'} from ${m.from}, which has ${round2(has)}${has !== (crews.get(m.from) ?? 0) ? ' after the moves before it' : ''}`);
    after.set(m.from, Math.max(0, has - m.crews));
    after.set(m.to, (after.get(m.to) ?? 0) + m.crews);
  }
  return after;
}

export class MoveError extends Error {
  constructor(readonly move: Move, reason: string) {
    super(reason);
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
