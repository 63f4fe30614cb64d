import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { kaplanMeier, KmCurveWalk, kmQuantile, kmSummary, kmSummaryOfSorted, observationsFrom, SortedKmWalk, type KmCurve, type KmPoint } from './kaplan-meier.ts';
import { seededRandom } from './random.ts';

const known = JSON.parse(readFileSync(new URL('../../test/fixtures/known_answers.json', import.meta.url), 'utf8'));

describe('Kaplan–Meier against R survival (km_aml_R_survival)', () => {
  for (const arm of ['Maintained', 'Nonmaintained'] as const) {
    const ref = known.km_aml_R_survival[arm];
    const curve = kaplanMeier(observationsFrom(ref.time, ref.status));
    it(`${arm}: every row of summary(survfit) to the printed precision`, () => {
      const eventRows = curve.points.filter((p) => p.n_event > 0);
      expect(eventRows).toHaveLength(ref.table.length);
      ref.table.forEach((row: (number | null)[], i: number) => {
        const [time, nRisk, nEvent, surv, se, lower, upper] = row;
        const p = eventRows[i];
        expect(p.time).toBe(time);
        expect(p.n_risk).toBe(nRisk);
        expect(p.n_event).toBe(nEvent);
        const digits = (v: number) => (String(v).split('.')[1]?.length ?? 0);
        expect(p.surv).toBeCloseTo(surv as number, digits(surv as number) - 1);
        if (se === null) expect(p.std_err).toBeNull();
        else expect(p.std_err!).toBeCloseTo(se, digits(se) - 1);
        if (lower === null) expect(p.lower).toBeNull();
        else expect(p.lower!).toBeCloseTo(lower, digits(lower) - 1);
        if (upper === null) expect(p.upper).toBeNull();
        else expect(p.upper!).toBeCloseTo(upper, Math.max(0, digits(upper) - 1));
      });
    });
    it(`${arm}: median ${ref.median} with CI (${ref.median_LCL}, ${ref.median_UCL ?? 'NA'})`, () => {
      const s = kmSummary(curve);
      expect(s.n).toBe(ref.n);
      expect(s.events).toBe(ref.events);
      expect(s.median).toBe(ref.median);
      expect(s.median_lower).toBe(ref.median_LCL);
      expect(s.median_upper).toBe(ref.median_UCL);
    });
  }

  it('quantiles on a flat stretch take its midpoint (km_quantile_flat_R)', () => {
    const ref = known.km_quantile_flat_R;
    const curve = kaplanMeier(observationsFrom(ref.time, ref.status));
    ref.survival_levels.forEach((level: number, i: number) => {
      expect(kmQuantile(curve, 1 - level)).toBe(ref.quantile_times[i]);
    });
  });

  it('returns no median while more than half are still open', () => {
    const curve = kaplanMeier(observationsFrom([1, 2, 3, 4], [1, 0, 0, 0]));
    expect(kmSummary(curve).median).toBeNull();
  });
});

