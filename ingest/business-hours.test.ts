import { describe, expect, it } from 'vitest';
import { addBusinessHours, type BusinessCalendar } from './business-hours.ts';

const cityHall: BusinessCalendar = {
  timezone: 'America/New_York',
  hours: { mon: ['08:00', '17:00'], tue: ['08:00', '17:00'], wed: ['08:00', '17:00'], thu: ['08:00', '17:00'], fri: ['08:00', '17:00'] },
  holidays: ['2026-11-26'], // Thanksgiving
};
const iso = (ms: number) => new Date(ms).toISOString();

describe('addBusinessHours', () => {
  it('carries over the weekend: Friday 16:00 + 4 h = Monday 11:00', () => {
    // 2026-11-20 is a Friday; 16:00 EST = 21:00Z; Monday 11:00 EST = 16:00Z.
    expect(iso(addBusinessHours(Date.parse('2026-11-20T21:00:00Z'), 4, cityHall))).toBe('2026-11-23T16:00:00.000Z');
  });

  it('skips holidays: Wednesday 15:00 + 9 h passes Thanksgiving to Friday 15:00', () => {
    expect(iso(addBusinessHours(Date.parse('2026-11-25T20:00:00Z'), 9, cityHall))).toBe('2026-11-27T20:00:00.000Z');
  });

  it('counts from the next opening when a case arrives at night', () => {
    // Tuesday 23:30 EST + 1 h = Wednesday 09:00 EST.
    expect(iso(addBusinessHours(Date.parse('2026-11-18T04:30:00Z'), 1, cityHall))).toBe('2026-11-18T14:00:00.000Z');
  });

  it('keeps local hours across a DST change', () => {
    // Friday 2026-03-06 16:00 EST + 2 h → Monday 2026-03-09 09:00 EDT (13:00Z, not 14:00Z).
    expect(iso(addBusinessHours(Date.parse('2026-03-06T21:00:00Z'), 2, cityHall))).toBe('2026-03-09T13:00:00.000Z');
  });

  it('refuses a calendar without working hours', () => {
    expect(() => addBusinessHours(0, 1, { timezone: 'UTC', hours: {}, holidays: [] })).toThrow(/no working hours/);
  });
});
