import type { Static } from 'typebox';
import Type from 'typebox';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';

const dims = 'service|service_group|agency|channel|area|day|week|month|quarter';

export const KpiQuery = Type.Object(
  {
    ...WindowQuery,
    by: Type.String({ pattern: `^(${dims})(,(${dims}))*$`, default: 'service', description: `Comma list of ${dims.replaceAll('|', ', ')}; periods are cut in the jurisdiction's time zone` }),
    service_group: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only this service group' })),
    agency: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only this agency' })),
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only cases that came in through this channel' })),
    area: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only this area (id or name)' })),
    columns: Type.Union([Type.Literal('core'), Type.Literal('all')], {
      default: 'core',
      description: 'CSV only: `core` = the dimensions and the 12 original columns (opened … excluded_data_errors), so existing spreadsheets keep working; `all` = every measure, channel mix as one `channel_mix_<channel>` column per channel. JSON always has every field.',
    }),
    format: Format,
  },
  { additionalProperties: false },
);

const Nullable = (t: ReturnType<typeof Type.Number>) => Type.Union([t, Type.Null()]);
const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Period = (what: string) => Type.Optional(Type.String({ description: `${what} (YYYY-MM-DD, local)` }));

export const KpiRow = Type.Object({
  service: Type.Optional(Type.String()),
  service_group: Type.Optional(Type.String()),
  agency: Type.Optional(Type.String()),
  channel: Type.Optional(Type.String()),
  area: Type.Optional(Type.String({ description: "The area's name (its id where no name is loaded)" })),
  day: Period('The local day'),
  week: Type.Optional(Type.String({ description: 'Local Monday the week starts on' })),
  month: Period('First day of the month'),
  quarter: Period('First day of the quarter'),

  // Opened cohort: cases opened in the row's period.
  opened: Type.Integer(),
  closed: Type.Integer(),
  cancelled: Type.Integer(),
  median_hours_to_close: Nullable(Type.Number({ description: 'Kaplan–Meier median; open cases censored at as_of; null while over half are open' })),
  median_hours_ci_lower: Nullable(Type.Number()),
  median_hours_ci_upper: Nullable(Type.Number()),
  p90_hours_to_close: Nullable(Type.Number()),
  on_time_rate: Nullable(Type.Number({ description: 'Opened cohort: closed by due ÷ (closed + open and past due)' })),
  on_time: Type.Integer(),
  on_time_denominator: Type.Integer(),
  pending: Type.Integer({ description: 'Open and not yet due' }),
  excluded_data_errors: Type.Integer({ description: 'Closed before opened: excluded from durations and on-time' }),
  median_hours_to_first_response: Nullable(Type.Number({ description: 'Kaplan–Meier median from opening to the first action of the city (acknowledged, assigned, status change, close or cancel); cases without one censored at as_of' })),
  excluded_first_response_errors: Count('First response stamped before opening: excluded from the time to first response'),
  backlog: Count('Opened cases still open at as_of (not closed or cancelled by then, or reopened since)'),
  backlog_0_2d: Count('Backlog open under 3 whole days at as_of'),
  backlog_3_7d: Count('Backlog open 3–7 whole days'),
  backlog_8_30d: Count('Backlog open 8–30 whole days'),
  backlog_over_30d: Count('Backlog open more than 30 whole days'),
  backlog_past_due: Count('Backlog past its due time at as_of'),
  backlog_past_due_share: Nullable(Type.Number({ description: 'backlog_past_due ÷ backlog' })),
  channel_mix: Type.Record(Type.String(), Type.Number(), { description: 'Share of the opened cases by intake channel, {channel: share}' }),
  survey_responses: Count('Survey answers given by as_of on the opened cases'),
  csat_responses: Count('Answers with a CSAT score'),
  csat_top2: Nullable(Type.Number({ description: 'CSAT top-2 box: share of 4–5 answers' })),
  csat_mean: Nullable(Type.Number({ description: 'Mean CSAT (1–5)' })),
  nps_responses: Count('Answers with an NPS score'),
  nps: Nullable(Type.Number({ description: 'Net promoter score, −100 to 100: %(9–10) − %(0–6)' })),

  // Closed cohort: cases first closed in the row's period.
  closed_in_period: Count('Closed cohort: cases first closed in the period (by as_of); a period dimension cuts them by that close'),
  on_time_rate_closed_cohort: Nullable(Type.Number({ description: 'Closed-cohort variant of the on-time rate: closed in the period by due ÷ closed in the period with a due time (cancelled cases and data errors left out)' })),
  on_time_closed_cohort: Count('Closed in the period by due'),
  on_time_closed_cohort_denominator: Count('Closed in the period with a due time'),
  reopen_rate: Nullable(Type.Number({ description: 'Closed in the period and reopened within 30 days of that first close ÷ closed in the period' })),
  reopened_within_30d: Count('Closed in the period and reopened within 30 days (by as_of)'),
  reopen_pending: Count('Closed in the period, not reopened, and fewer than 30 days since at as_of'),
  fcr_measured: Nullable(Type.Number({ description: 'Measured first-contact resolution: closed cases whose first inbound contact was their only one up to closing, with no new inbound contact or reopening within 7 days of closing ÷ fcr_cases' })),
  fcr_reported: Nullable(Type.Number({ description: 'Reported first-contact resolution: closed cases whose first inbound contact has the outcome resolved_first_contact ÷ fcr_cases' })),
  fcr_cases: Count('Closed in the period with at least one inbound contact'),
  fcr_measured_resolved: Count('Numerator of fcr_measured'),
  fcr_reported_resolved: Count('Numerator of fcr_reported'),
  fcr_pending: Count('In fcr_measured_resolved, but fewer than 7 days since closing at as_of'),
  contacts_per_case: Nullable(Type.Number({ description: 'Inbound contacts linked to the cases closed in the period ÷ those cases' })),
  inbound_contacts: Count('Inbound contacts linked to the cases closed in the period (by as_of)'),
  repeat_contact_rate: Nullable(Type.Number({ description: 'Cases closed in the period with two or more inbound contacts within 7 days of the first ÷ fcr_cases (chasing: failure demand)' })),
  repeat_contact_cases: Count('Closed in the period with two or more inbound contacts within 7 days of the first'),
});

