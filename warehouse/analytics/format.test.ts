// The one display rule (DESIGN.md "Showing numbers"), used by sentences, the dashboard and reports.
import { describe, expect, it } from 'vitest';
import { formatHours, formatHoursRange, formatShare, tooFewCases } from './format.ts';

describe('display rules', () => {
  it('hours under 48 h, then days, with the unit', () => {
    expect(formatHours(5.25)).toBe('5.3 h');
    expect(formatHours(47.7)).toBe('48 h');
    expect(formatHours(48)).toBe('2.0 days');
    expect(formatHours(300)).toBe('13 days');
    expect(formatHours(null)).toBe('—');
    expect(formatHours(Number.NaN)).toBe('—');
  });

  it('an interval reads in one unit, its upper end’s', () => {
    expect(formatHoursRange(47.7, 55.2)).toBe('2.0 to 2.3 days');
    expect(formatHoursRange(16.2, 20.4)).toBe('16 to 20 h');
    expect(formatHoursRange(3, 9.5)).toBe('3.0 to 9.5 h');
    expect(formatHoursRange(74, null)).toBe('from 3.1 days, open-ended');
    expect(formatHoursRange(null, 20)).toBe('—');
  });

  it('a percentage carries its denominator, and under the minimum reads "too few cases"', () => {
    expect(formatShare(8, 8, 20)).toBe('too few cases');
    expect(formatShare(30, 40, 20)).toBe('75.0% (of 40)');
    expect(tooFewCases(19, 20)).toBe(true);
    expect(tooFewCases(20, 20)).toBe(false);
    expect(tooFewCases(null, 20)).toBe(true);
  });
});
