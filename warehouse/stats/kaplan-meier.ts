// Kaplan–Meier product-limit estimator, matching R's survival package (survfit, conf.type =
// "log", quantile rules). Ours because the numbers must match the reference exactly.

/** Observations at one distinct time: how many ended (event) and how many were censored. */
export interface KmObservation { time: number; events: number; censored: number }

export interface KmPoint {
  time: number;
  n_risk: number;
  n_event: number;
  n_censor: number;
  surv: number;
  std_err: number | null; // standard error of S (Greenwood), as summary.survfit prints it
  lower: number | null;
  upper: number | null;
}

export interface KmCurve { n: number; events: number; points: KmPoint[] }

const Z95 = 1.959963984540054;
// R compares survival to a quantile level with this tolerance (sqrt of double epsilon).
const TOLERANCE = Math.sqrt(Number.EPSILON);
/** How far above a reader's quiet level a band's floor must be to pass over the band: far beyond its rounding. */
const BAND_MARGIN = 1e-12;
/** The quantiles a summary reads: the median (and its interval), and the P90. */
const MEDIAN_Q = 0.5;
const P90_Q = 0.9;
/** Groups raw durations into distinct-time observations. */
export function observationsFrom(times: readonly number[], status: readonly (0 | 1 | boolean)[]): KmObservation[] {
  const byTime = new Map<number, KmObservation>();
  times.forEach((t, i) => {
    const o = byTime.get(t) ?? { time: t, events: 0, censored: 0 };
    if (status[i]) o.events += 1;
    else o.censored += 1;
    byTime.set(t, o);
  });
  return [...byTime.values()];
}

/**
 * The product-limit walk, one distinct time at a time in increasing order: the one place the
 * curve's arithmetic is written, so the whole curve (kaplanMeier), the summary read straight off
 * sorted durations (SortedKmWalk, kmSummaryOfSorted) and the drawn curve (KmCurveWalk) compute
 * the same bits.
 */
/** S past a distinct time with `events` ends out of `atRisk`: the product-limit step, written once. */
const survivalPast = (surv: number, events: number, atRisk: number) => surv * (1 - events / atRisk);

class ProductLimit {
  surv = 1;
  greenwood = 0; // Σ d / (n (n − d))
  events = 0;
  constructor(private atRisk: number) {}

  /** The point at `time`, written into `p` (its bands by `bands`). At a tied time events count first and the censored are still at risk. */
  step(time: number, events: number, censored: number, p: KmPoint): KmPoint {
    p.time = time;
    p.n_risk = this.atRisk;
    p.n_event = events;
    p.n_censor = censored;
    this.stepWithVariance(events, censored);
    p.surv = this.surv;
    return p;
  }

  /** S, its variance, the events and the risk set past one distinct time (step's work, without a point). */
  stepWithVariance(events: number, censored: number): void {
    if (events > 0) this.greenwood += this.atRisk > events ? events / (this.atRisk * (this.atRisk - events)) : Number.POSITIVE_INFINITY;
    this.stepSurvival(events, censored);
  }

  /**
   * S, the events and the risk set past one distinct time, without the variance: all a walk
   * needs once no band is read any more (step adds the variance).
   */
  stepSurvival(events: number, censored: number): void {
    if (events > 0) {
      this.surv = survivalPast(this.surv, events, this.atRisk);
      this.events += events;
    }
    this.atRisk -= events + censored;
  }

  /**
   * Steps S through `at`'s next distinct times (stepSurvival's work, in locals) until S falls
   * below `quietAbove` (that point included), `maxPoints` are walked or every duration is; returns
   * how many points it walked. The loop SortedKmWalk spends most of its time in once only S is
   * read: a method call and a field written per point took half as long again.
   */
  walkSurvival(at: DistinctTimes, quietAbove: number, maxPoints: number): number {
    const { ends, cens } = at;
    const ne = ends.length;
    const nc = cens.length;
    let { i, j } = at;
    let { surv, atRisk, events: eventsSoFar } = this;
    let points = 0;
    let time = at.time;
    let events = at.events;
    let censored = at.censored;
    while (points < maxPoints && (i < ne || j < nc)) {
      time = j >= nc || (i < ne && ends[i] <= cens[j]) ? ends[i] : cens[j];
      const i0 = i;
      while (i < ne && ends[i] === time) i++;
      const j0 = j;
      while (j < nc && cens[j] === time) j++;
      if (i === i0 && j === j0) throw new Error(`Kaplan–Meier: a duration that is not a number (${time})`);
      events = i - i0;
      censored = j - j0;
      if (events > 0) {
        surv = survivalPast(surv, events, atRisk);
        eventsSoFar += events;
      }
      atRisk -= events + censored;
      points++;
      if (surv < quietAbove) break;
    }
    at.moveTo(i, j, time, events, censored);
    this.surv = surv;
    this.atRisk = atRisk;
    this.events = eventsSoFar;
    return points;
  }

