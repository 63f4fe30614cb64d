// Due times in business hours: an SLA of "16 business hours" counts only the hours the service
// works, in its calendar's time zone, skipping weekends and holidays.
import { localToUtcMs, zoneOffsetMs } from './time-zone.ts';

export interface BusinessCalendar {
  timezone: string;
  /** Working hours per weekday, local "HH:MM"; a day not listed is closed. */
  hours: Partial<Record<'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat', [string, string]>>;
  /** Local dates (YYYY-MM-DD) with no working hours. */
  holidays: readonly string[];
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

/** The instant `hours` working hours after `startMs` (a start outside hours counts from the next opening). */
export function addBusinessHours(startMs: number, hours: number, cal: BusinessCalendar): number {
  if (!Object.values(cal.hours).some(Boolean)) throw new Error('the calendar has no working hours');
  const holidays = new Set(cal.holidays);
  let remaining = Math.round(hours * 60); // minutes
  // Walk local days from the start's local date.
  const local = new Date(startMs + zoneOffsetMs(startMs, cal.timezone));
  let y = local.getUTCFullYear();
  let mo = local.getUTCMonth() + 1;
  let d = local.getUTCDate();
  let fromMinute = local.getUTCHours() * 60 + local.getUTCMinutes() + local.getUTCSeconds() / 60;
  for (let guard = 0; guard < 3660; guard++) {
    const date = new Date(Date.UTC(y, mo - 1, d));
    const iso = date.toISOString().slice(0, 10);
    const span = cal.hours[DAYS[date.getUTCDay()]];
    if (span && !holidays.has(iso)) {
      const open = minutes(span[0]);
      const close = minutes(span[1]);
      const begin = Math.max(open, fromMinute);
      const available = Math.max(0, close - begin);
      if (remaining <= available) {
        const at = begin + remaining;
        return localToUtcMs(cal.timezone, y, mo, d, Math.floor(at / 60), Math.floor(at % 60), Math.round((at % 1) * 60));
      }
      remaining -= available;
    }
    const next = new Date(Date.UTC(y, mo - 1, d + 1));
    [y, mo, d] = [next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()];
    fromMinute = 0;
  }
  throw new Error('no due time within ten years: check the calendar');
}
