import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { kaplanMeier, kmQuantile, kmSummary, kmSummaryOfSorted, observationsFrom } from './kaplan-meier.ts';
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