  /** The standard error and 95% log interval of the point just stepped to (null once S reaches 0, as in R). */
  bands(p: KmPoint): KmPoint {
    const se = this.logStdErr();
    p.std_err = se === null ? null : this.surv * se;
    p.lower = this.lowerBand();
    p.upper = this.upperBand();
    return p;
  }

  /** Greenwood's standard error of log S at the point just stepped to; null once S reaches 0. */
  private logStdErr(): number | null {
    return Number.isFinite(this.greenwood) && this.surv > 0 ? Math.sqrt(this.greenwood) : null;
  }

  lowerBand(): number | null {
    const se = this.logStdErr();
    return se === null ? null : this.surv * Math.exp(-Z95 * se);
  }

  upperBand(): number | null {
    const se = this.logStdErr();
    return se === null ? null : Math.min(1, this.surv * Math.exp(Z95 * se));
  }

  /** A floor of the lower band without its exponential (e^−x ≥ 1 − x); −∞ where the band is undefined. */
  lowerBandFloor(): number {
    const se = this.logStdErr();
    return se === null ? Number.NEGATIVE_INFINITY : this.surv * (1 - Z95 * se);
  }
}

export function kaplanMeier(observations: readonly KmObservation[]): KmCurve {
  const obs = [...observations].filter((o) => o.events + o.censored > 0).sort((a, b) => a.time - b.time);
  const n = obs.reduce((s, o) => s + o.events + o.censored, 0);
  const walk = new ProductLimit(n);
  const points = obs.map((o) => walk.bands(walk.step(o.time, o.events, o.censored, {} as KmPoint)));
  return { n, events: walk.events, points };
}

type Band = 'surv' | 'lower' | 'upper';

/**
 * R's quantile rule, read point by point along a curve: the first point whose band is within
 * tolerance of 1 − q or below it; when it sits on the level, the midpoint of that point and the
 * next one clearly below (or the end of follow-up). Points whose band is undefined (null: S has
 * reached 0) are passed over.
 */
class QuantileReader {
  private readonly target: number;
  private flatFrom: number | null = null;
  done = false;
  value: number | null = null;
  constructor(q: number, private readonly band: Band) {
    this.target = 1 - q;
  }

  /** Reads the next point; true once the quantile is decided. */
  read(p: KmPoint): boolean {
    return this.readValue(p.time, p[this.band]);
  }

  /**
   * A level of the band at and above which reading a point changes nothing (within tolerance of
   * the target, or below it, is what counts), with a margin for rounding: a walk may pass over
   * such points without reading them.
   */
  get quietAbove(): number {
    return this.target + 2 * TOLERANCE;
  }

  /** How far the reader has got (0: nothing yet, 1: on a flat stretch at the level, 2 or 3: decided): a point that changes it is one the quantile depends on. */
  get progress(): number {
    return (this.flatFrom === null ? 0 : 1) + (this.done ? 2 : 0);
  }

  /** Reads the band's value `s` at `time` (read's work, without a point object). */
  readValue(time: number, s: number | null): boolean {
    if (this.done || s === null) return this.done;
    if (this.flatFrom === null) {
      if (Math.abs(s - this.target) < TOLERANCE) this.flatFrom = time;
      else if (s < this.target) this.finish(time);
    } else if (s < this.target - TOLERANCE) this.finish((this.flatFrom + time) / 2);
    return this.done;
  }

  /** The answer once every point has been read (`lastTime`: the end of follow-up). */
  end(lastTime: number | undefined): number | null {
    // Flat at exactly the target to the end: the stretch ends at the end of follow-up.
    if (!this.done && this.flatFrom !== null && lastTime !== undefined) this.finish((this.flatFrom + lastTime) / 2);
    return this.value;
  }

  private finish(value: number): void {
    this.value = value;
    this.done = true;
  }
}

