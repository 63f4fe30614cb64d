import type { Static } from 'typebox';
import Type from 'typebox';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';

const dims = 'service|agency|channel|week';

export const KpiQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date', description: 'First local day, inclusive (default: 12 weeks before `to`)' })),
    to: Type.Optional(Type.String({ format: 'date', description: 'Last local day, inclusive (default: the day of the as-of time)' })),
    as_of: Type.Optional(Type.String({ format: 'date-time', description: 'What "now" is for open cases (default: the newest event in the warehouse)' })),
    by: Type.String({ pattern: `^(${dims})(,(${dims}))*$`, default: 'service', description: `Comma list of ${dims.replaceAll('|', ', ')}` }),
    format: Format,
  },
  { additionalProperties: false },
);

const Nullable = (t: ReturnType<typeof Type.Number>) => Type.Union([t, Type.Null()]);

export const KpiRow = Type.Object({
  service: Type.Optional(Type.String()),
  agency: Type.Optional(Type.String()),
  channel: Type.Optional(Type.String()),
  week: Type.Optional(Type.String({ description: 'Local Monday the week starts on' })),
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
});

export const KpiResponse = Type.Object({
  as_of: Type.String(),
  from: Type.String(),
  to: Type.String(),
  timezone: Type.String(),
  by: Type.Array(Type.String()),
  rows: Type.Array(KpiRow),
});

export const kpiRouteSchema = {
  summary: 'Service KPIs for cases opened in a date range',
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