export const KpiResponse = Type.Object({
  as_of: Type.String(),
  from: Type.String(),
  to: Type.String(),
  timezone: Type.String(),
  by: Type.Array(Type.String()),
  filter: Type.Object(
    {
      service: Type.Optional(Type.String()),
      service_group: Type.Optional(Type.String()),
      agency: Type.Optional(Type.String()),
      channel: Type.Optional(Type.String()),
      area: Type.Optional(Type.String()),
    },
    { description: 'The filters applied' },
  ),
  rows: Type.Array(KpiRow),
});

export const kpiRouteSchema = {
  summary: 'Service KPIs by any combination of service, service group, agency, channel, area and period',
  description:
    'Each row has two cohorts: cases opened in its period (volume, time to close and to first response, opened-cohort on-time, backlog at as_of, ' +
    'channel mix, satisfaction) and cases first closed in its period (closed-cohort on-time, reopen rate, first-contact resolution, contacts per case). ' +
    'A group with only closures in the window has opened = 0. Backlog counts only cases opened in the window.',
  tags: ['analytics'],
  querystring: KpiQuery,
  response: {
    200: {
      description: 'KPI rows, one per group',
      content: { 'application/json': { schema: KpiResponse }, 'text/csv': { schema: CsvBody } },
    },
    400: ErrorResponse,
  },
};

export type KpiResponseBody = Static<typeof KpiResponse>;
export type KpiRowBody = Static<typeof KpiRow>;