/**
 * The time by which a share q of cases has ended: the first time the curve drops below 1 − q;
 * if it sits exactly on 1 − q over a flat stretch, the midpoint of that stretch (R's rule).
 * null when the curve never gets there (too many still open).
 */
export function kmQuantile(curve: KmCurve, q: number, band: Band = 'surv'): number | null {
  const reader = new QuantileReader(q, band);
  for (const p of curve.points) if (reader.read(p)) break;
  return reader.end(curve.points.at(-1)?.time);
}

export interface KmSummary { n: number; events: number; median: number | null; median_lower: number | null; median_upper: number | null; p90: number | null }

/** A summary's quantiles. */
export type KmStatistic = 'median' | 'median_lower' | 'median_upper' | 'p90';
const STATISTICS: readonly KmStatistic[] = ['median', 'median_lower', 'median_upper', 'p90'];

/** The readers of a summary, in its order: the median, its interval's limits, the P90 (one not wanted is decided already, as null). */
function summaryReaders(wanted: readonly KmStatistic[] = STATISTICS) {
  const readers = [new QuantileReader(MEDIAN_Q, 'surv'), new QuantileReader(MEDIAN_Q, 'lower'), new QuantileReader(MEDIAN_Q, 'upper'), new QuantileReader(P90_Q, 'surv')] as const;
  STATISTICS.forEach((stat, i) => {
    if (!wanted.includes(stat)) readers[i].done = true;
  });
  return readers;
}

function summaryOf(n: number, events: number, readers: ReturnType<typeof summaryReaders>, lastTime: number | undefined): KmSummary {
  const [median, lower, upper, p90] = readers.map((r) => r.end(lastTime));
  // The median's CI: where the lower band crosses 0.5 gives the lower limit, the upper band the upper.
  return { n, events, median, median_lower: lower, median_upper: upper, p90 };
}

export function kmSummary(curve: KmCurve): KmSummary {
  const readers = summaryReaders();
  for (const p of curve.points) if (readers.map((r) => r.read(p)).every(Boolean)) break;
  return summaryOf(curve.n, curve.events, readers, curve.points.at(-1)?.time);
}

/**
 * Two sorted arrays of durations (ended, censored) walked together one distinct time at a time:
 * each `next()` moves to the next time and counts the ends and the censored there. The one place
 * the walks over sorted durations (SortedKmWalk, KmCurveWalk, the log-rank test's logRankOf) find
 * their points.
 */
export class DistinctTimes {
  /** The current time, and how many ended and how many were censored at it. */
  time = Number.NaN;
  events = 0;
  censored = 0;
  /** How far each array has been passed. */
  i = 0;
  j = 0;

  constructor(readonly ends: Float64Array, readonly cens: Float64Array) {}

  /** Moves to a time found by a walk of its own (ProductLimit.walkSurvival): `i` and `j` past it, with its counts. */
  moveTo(i: number, j: number, time: number, events: number, censored: number): void {
    this.i = i;
    this.j = j;
    this.time = time;
    this.events = events;
    this.censored = censored;
  }

  /** Every duration passed. */
  get done(): boolean {
    return this.i >= this.ends.length && this.j >= this.cens.length;
  }

  /** The next distinct time, without moving to it (+∞ once done). */
  peek(): number {
    const { ends, cens, i, j } = this;
    if (j >= cens.length) return i < ends.length ? ends[i] : Number.POSITIVE_INFINITY;
    return i < ends.length && ends[i] <= cens[j] ? ends[i] : cens[j];
  }

  /** Durations passed so far (ended and censored). */
  get walked(): number {
    return this.i + this.j;
  }

  /** Moves to the next distinct time and returns it (only while not done). */
  next(): number {
    const { ends, cens } = this;
    let { i, j } = this;
    const time = j >= cens.length || (i < ends.length && ends[i] <= cens[j]) ? ends[i] : cens[j];
    const i0 = i;
    while (i < ends.length && ends[i] === time) i++;
    const j0 = j;
    while (j < cens.length && cens[j] === time) j++;
    // Only a NaN matches nothing (and would never end the walk): durations come from timestamps.
    if (i === i0 && j === j0) throw new Error(`Kaplan–Meier: a duration that is not a number (${time})`);
    this.moveTo(i, j, time, i - i0, j - j0);
    return time;
  }
}

