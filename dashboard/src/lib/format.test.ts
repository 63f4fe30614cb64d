import { describe, expect, it } from 'vitest';
import { changeIsGood, formatChange, formatSeconds, formatValue, pctOf } from './format.ts';

describe('dashboard figures', () => {
  it('a share with its denominator, or too few cases', () => {
    expect(pctOf(0.6963, 7983)).toBe('69.6% of 7,983');
    expect(pctOf(1, 8)).toBe('too few cases');
    expect(pctOf(null, 100)).toBe('—');
  });

  it('changes in words with their unit: percentage points as the API gives them', () => {
    expect(formatChange(0.778, 'share')).toBe('up 0.8 percentage points');
    expect(formatChange(-1, 'share')).toBe('down 1.0 percentage point');
    expect(formatChange(-1.69, 'hours')).toBe('down 1.7 h');
    expect(formatChange(-6, 'cases', 8340)).toBe('down 6 cases (0.1%)');
    expect(formatChange(0, 'cases', 5)).toBe('no change');
    expect(formatChange(null, 'cases')).toBe('no earlier figure to compare');
  });

  it('knows which way is better', () => {
    expect(changeIsGood('on_time_rate', 0.5)).toBe(true);
    expect(changeIsGood('median_hours_to_close', 2)).toBe(false);
    expect(changeIsGood('backlog', -3)).toBe(true);
    expect(changeIsGood('opened', 10)).toBe(null);
  });

  it('call-handling durations keep their precision', () => {
    expect(formatSeconds(8.25)).toBe('8 s');
    expect(formatSeconds(null)).toBe('—');
    expect(formatSeconds(95)).toBe('95 s');
    expect(formatSeconds(511.6)).toBe('8.5 min');
    expect(formatValue(46.3, 'hours', 7874)).toBe('46 h');
    expect(formatValue(46.3, 'hours', 12)).toBe('too few cases');
  });
});
