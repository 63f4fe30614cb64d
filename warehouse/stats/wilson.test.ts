import { describe, expect, it } from 'vitest';
import { wilsonInterval } from './wilson.ts';

describe('wilsonInterval', () => {
  it('81 of 263 at 95% is [0.2553, 0.3662] (worked by hand: p̂ = 0.307985, z² = 3.841459, centre 0.315288 ± 0.056271, ÷ 1.014606)', () => {
    const i = wilsonInterval(81, 263)!;
    expect(i.lower).toBeCloseTo(0.255288, 5);
    expect(i.upper).toBeCloseTo(0.36621, 5);
    expect(+i.lower.toFixed(4)).toBe(0.2553);
    expect(+i.upper.toFixed(4)).toBe(0.3662);
  });

  it('0 of 10 is [0, z²/n ÷ (1 + z²/n)] = [0, 0.27753] and 10 of 10 its mirror', () => {
    const z2n = 1.959963984540054 ** 2 / 10;
    expect(wilsonInterval(0, 10)).toEqual({ lower: 0, upper: expect.closeTo(z2n / (1 + z2n), 12) });
    expect(wilsonInterval(0, 10)!.upper).toBeCloseTo(0.27753, 5);
    const all = wilsonInterval(10, 10)!;
    expect(all.upper).toBe(1);
    expect(all.lower).toBeCloseTo(1 - 0.27753, 5);
  });

  it('5 of 10 at 90% is symmetric about one half: 0.5 ± z·√(0.025 + z²/400) ÷ (1 + z²/10), z = 1.644854', () => {
    const z = 1.6448536269514722;
    const half = (z * Math.sqrt(0.025 + (z * z) / 400)) / (1 + (z * z) / 10);
    const i = wilsonInterval(5, 10, 0.9)!;
    expect(i.lower).toBeCloseTo(0.5 - half, 12);
    expect(i.upper).toBeCloseTo(0.5 + half, 12);
    expect(i.lower).toBeCloseTo(0.2693, 4);
  });

  it('no trials: no interval; impossible counts are an error', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 2, 1)).toThrow(RangeError);
  });
});