/**
 * kmSummary(kaplanMeier(…)) of a group's cases, read straight off their durations without building
 * the curve: `ends` the durations of the cases that ended and `censored` those of the cases that
 * had not (both sorted ascending, in seconds). The same walk and the same rules, point by point,
 * so the same numbers to the bit; it stops once every quantile is decided. Only the `wanted`
 * quantiles are read (the others are null): a curve that never reaches a level is walked to its
 * end for it. Nothing per point is kept. `advance` walks a bounded number of points, so a caller
 * on a server can walk ten million in short turns.
 */
export class SortedKmWalk {
  private readonly walk: ProductLimit;
  private readonly readers: ReturnType<typeof summaryReaders>;
  private readonly at: DistinctTimes;
  done = false;

  constructor(private readonly ends: Float64Array, private readonly censored: Float64Array, wanted: readonly KmStatistic[] = STATISTICS) {
    this.walk = new ProductLimit(ends.length + censored.length);
    this.at = new DistinctTimes(ends, censored);
    this.readers = summaryReaders(wanted);
    this.done = this.readers.every((r) => r.done) || ends.length + censored.length === 0;
  }

  /**
   * Walks at most `maxPoints` distinct times; returns how many it walked. (A pile of equal
   * durations is one time: passing it is a cheap scan, not counted against the budget.)
   */
  advance(maxPoints: number): number {
    const { at, walk } = this;
    const [median, lower, upper, p90] = this.readers;
    let points = 0;
    // Once the median's interval is decided, only S is read: the quicker walk below. A reader is
    // only asked where it can act: a value at or above its quiet level changes nothing
    // (QuantileReader.quietAbove), S is such a value until it falls below the level (S never
    // rises), and the upper band is at least S.
    const medianQuiet = median.quietAbove;
    const p90Quiet = p90.quietAbove;
    const lowerQuiet = lower.quietAbove + BAND_MARGIN;
    const upperQuiet = upper.quietAbove;
    while (!this.done && points < maxPoints && (!lower.done || !upper.done)) {
      const time = at.next();
      walk.stepWithVariance(at.events, at.censored);
      points++;
      const surv = walk.surv;
      if (surv < medianQuiet) median.readValue(time, surv);
      if (surv < p90Quiet) p90.readValue(time, surv);
      // A band's exponential only where it can be near its level: the lower band is at least its
      // floor, the upper band at least S. Elsewhere reading it would change nothing.
      if (!lower.done && walk.lowerBandFloor() < lowerQuiet) lower.readValue(time, walk.lowerBand());
      if (!upper.done && surv < upperQuiet) upper.readValue(time, walk.upperBand());
      if ((median.done && lower.done && upper.done && p90.done) || at.done) this.done = true;
    }
    return points + (this.done ? 0 : this.advanceSurvival(maxPoints - points));
  }

  /**
   * The walk once only S is read (the median, the P90): the same steps of S, without the variance
   * or the bands, and the readers asked only once S is near enough to a level to matter — S never
   * rises, so every point above the highest level still undecided is passed over.
   */
  private advanceSurvival(maxPoints: number): number {
    const { at, walk, readers } = this;
    let points = 0;
    // Above the highest level still undecided (a decided reader reads nothing more).
    const level = () => Math.max(...readers.map((r) => (r.done ? Number.NEGATIVE_INFINITY : r.quietAbove)));
    let quietAbove = level();
    while (!this.done && points < maxPoints) {
      // Passes every point above the level; stops on the first below it (or the budget, or the end).
      const walked = walk.walkSurvival(at, quietAbove, maxPoints - points);
      points += walked;
      if (walked > 0 && walk.surv < quietAbove) {
        let decided = true;
        for (const r of readers) decided = r.readValue(at.time, walk.surv) && decided;
        if (decided) this.done = true;
        quietAbove = level();
      }
      if (at.done) this.done = true;
    }
    return points;
  }

  summary(): KmSummary {
    const { ends, censored } = this;
    const n = ends.length + censored.length;
    // The end of follow-up is the last duration, ended or not.
    const lastTime = n === 0 ? undefined : Math.max(ends.length ? ends[ends.length - 1] : -Infinity, censored.length ? censored[censored.length - 1] : -Infinity);
    return summaryOf(n, ends.length, this.readers, lastTime);
  }
}

/** SortedKmWalk in one go. */
export function kmSummaryOfSorted(ends: Float64Array, censored: Float64Array, wanted: readonly KmStatistic[] = STATISTICS): KmSummary {
  const walk = new SortedKmWalk(ends, censored, wanted);
  walk.advance(Number.POSITIVE_INFINITY);
  return walk.summary();
}

