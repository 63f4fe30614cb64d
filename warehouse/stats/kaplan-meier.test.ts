import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { kaplanMeier, kmQuantile, kmSummary, observationsFrom } from './kaplan-meier.ts';

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
