// Business calendars (working hours, holidays) and the due times they give: a service whose
// `sla_calendar` names a calendar counts its SLA in that calendar's working hours.
import Type from 'typebox';
import Value from 'typebox/value';
import { readFileSync } from 'node:fs';
import type { Warehouse } from '../warehouse/db.ts';
import { addBusinessHours, type BusinessCalendar } from './business-hours.ts';
import { isValidTimeZone } from './time-zone.ts';
import { MappingError } from './map-sql.ts';
import { refreshSettledMasks } from '../warehouse/analytics/settled-masks.ts';

const Span = Type.Tuple([Type.String({ pattern: '^\\d{2}:\\d{2}$' }), Type.String({ pattern: '^\\d{2}:\\d{2}$' })]);
const Day = Type.Optional(Span);
export const CalendarFile = Type.Array(
  Type.Object(
    {
      calendar_id: Type.String({ minLength: 1 }),
      timezone: Type.String({ minLength: 1 }),
      hours: Type.Object({ sun: Day, mon: Day, tue: Day, wed: Day, thu: Day, fri: Day, sat: Day }, { additionalProperties: false }),
      holidays: Type.Array(Type.String({ format: 'date' }), { default: [] }),
    },
    { additionalProperties: false },
  ),
);

/** Loads (or replaces) calendars from a JSON file, then re-dates the cases of services that use them. */
export async function loadCalendars(wh: Warehouse, file: string): Promise<{ calendars: number; cases_redated: number }> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MappingError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const value = Value.Default(CalendarFile, json);
  if (!Value.Check(CalendarFile, value)) {
    const e = Value.Errors(CalendarFile, value).find((x) => x.keyword !== 'boolean')!;
    throw new MappingError(`${file}: ${e.instancePath || '/'} ${e.message}`);
  }
  for (const c of value) if (!isValidTimeZone(c.timezone)) throw new MappingError(`${file}: calendar "${c.calendar_id}": "${c.timezone}" is not an IANA time zone`);
  return wh.transaction(async () => {
    for (const c of value) {
      await wh.run(`INSERT OR REPLACE INTO calendars VALUES ($id, $tz, $hours, $holidays::VARCHAR::DATE[])`, {
        id: c.calendar_id, tz: c.timezone, hours: JSON.stringify(c.hours), holidays: `[${c.holidays.join(', ')}]`,
      });
    }
    const redated = await applyBusinessDueTimes(wh, { all: true });
    return { calendars: value.length, cases_redated: redated };
  });
}

/**
 * Recomputes due times in business hours for the cases a batch touched (or all cases, or those of
 * some services) whose service has a calendar — unless the source gave its own due time.
 */
export async function applyBusinessDueTimes(wh: Warehouse, scope: { batchId?: string; serviceCodesTable?: string; all?: boolean }): Promise<number> {
  const calendars = new Map(
    (await wh.all<{ calendar_id: string; timezone: string; business_hours: string; holidays: string[] | null }>(
      `SELECT calendar_id, timezone, business_hours, list_transform(holidays, d -> strftime(d, '%Y-%m-%d')) AS holidays FROM calendars`,
    )).map((c) => [c.calendar_id, { timezone: c.timezone, hours: JSON.parse(c.business_hours), holidays: c.holidays ?? [] } as BusinessCalendar]),
  );
  if (calendars.size === 0) return 0;
  const which = scope.batchId
    ? `AND c.case_id IN (SELECT case_id FROM case_events WHERE batch_id = $b)`
    : scope.serviceCodesTable === 'changed_services' ? `AND c.service_code IN (SELECT service_code FROM changed_services)` : '';
  const rows = await wh.all<{ case_id: string; opened: number; sla_hours: number; cal: string }>(
    `SELECT c.case_id, epoch_ms(c.opened_at)::DOUBLE AS opened, s.sla_hours, s.sla_calendar AS cal
     FROM cases c JOIN services s ON s.service_code = c.service_code
     WHERE s.sla_calendar IS NOT NULL AND s.sla_hours IS NOT NULL AND c.opened_at IS NOT NULL ${which}
       AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.case_id AND e.expected_at IS NOT NULL)`,
    scope.batchId ? { b: scope.batchId } : {},
  );
  const due = rows.filter((r) => calendars.has(r.cal));
  if (due.length === 0) return 0;
  await wh.run(`CREATE OR REPLACE TEMP TABLE business_due (case_id VARCHAR, due_ms DOUBLE)`);
  const app = await wh.conn.createAppender('business_due', 'main', 'temp');
  for (const r of due) {
    app.appendVarchar(r.case_id);
    app.appendDouble(addBusinessHours(r.opened, r.sla_hours, calendars.get(r.cal)!));
    app.endRow();
  }
  app.closeSync();
  await wh.run(`UPDATE cases SET due_at = to_timestamp(b.due_ms / 1000) FROM business_due b WHERE b.case_id = cases.case_id`);
  // A due time is one of the times a case's stored masks read.
  await refreshSettledMasks(wh, 'c.case_id IN (SELECT case_id FROM business_due)');
  await wh.run(`DROP TABLE business_due`);
  return due.length;
}