describe('kmSummaryOfSorted (the KPIs: read straight off sorted durations)', () => {
  const whole = (ends: number[], censored: number[]) =>
    kmSummary(kaplanMeier(observationsFrom([...ends, ...censored], [...ends.map(() => 1 as const), ...censored.map(() => 0 as const)])));
  const sorted = (ends: number[], censored: number[]) =>
    kmSummaryOfSorted(Float64Array.from(ends).sort(), Float64Array.from(censored).sort());

  it('gives kmSummary(kaplanMeier(…)) to the bit on random groups', () => {
    const rnd = seededRandom(20261129);
    let compared = 0;
    let withUpper = 0;
    for (let g = 0; g < 400; g++) {
      // Few distinct times make ties between ends and between ends and censored cases; the share
      // censored runs from none to all, so some curves reach zero and some never reach 0.5.
      const n = 1 + Math.floor(rnd() * (g % 3 === 0 ? 12 : 400));
      const distinct = 1 + Math.floor(rnd() * (g % 2 ? 6 : 5000));
      const share = rnd() ** 2;
      const ends: number[] = [];
      const censored: number[] = [];
      for (let i = 0; i < n; i++) (rnd() < share ? censored : ends).push(Math.floor(rnd() * distinct) * 60.5);
      const got = sorted(ends, censored);
      const want = whole(ends, censored);
      expect(got, `group ${g}`).toEqual(want);
      // Only some quantiles wanted: those the same, the others null.
      const medianOnly = kmSummaryOfSorted(Float64Array.from(ends).sort(), Float64Array.from(censored).sort(), ['median']);
      expect(medianOnly, `group ${g}`).toEqual({ ...want, median_lower: null, median_upper: null, p90: null });
      if (got.median_upper !== null) withUpper++;
      compared++;
    }
    expect(compared).toBe(400);
    expect(withUpper).toBeGreaterThan(100);
  });

  it('gives kmSummary(kaplanMeier(…)) to the bit on large groups, whose bands lie close to S (a city\'s week of one service)', () => {
    // Thousands of cases: the median's interval is narrow, so the bands reach 0.5 within a few
    // points of S — where a walk that passes over the bands far from their level must not skip.
    const rnd = seededRandom(1129);
    for (let g = 0; g < 12; g++) {
      const n = 20_000 + Math.floor(rnd() * 40_000);
      const distinct = g % 2 ? 3_000 : 2_000_000;
      const share = g % 3 === 0 ? 0 : rnd() * 0.4;
      const ends: number[] = [];
      const censored: number[] = [];
      for (let i = 0; i < n; i++) (rnd() < share ? censored : ends).push(Math.floor(rnd() ** 3 * distinct));
      const got = sorted(ends, censored);
      expect(got, `group ${g}`).toEqual(whole(ends, censored));
      expect(got.median_upper, `group ${g}`).not.toBeNull();
    }
  });

  it('keeps R\'s rules: a flat stretch at the level, a band that rises again, nothing ended, no case', () => {
    const ref = known.km_quantile_flat_R;
    const ends = ref.time.filter((_: number, i: number) => ref.status[i]);
    const censored = ref.time.filter((_: number, i: number) => !ref.status[i]);
    expect(sorted(ends, censored)).toEqual(whole(ends, censored));
    // S sits at exactly 0.5 from 5 on and the last case is censored at 19: the midpoint.
    const half = [1, 2, 3, 4, 5];
    expect(sorted(half, [19, 19, 19, 19, 19]).median).toBe((5 + 19) / 2);
    // The upper band falls to 0.5 and rises above it (most of the rest censored, then one more end).
    const rise = [...Array.from({ length: 540 }, (_, i) => 10 + i), 700, 900];
    const riseCensored = [...Array.from({ length: 450 }, () => 600), ...Array.from({ length: 8 }, () => 800)];
    expect(sorted(rise, riseCensored)).toEqual(whole(rise, riseCensored));
    expect(sorted([], [1, 2, 3])).toEqual({ n: 3, events: 0, median: null, median_lower: null, median_upper: null, p90: null });
    expect(sorted([], [])).toEqual(whole([], []));
  });

  it('reads the same summary as the AML reference', () => {
    const ref = known.km_aml_R_survival.Maintained;
    const ends = ref.time.filter((_: number, i: number) => ref.status[i]);
    const censored = ref.time.filter((_: number, i: number) => !ref.status[i]);
    const s = sorted(ends, censored);
    expect(s.median).toBe(ref.median);
    expect(s).toEqual(whole(ends, censored));
  });
});

describe('kmQuantile (R\'s rule, read point by point)', () => {
  // The rule as first written, a loop with a look-ahead over the whole curve: the reader-based
  // kmQuantile (and so kmSummary and kmSummaryOfSorted) must give what it gives.
  const TOL = Math.sqrt(Number.EPSILON);
  function lookAhead(curve: KmCurve, q: number, band: 'surv' | 'lower' | 'upper'): number | null {
    const target = 1 - q;
    const pts = curve.points;
    const value = (p: KmPoint) => (band === 'surv' ? p.surv : band === 'lower' ? p.lower : p.upper);
    for (let i = 0; i < pts.length; i++) {
      const s = value(pts[i]);
      if (s === null) continue;
      if (Math.abs(s - target) < TOL) {
        const next = pts.slice(i + 1).find((p) => {
          const v = value(p);
          return v !== null && v < target - TOL;
        });
        return (pts[i].time + (next ?? pts[pts.length - 1]).time) / 2;
      }
      if (s < target) return pts[i].time;
    }
    return null;
  }

  it('gives what the look-ahead loop gives, on random curves with flat stretches at the levels', () => {
    const rnd = seededRandom(7);
    let flat = 0;
    for (let g = 0; g < 300; g++) {
      // Groups of 2, 4, 10 or 20 with integer times: S lands exactly on 0.5 or 0.1 often.
      const n = [2, 4, 10, 20, 1 + Math.floor(rnd() * 60)][g % 5];
      const times = Array.from({ length: n }, () => 1 + Math.floor(rnd() * 8));
      const status = times.map(() => (rnd() < 0.8 ? 1 : 0) as 0 | 1);
      const curve = kaplanMeier(observationsFrom(times, status));
      for (const [q, band] of [[0.5, 'surv'], [0.5, 'lower'], [0.5, 'upper'], [0.9, 'surv']] as const) {
        const want = lookAhead(curve, q, band);
        expect(kmQuantile(curve, q, band), `${g} ${q} ${band}`).toBe(want);
        if (want !== null && !Number.isInteger(want)) flat++;
      }
    }
    expect(flat).toBeGreaterThan(20);
  });

  it('walks in bounded steps to the same summary, and refuses a NaN duration', () => {
    const whole = (e: number[], c: number[]) => kmSummary(kaplanMeier(observationsFrom([...e, ...c], [...e.map(() => 1 as const), ...c.map(() => 0 as const)])));
    const ends = Float64Array.from([1, 2, 2, 3, 5, 8, 8, 9, 12, 13, 13, 20]);
    const censored = Float64Array.from([2, 4, 8, 15, 30]);
    const walked = (wanted?: Parameters<typeof kmSummaryOfSorted>[2]) => {
      const walk = new SortedKmWalk(ends, censored, wanted);
      let steps = 0;
      while (!walk.done) {
        expect(walk.advance(1)).toBe(1);
        steps++;
      }
      return { steps, summary: walk.summary() };
    };
    const all = walked();
    expect(all.summary).toEqual(kmSummaryOfSorted(ends, censored));
    expect(all.summary).toEqual(whole([...ends], [...censored]));
    // 12 distinct times; the median alone is decided at the 7th (S = 0.55 at 8, 0.47 at 9), and the walk stops there.
    const median = walked(['median']);
    expect(median.summary).toEqual({ ...all.summary, median_lower: null, median_upper: null, p90: null });
    expect(median.steps).toBe(7);
    expect(() => kmSummaryOfSorted(Float64Array.from([1, Number.NaN]), new Float64Array(0))).toThrow(/not a number/);
  });
});

