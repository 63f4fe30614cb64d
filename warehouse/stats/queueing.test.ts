// The what-if's model against cases worked by hand.
import { describe, expect, it } from 'vitest';
import {
  applyMoves, backtestErrors, fitThroughput, meanBacklog, MoveError, onTimeShare, projectBacklog, projectWeeks, survivalAt, timeInSystemWeeks,
} from './queueing.ts';

describe('projectBacklog (weekly fluid queue)', () => {
  it('2 weeks, arrivals 10 and 10, backlog 5, 2 crews × 6 a week: backlogs 3 then 1, 12 closed each week', () => {
    // 5 + 10 − 12 = 3; 3 + 10 − 12 = 1.
    expect(projectBacklog(5, [10, 10], [2 * 6, 2 * 6])).toEqual({ backlog: [3, 1], closures: [12, 12] });
  });

  it('capacity is capped by what there is to close: backlog 2, 3 arrive, capacity 12 closes 5, not 12', () => {
    expect(projectBacklog(2, [3, 0], [12, 12])).toEqual({ backlog: [0, 0], closures: [5, 0] });
  });

  it('a move that empties an area: no crews, nothing closes, every arrival waits', () => {
    expect(projectBacklog(5, [10, 10, 4], [0, 0, 0])).toEqual({ backlog: [15, 25, 29], closures: [0, 0, 0] });
  });

  it('refuses weeks without a capacity', () => {
    expect(() => projectBacklog(0, [1, 2], [3])).toThrow(/one capacity per week/);
  });
});

describe("Little's law and the on-time share", () => {
  it('mean backlog of a week: a straight line from start to end, or to 0 where the crews empty it mid-week', () => {
    // 5 → 3: mean 4.
    expect(meanBacklog(5, 10, 12)).toBe(4);
    // 2 with 3 arriving and capacity 12: it drains at 12 − 3 = 9 a week, empty after 2/9 of the week: mean 2 × (2/9) / 2 = 2/9.
    expect(meanBacklog(2, 3, 12)).toBeCloseTo(2 / 9, 12);
    // An observed week that ended empty (closures = start + arrivals as its capacity): the straight line, 2/2.
    expect(meanBacklog(2, 3, 5)).toBe(1);
    // No crews: it only grows, 5 → 15.
    expect(meanBacklog(5, 10, 0)).toBe(10);
  });

  it('time in system: mean backlog ÷ closures', () => {
    expect(timeInSystemWeeks(4, 12)).toBeCloseTo(4 / 12, 12);
    expect(timeInSystemWeeks(0, 7)).toBe(0);
    expect(timeInSystemWeeks(10, 0)).toBe(Infinity);
    expect(timeInSystemWeeks(0, 0)).toBeNull();
  });

  // Half the cases close by 24 h, 80% by 48 h, then the curve stops (20% censored).
  const curve = [{ hours: 24, survival: 0.5 }, { hours: 48, survival: 0.2 }];

  it('reads the KM curve as a step function', () => {
    expect(survivalAt(curve, 10)).toBe(1);
    expect(survivalAt(curve, 24)).toBe(0.5);
    expect(survivalAt(curve, 47.9)).toBe(0.5);
    expect(survivalAt(curve, 1000)).toBe(0.2);
  });

  it('scales the observed time to close by the projected time in system', () => {
    // SLA 48 h. As observed (1 week against 1 week): F(48) = 0.8.
    expect(onTimeShare(curve, 48, 1, 1)).toBeCloseTo(0.8, 12);
    // Twice as long in the system: F(48 × 1/2) = F(24) = 0.5.
    expect(onTimeShare(curve, 48, 1, 2)).toBeCloseTo(0.5, 12);
    // Four times as long: F(12) = 0.
    expect(onTimeShare(curve, 48, 1, 4)).toBe(0);
    // Half as long: F(96) = the curve's last step, 0.8.
    expect(onTimeShare(curve, 48, 1, 0.5)).toBeCloseTo(0.8, 12);
    // Nothing waits: F at infinity; cases wait and nothing closes: F(0) = 0.
    expect(onTimeShare(curve, 48, 1, 0)).toBeCloseTo(0.8, 12);
    expect(onTimeShare(curve, 48, 1, Infinity)).toBe(0);
    // No SLA, no reference, no cases: no figure.
    expect(onTimeShare(curve, null, 1, 1)).toBeNull();
    expect(onTimeShare(curve, 48, null, 1)).toBeNull();
    expect(onTimeShare(curve, 48, 1, null)).toBeNull();
  });

  it('projectWeeks: backlog, closures, time in system and on time per week', () => {
    const w = projectWeeks(5, [10, 10], [12, 12], curve, 48, 1 / 3);
    expect(w.map((x) => x.backlog)).toEqual([3, 1]);
    // Week 1: (5 + 3)/2 ÷ 12 = 1/3 week = the reference: F(48) = 0.8. Week 2: (3 + 1)/2 ÷ 12 = 1/6: F(96) = 0.8.
    expect(w[0].time_in_system_weeks).toBeCloseTo(1 / 3, 12);
    expect(w[0].on_time).toBeCloseTo(0.8, 12);
    expect(w[1].time_in_system_weeks).toBeCloseTo(1 / 6, 12);
    expect(w[1].on_time).toBeCloseTo(0.8, 12);
    // Reference 1 week, SLA 48 h: 2 crews × 6 against backlog 12 and 12 a week: 12 → 12, W = 1 week, F(48) = 0.8;
    // one crew: 12 → 18, mean 15 ÷ 6 closed = 2.5 weeks, F(48 ÷ 2.5 = 19.2 h) = 0.
    expect(projectWeeks(12, [12], [12], curve, 48, 1)[0].on_time).toBeCloseTo(0.8, 12);
    expect(projectWeeks(12, [12], [6], curve, 48, 1)[0]).toMatchObject({ backlog: 18, closures: 6, time_in_system_weeks: 2.5, on_time: 0 });
    // Emptied: (5 + 15)/2 ÷ 0 = ∞ → F(0) = 0.
    expect(projectWeeks(5, [10], [0], curve, 48, 1 / 3)[0]).toEqual({ backlog: 15, closures: 0, time_in_system_weeks: Infinity, on_time: 0 });
  });
});