/** The curve a chart draws (KmCurveWalk), with the group's summary. */
export interface KmDrawnCurve {
  n: number;
  events: number;
  /** Distinct event times: the curve's steps. */
  steps: number;
  /** More steps than the walk's `maxSteps`: the points are then at evenly spaced quantiles of the event times. */
  thinned: boolean;
  points: KmPoint[];
  summary: KmSummary;
}

/**
 * The Kaplan–Meier curve a chart draws, read off a group's sorted durations (as SortedKmWalk
 * reads its summary: the same steps, the same bands, so the same bits as the KPIs): every distinct
 * event time while there are at most `maxSteps`; past that, the event times where the events so
 * far cross each of `maxSteps` evenly spaced shares of all events (quantiles of the event times).
 * Always kept besides: the points the quantiles depend on (where one of R's rules meets its level,
 * on S or on a band of the median's interval) and the end of follow-up, so the summary can be
 * read again off the drawn points alone. `advance` walks a bounded number of values, for a server.
 */
export class KmCurveWalk {
  private readonly walk: ProductLimit;
  private readonly readers = summaryReaders();
  private readonly p = {} as KmPoint;
  private readonly points: KmPoint[] = [];
  /** Counting the distinct event times first (the thinning needs their number), then walking. */
  private counting = true;
  private steps = 0;
  private eventsTo = 0;
  /** How far the counting has got. */
  private counted = 0;
  private readonly at: DistinctTimes;
  done = false;

  constructor(private readonly ends: Float64Array, private readonly censored: Float64Array, private readonly maxSteps: number) {
    if (!(maxSteps >= 1)) throw new Error(`maxSteps must be at least 1 (got ${maxSteps})`);
    this.walk = new ProductLimit(ends.length + censored.length);
    this.at = new DistinctTimes(ends, censored);
    this.done = ends.length + censored.length === 0;
  }

  /** Counts or walks about `budget` values; returns how many. */
  advance(budget: number): number {
    const { ends, walk, readers, p } = this;
    if (this.done) return 0;
    if (this.counting) {
      const end = Math.min(ends.length, this.counted + Math.max(1, budget));
      for (let i = this.counted; i < end; i++) if (i === 0 || ends[i] !== ends[i - 1]) this.steps++;
      const counted = end - this.counted;
      this.counted = end;
      if (end === ends.length) this.counting = false;
      return counted;
    }
    const at = this.at;
    const from = at.walked;
    const total = ends.length;
    const maxSteps = this.maxSteps;
    const [median, lower, upper, p90] = readers;
    while (!this.done && at.walked - from < budget) {
      const time = at.next();
      const events = at.events;
      walk.step(time, events, at.censored, p);
      // A point is kept where a reader's progress changes at it (the quantiles depend on it). The
      // bands' exponentials only where a band can be near its level, as SortedKmWalk reads them:
      // the lower band is at least its floor, the upper band at least S; elsewhere reading one
      // would change nothing. Computing both bands at every step cost the curve of a million
      // cases over a second.
      const progress = median.progress + lower.progress + upper.progress + p90.progress;
      median.readValue(time, p.surv);
      p90.readValue(time, p.surv);
      if (!lower.done && walk.lowerBandFloor() < lower.quietAbove + BAND_MARGIN) lower.readValue(time, walk.lowerBand());
      if (!upper.done && p.surv < upper.quietAbove) upper.readValue(time, walk.upperBand());
      const mark = median.progress + lower.progress + upper.progress + p90.progress !== progress;
      const last = at.done;
      const before = this.eventsTo;
      this.eventsTo += events;
      if (mark || last || (events > 0 && (this.steps <= maxSteps || Math.floor((this.eventsTo * maxSteps) / total) > Math.floor((before * maxSteps) / total)))) {
        walk.bands(p);
        this.points.push({ ...p });
      }
      if (last) this.done = true;
    }
    return at.walked - from;
  }

  result(): KmDrawnCurve {
    if (!this.done) throw new Error('KmCurveWalk: not done yet');
    const n = this.ends.length + this.censored.length;
    const lastTime = this.points.at(-1)?.time;
    return {
      n, events: this.ends.length, steps: this.steps, thinned: this.steps > this.maxSteps, points: this.points,
      summary: summaryOf(n, this.ends.length, this.readers, lastTime),
    };
  }
}
