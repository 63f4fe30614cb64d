import { describe, expect, it } from 'vitest';
import { naturalBreaks } from './natural-breaks.ts';

describe('naturalBreaks', () => {
  it('finds the gaps: three tight groups in three classes', () => {
    const b = naturalBreaks([1, 2, 3, 10, 11, 12, 30, 31], 3);
    expect(b.k).toBe(3);
    expect(b.classes).toEqual([{ lower: 1, upper: 3 }, { lower: 10, upper: 12 }, { lower: 30, upper: 31 }]);
    expect(b.classOf).toEqual([0, 0, 0, 1, 1, 1, 2, 2]);
  });

  it('k = min(5, distinct values): two distinct values make two classes, in the input order', () => {
    const b = naturalBreaks([7, 3, 7, 3, 3]);
    expect(b.k).toBe(2);
    expect(b.classOf).toEqual([1, 0, 1, 0, 0]);
    expect(naturalBreaks([4, 4, 4]).classOf).toEqual([0, 0, 0]);
  });

  it('at most five classes, none empty; nothing to classify is no class', () => {
    const values = Array.from({ length: 40 }, (_, i) => (i * 37) % 101);
    const b = naturalBreaks(values);
    expect(b.k).toBe(5);
    expect(new Set(b.classOf).size).toBe(5);
    for (let i = 0; i < values.length; i++) {
      const c = b.classes[b.classOf[i]];
      expect(values[i]).toBeGreaterThanOrEqual(c.lower);
      expect(values[i]).toBeLessThanOrEqual(c.upper);
    }
    expect(naturalBreaks([])).toEqual({ k: 0, classes: [], classOf: [] });
    expect(() => naturalBreaks([1, NaN])).toThrow(RangeError);
  });
});
