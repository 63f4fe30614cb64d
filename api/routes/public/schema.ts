// Schemas of the public routes: what anyone may ask (no window, as-of, filter or area kind — a
// release is fixed so answers cannot be subtracted from each other) and what they get back.
import Type, { type Static, type TSchema } from 'typebox';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';
import { PUBLIC_DIMENSIONS, PUBLIC_MEASURES, PUBLIC_WINDOW_PERIODS } from '../../../warehouse/analytics/public-kpis.ts';

const PERIOD_TEXT = `week: the last ${PUBLIC_WINDOW_PERIODS.week} whole weeks (Monday to Sunday); month: the last ${PUBLIC_WINDOW_PERIODS.month} whole months — up to the newest request`;
const Period = Type.Union([Type.Literal('week'), Type.Literal('month')], { description: PERIOD_TEXT });

export const PublicKpisQuery = Type.Object(
  {
    by: Type.String({
      maxLength: 100,
      default: '',
      description:
        'Comma list of service_group or service, area, and week or month. Service and area are never crossed: by=service,area returns a table by service and one by area. ' +
        'Empty: the overall total. Every response also holds the margins (by period, overall).',
    }),
    period: Type.Optional(Period),
    format: Format,
  },
  { additionalProperties: false },
);
export type PublicKpisQueryString = Static<typeof PublicKpisQuery>;

export const PublicTrendsQuery = Type.Object(
  {
    by: Type.String({ maxLength: 100, default: 'service', description: 'Comma list of service_group or service, and area: one series per service (or group) and per area; empty: all requests as one series' }),
    period: Type.Union([Type.Literal('week'), Type.Literal('month')], { default: 'week', description: PERIOD_TEXT }),
    format: Format,
  },
  { additionalProperties: false },
);
export type PublicTrendsQueryString = Static<typeof PublicTrendsQuery>;

const Flag = Type.Union([Type.Literal('suppressed'), Type.Literal('too_few_cases'), Type.Literal('not_reached'), Type.Literal('not_available')]);
const Nullable = (t: TSchema, description: string) => Type.Union([t, Type.Null()], { description });
const Label = (description: string) => Type.Optional(Type.String({ description }));

export const PublicRowSchema = Type.Object({
  service_group: Label('The service group (with service: the service\'s group)'),
  service: Label('The service'),
  area: Label('The area, of the response\'s area_kind; "(area not published)" holds the services never broken down by area'),
  week: Label('First day of the week (Monday, local time)'),
  month: Label('First day of the month'),
  opened: Nullable(Type.Integer(), 'Requests opened; null when suppressed'),
  median_hours_to_close: Nullable(Type.Number(), 'Kaplan–Meier median time to close, hours to a tenth; null: see flags'),
  on_time_rate: Nullable(Type.Number(), 'Share closed on time, to a whole percentage (0.83 = 83%); null: see flags'),
  csat_top2: Nullable(Type.Number(), 'Share of satisfaction answers of 4 or 5, to a whole percentage; null: see flags'),
  suppressed: Type.Boolean({ description: 'The count is withheld for privacy, and with it the whole row. Not zero.' }),
  flags: Type.Record(Type.String(), Flag, { description: `Why a figure is null, per measure (${PUBLIC_MEASURES.join(', ')}); explained once in footnotes` }),
});

const Table = Type.Object({ by: Type.Array(Type.String()), rows: Type.Array(PublicRowSchema) });

const Meta = {
  jurisdiction: Type.String(),
  as_of: Type.String({ format: 'date', description: 'Data as of: the local day of the newest event (no finer: nothing public gives a time of day)' }),
  timezone: Type.String(),
  area_kind: Type.String({ description: 'The one area kind the public tables use' }),
  period: Type.String(),
  from: Nullable(Type.String(), 'First day of the release'),
  to: Nullable(Type.String(), 'Last day of the release'),
  periods: Type.Array(Type.String(), { description: 'The periods of the release (each labelled by its first day)' }),
  partial_period: Nullable(Type.String(), 'The first period, when the data starts inside it: its counts cover only the days with data, and trends leave it out'),
  measures: Type.Array(
    Type.Object({
      name: Type.String(),
      label: Type.String(),
      unit: Type.String(),
      definition: Type.String(),
      denominator: Type.Optional(Type.String()),
      min_denominator: Type.Optional(Type.Integer()),
      threshold: Type.Optional(Type.Integer()),
      rounding: Type.Optional(Type.String()),
    }),
  ),
  disclosure: Type.Object({
    k: Type.Integer(),
    min_denominator: Type.Integer(),
    sensitive_services: Type.Array(Type.String()),
    rules: Type.Array(Type.String()),
    suppressed_cells: Type.Integer({ description: 'Cells withheld in the whole release (all its tables and margins)' }),
    cells: Type.Integer(),
  }),
  footnotes: Type.Record(Type.String(), Type.String()),
  methodology: Type.Object({ measures: Type.String(), documentation: Type.String() }),
};

export const PublicKpisResponse = Type.Object({ ...Meta, by: Type.Array(Type.String()), tables: Type.Array(Table) });

export const PublicTrendsResponse = Type.Object({
  ...Meta,
  by: Type.Array(Type.String()),
  series: Type.Array(
    Type.Object({
      service_group: Label('The service group'),
      service: Label('The service'),
      area: Label('The area'),
      periods: Type.Array(Type.String()),
      opened: Type.Array(Nullable(Type.Integer(), 'Requests opened; null when suppressed')),
      suppressed: Type.Array(Type.Boolean()),
    }),
  ),
  findings: Type.Array(
    Type.Object({
      service_group: Nullable(Type.String(), ''),
      service: Nullable(Type.String(), ''),
      area: Nullable(Type.String(), ''),
      direction: Type.String(),
      per_period: Type.Number({ description: "Sen's slope, requests per period" }),
      p: Type.Number(),
      q: Type.Number({ description: 'Benjamini–Hochberg adjusted over the series tested' }),
      sentence: Type.String(),
    }),
  ),
  series_tested: Type.Integer({ description: 'Series with every period published (only those are tested: a test on withheld counts would leak them)' }),
  series_not_tested: Type.Integer(),
});

export const publicKpisSchema = {
  summary: 'Public KPIs: requests, median time to close, on-time and satisfaction by service group or service, area and week or month — disclosure-controlled',
  description:
    'Answers without a token. Counts of 1 to k (10 by default) are suppressed (null, flagged, never 0), with complementary suppression so no suppressed count can be worked out ' +
    'from the published cells and totals; rates and durations only over at least 20 cases; areas of one kind; no time finer than a week here. ' +
    'Definitions: GET /api/measures.',
  tags: ['public'],
  querystring: PublicKpisQuery,
  response: {
    200: { description: 'The tables asked for and their margins, all from one protected release', content: { 'application/json': { schema: PublicKpisResponse }, 'text/csv': { schema: CsvBody } } },
    400: ErrorResponse,
  },
};

export const publicTrendsSchema = {
  summary: 'Public trends: weekly or monthly requests per service (or group) and per area, disclosure-controlled, with trend findings on fully published series',
  description: 'Answers without a token. The series are cells of the same protected release as /api/public/kpis; a series with a suppressed period is shown but not tested.',
  tags: ['public'],
  querystring: PublicTrendsQuery,
  response: {
    200: { description: 'Series and findings', content: { 'application/json': { schema: PublicTrendsResponse }, 'text/csv': { schema: CsvBody } } },
    400: ErrorResponse,
  },
};

export { PUBLIC_DIMENSIONS };
