// GET /api/overview: the managers' headline figures with their change and weekly values, and the
// services and areas furthest below their on-time targets (warehouse/analytics/overview.ts).
import Type, { type Static, type TSchema } from 'typebox';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';
import { HEADLINE_MEASURES, type Overview } from '../../../warehouse/analytics/overview.ts';

export const OVERVIEW_TABLES = ['headline', 'services', 'areas'] as const;

export const OverviewQuery = Type.Object(
  {
    ...WindowQuery,
    format: Format,
    table: Type.Union(OVERVIEW_TABLES.map((t) => Type.Literal(t)), {
      default: 'headline',
      description: 'CSV only: which table — the headline figures (weekly values left out), or the services or areas against target, worst first',
    }),
  },
  { additionalProperties: false },
);
export type OverviewQueryString = Static<typeof OverviewQuery>;

const Nullable = (t: TSchema, description?: string) => Type.Union([t, Type.Null()], description ? { description } : {});
const Status = Nullable(Type.Union([Type.Literal('meets target'), Type.Literal('below target'), Type.Literal('too few cases')]),
  '"too few cases" when the denominator is under min_denominator; for the on-time rate, whether it meets its target; null when there is nothing to judge');

const Headline = Type.Object({
  name: Type.String({ description: `A measure of the registry (GET /api/measures): ${HEADLINE_MEASURES.join(', ')}` }),
  label: Type.String(),
  unit: Type.String(),
  definition: Type.String(),
  value: Nullable(Type.Number()),
  numerator: Type.Optional(Type.Number()),
  denominator: Type.Optional(Type.Number({ description: 'What a rate or median rests on (judged cases, closed cases, answers…), named by denominator_name' })),
  denominator_name: Type.Optional(Type.String()),
  interval: Type.Optional(Type.Object({ lower: Nullable(Type.Number()), upper: Nullable(Type.Number()) }, { description: "The median's 95% interval, hours" })),
  previous: Nullable(Type.Number(), 'The same measure over the previous window (backlog measures: at the start of this window)'),
  previous_denominator: Type.Optional(Type.Number()),
  change: Nullable(Type.Number(), 'value − previous in change_unit (percentage points for shares, hours for durations); null when either is null, or for a count over a previous window the data covers only in part'),
  change_unit: Type.String(),
  target: Type.Optional(Nullable(Type.Number(), 'on_time_rate only: Σ(target × judged) ÷ Σ judged over the services counted — the rate if every service met its own target exactly')),
  status: Status,
  weekly: Type.Array(Type.Object({
    week: Type.String({ description: 'Monday the week starts on (local day)' }),
    value: Nullable(Type.Number()),
    denominator: Type.Optional(Type.Number()),
    partial: Type.Boolean({ description: 'The window cuts the week: fewer than 7 of its days count' }),
  })),
  weekly_definition: Type.Optional(Type.String()),
});

const targetColumns = {
  opened: Type.Integer(),
  on_time: Type.Integer(),
  on_time_denominator: Type.Integer(),
  on_time_rate: Nullable(Type.Number()),
  target: Nullable(Type.Number({ description: 'A service: its own target; an area: its services’ targets weighted by their judged cases there' })),
  gap: Nullable(Type.Number({ description: 'on_time_rate − target (a share; negative = below target)' })),
  median_hours_to_close: Nullable(Type.Number()),
  backlog: Type.Integer(),
  backlog_past_due: Type.Integer(),
  status: Status,
};

export const OverviewResponse = Type.Object({
  from: Type.String(),
  to: Type.String(),
  previous: Type.Object({
    from: Type.String(),
    to: Type.String(),
    as_of: Type.String(),
    backlog_as_of: Type.String({ description: 'Backlog figures of the previous window are taken here: the start of this window' }),
    partial: Type.Boolean({ description: 'The data starts after the previous window does' }),
  }),
  as_of: Type.String(),
  backlog_as_of: Type.String({ description: 'Backlog figures of this window are taken here: as_of, or the end of the window when it ends before as_of (the backlog then, not the cases still open now)' }),
  timezone: Type.String(),
  area_kind: Type.String(),
  filter: Type.Record(Type.String(), Type.String()),
  min_denominator: Type.Integer(),
  default_target: Type.Number(),
  headline: Type.Array(Headline),
  worst_services: Type.Array(Type.Object({ service: Type.String(), service_code: Nullable(Type.String()), ...targetColumns })),
  worst_areas: Type.Array(Type.Object({ area: Type.String(), area_id: Nullable(Type.String()), ...targetColumns })),
  warnings: Type.Array(Type.String()),
});

export const overviewRouteSchema = {
  summary: "The managers' overview: headline figures against the previous period, and the services and areas furthest below target",
  description:
    'Cases opened, KM median time to close, on-time rate against its target, backlog and share past due, CSAT, FCR measured and reported, contacts per case — ' +
    'each computed exactly as GET /api/kpis computes it, for the window and for the previous window of the same length (same as_of; backlog at the start of this window, and the current one at the end of the window when it ends before as_of), ' +
    'with the change and one value per week. worst_services and worst_areas list every service and area, largest shortfall against target first, "too few cases" last.',
  tags: ['analytics'],
  querystring: OverviewQuery,
  response: {
    200: { description: 'The overview', content: { 'application/json': { schema: OverviewResponse }, 'text/csv': { schema: CsvBody } } },
    400: ErrorResponse,
  },
};

export type OverviewBody = Overview;