describe('KmCurveWalk (the drawn curve: read straight off sorted durations)', () => {
  const full = (ends: number[], censored: number[]) =>
    kaplanMeier(observationsFrom([...ends, ...censored], [...ends.map(() => 1 as const), ...censored.map(() => 0 as const)]));
  const drawn = (ends: number[], censored: number[], maxSteps: number, budget: number) => {
    const walk = new KmCurveWalk(Float64Array.from(ends).sort(), Float64Array.from(censored).sort(), maxSteps);
    while (!walk.done) walk.advance(budget);
    return walk.result();
  };

  it('draws the exact curve\'s points, bands and all, every step or the evenly spaced ones, with every point the quantiles depend on', () => {
    const rnd = seededRandom(20261130);
    let thinned = 0;
    let whole = 0;
    for (let g = 0; g < 300; g++) {
      const n = 1 + Math.floor(rnd() * (g % 4 === 0 ? 15 : g % 25 === 1 ? 30_000 : 600));
      const distinct = 1 + Math.floor(rnd() * (g % 2 ? 8 : 2_000_000));
      // None censored, some, or all (a group with no end: no step, only the end of follow-up).
      const share = g % 5 === 0 ? 0 : g % 11 === 3 ? 1 : rnd() ** 2;
      const ends: number[] = [];
      const censored: number[] = [];
      for (let i = 0; i < n; i++) (rnd() < share ? censored : ends).push(Math.floor(rnd() ** 2 * distinct) * 0.25);
      const maxSteps = [1, 3, 40, 100_000][g % 4];
      const ref = full(ends, censored);
      const c = drawn(ends, censored, maxSteps, 1 + Math.floor(rnd() * 50));
      const at = new Map(ref.points.map((p) => [p.time, p]));
      // Every drawn point is the exact curve's at its time, field for field (S, the bands, the counts).
      for (const p of c.points) expect(p, `group ${g} at ${p.time}`).toEqual(at.get(p.time));
      expect(c.points.map((p) => p.time), `group ${g}: in order`).toEqual([...new Set(c.points.map((p) => p.time))].sort((a, b) => a - b));
      const steps = ref.points.filter((p) => p.n_event > 0);
      expect([c.n, c.events, c.steps, c.thinned], `group ${g}`).toEqual([ref.n, ref.events, steps.length, steps.length > maxSteps]);
      // The end of follow-up, and the event times: all of them, or those where the events so far cross each of maxSteps shares.
      const times = new Set(c.points.map((p) => p.time));
      if (ref.points.length) expect(times.has(ref.points.at(-1)!.time), `group ${g}: end of follow-up`).toBe(true);
      let sofar = 0;
      for (const p of steps) {
        const before = sofar;
        sofar += p.n_event;
        const crosses = Math.floor((sofar * maxSteps) / ref.events) > Math.floor((before * maxSteps) / ref.events);
        if (!c.thinned || crosses) expect(times.has(p.time), `group ${g}: step at ${p.time}`).toBe(true);
      }
      // R's quantile rules read off the drawn points alone give the whole curve's summary.
      expect(kmSummary({ n: c.n, events: c.events, points: c.points }), `group ${g}`).toEqual(kmSummary(ref));
      expect(c.summary, `group ${g}`).toEqual(kmSummary(ref));
      if (c.thinned) thinned++;
      else if (ref.points.length) whole++;
    }
    expect(thinned).toBeGreaterThan(100);
    expect(whole).toBeGreaterThan(50);
    // No case at all: no point, and the empty summary.
    const none = drawn([], [], 10, 5);
    expect(none).toEqual({ n: 0, events: 0, steps: 0, thinned: false, points: [], summary: kmSummary({ n: 0, events: 0, points: [] }) });
  });
});
