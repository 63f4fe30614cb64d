import { describe, expect, it } from 'vitest';
import { meanShift } from './change-point.ts';

describe('least-squares change point', () => {
  it('a step: the split whose two means leave the least squared error (hand count)', () => {
    // Splits after 2, 3, 4, 5 values leave squared errors 53.7, 4, 40.75, 53.7 (by hand): after 3.
    const r = meanShift([10, 9, 11, 3, 4, 2, 3]);
    expect(r).toEqual({ index: 3, before: 10, after: 3, n_before: 3, n_after: 4 });
  });

  it('a value near the step that is below the overall median stays with its own segment', () => {
    // Pettitt's rank split would put 8.3 after the step (it is below the median, 8.55).
    expect(meanShift([9, 9.2, 8.8, 9.1, 8.3, 3.5, 3.4, 3.6]).index).toBe(5);
  });

  it('missing values are dropped but the index is in the series’ own positions', () => {
    expect(meanShift([5, null, 5, 5, NaN, 1, 1, 1]).index).toBe(5);
  });

  it('each segment at least minSegment long; too short a series has no split', () => {
    expect(meanShift([1, 9, 9, 9, 9], 2).index).toBe(2);
    expect(meanShift([1, 9, 9, 9, 9], 1).index).toBe(1);
    expect(meanShift([4, 5, 6], 2)).toEqual({ index: null, before: null, after: null, n_before: 0, n_after: 0 });
  });
});