describe('fitThroughput', () => {
  it('throughput from busy weeks only (backlog at both ends); Little over every week', () => {
    const f = fitThroughput([
      { backlog_start: 4, backlog_end: 6, arrivals: 12, closures: 10 }, // busy
      { backlog_start: 6, backlog_end: 2, arrivals: 10, closures: 14 }, // busy
      { backlog_start: 2, backlog_end: 0, arrivals: 3, closures: 5 }, // ran out of work: not a measure of capacity
    ]);
    expect(f.busy_weeks).toBe(2);
    expect(f.closures_per_busy_week).toBe(12);
    expect(f.closures_per_week).toBeCloseTo(29 / 3, 12);
    expect(f.arrivals_per_week).toBeCloseTo(25 / 3, 12);
    // Σ mean backlog = 5 + 4 + 1 (the last week ended empty: closures as capacity give the straight line) = 10 over 29 closures.
    expect(f.time_in_system_weeks).toBeCloseTo(10 / 29, 12);
  });

  it('no busy week: no throughput; nothing closed: no time in system', () => {
    const f = fitThroughput([{ backlog_start: 0, backlog_end: 0, arrivals: 0, closures: 0 }]);
    expect(f.closures_per_busy_week).toBeNull();
    expect(f.time_in_system_weeks).toBeNull();
  });
});

describe('backtestErrors', () => {
  it('MAE and mean error of backlog and on time; weeks without an on-time figure left out of the latter', () => {
    const e = backtestErrors([
      { projected_backlog: 10, actual_backlog: 8, projected_on_time: 0.8, actual_on_time: 0.7 },
      { projected_backlog: 6, actual_backlog: 10, projected_on_time: 0.6, actual_on_time: null },
    ]);
    expect(e.weeks).toBe(2);
    expect(e.mae_backlog).toBe(3); // (2 + 4) / 2
    expect(e.bias_backlog).toBe(-1); // (2 − 4) / 2
    expect(e.mae_on_time).toBeCloseTo(0.1, 12);
    expect(e.bias_on_time).toBeCloseTo(0.1, 12);
    expect(e.on_time_weeks).toBe(1);
  });
});

describe('applyMoves', () => {
  const crews = new Map([['D2', 4], ['D6', 3], ['D3', 1]]);
  it('moves crews and keeps their total', () => {
    const after = applyMoves(crews, [{ from: 'D2', to: 'D6', crews: 2 }, { from: 'D3', to: 'D6', crews: 1 }]);
    expect(Object.fromEntries(after)).toEqual({ D2: 2, D6: 6, D3: 0 });
    expect([...after.values()].reduce((a, b) => a + b)).toBe(8);
  });
  it('refuses more crews than an area has, counting the moves before it', () => {
    expect(() => applyMoves(crews, [{ from: 'D2', to: 'D6', crews: 5 }])).toThrow(/takes 5 crews from D2, which has 4$/);
    expect(() => applyMoves(crews, [{ from: 'D2', to: 'D6', crews: 3 }, { from: 'D2', to: 'D3', crews: 2 }])).toThrow(/which has 1 after the moves before it/);
    expect(() => applyMoves(crews, [{ from: 'D2', to: 'D2', crews: 1 }])).toThrow(MoveError);
    expect(() => applyMoves(crews, [{ from: 'D2', to: 'D6', crews: 0 }])).toThrow(/more than 0/);
  });
});
