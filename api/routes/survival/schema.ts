// GET /api/survival: the Kaplan–Meier curve of time to close or to first response, overall or by
// service or area (warehouse/analytics/survival.ts).
import Type, { type Static, type TSchema } from 'typebox';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';
import { KM_MAX_STEPS, MAX_SURVIVAL_GROUPS, type SurvivalResult } from '../../../warehouse/analytics/survival.ts';

export const SurvivalQuery = Type.Object(
  {
    ...WindowQuery,
    duration: Type.Union([Type.Literal('close'), Type.Literal('first_response')], { default: 'close', description: 'close: opening → first close; first_response: opening → the first action of the city' }),
    by: Type.Optional(Type.Union([Type.Literal('service'), Type.Literal('area')], {
      description: `One curve per service or per area (of area_kind); past ${MAX_SURVIVAL_GROUPS} groups, the ${MAX_SURVIVAL_GROUPS - 1} with most cases opened and the rest pooled as "(other services)" / "(other areas)"`,
    })),
    format: Format,
  },
  { additionalProperties: false },
);
export type SurvivalQueryString = Static<typeof SurvivalQuery>;

const Nullable = (t: TSchema, description?: string) => Type.Union([t, Type.Null()], description ? { description } : {});

export const SurvivalResponse = Type.Object({
  from: Type.String(),
  to: Type.String(),
  as_of: Type.String({ description: 'Cases not ended by then are censored there, as the KPI censors them' }),
  timezone: Type.String(),
  area_kind: Type.String(),
  filter: Type.Record(Type.String(), Type.String()),
  duration: Type.String(),
  by: Nullable(Type.String()),
  max_steps: Type.Integer(),
  thinned: Type.Boolean({ description: `A curve had more than max_steps (${KM_MAX_STEPS}) distinct event times: its points are those at max_steps evenly spaced quantiles of the event times (exact values there)` }),
  groups: Type.Array(Type.Object({
    group: Type.Optional(Type.String()),
    n: Type.Integer(),
    events: Type.Integer(),
    median_hours: Nullable(Type.Number(), 'Equal to the KPI median_hours_to_close (or median_hours_to_first_response) for the same cases'),
    median_lower_hours: Nullable(Type.Number()),
    median_upper_hours: Nullable(Type.Number()),
    p90_hours: Nullable(Type.Number()),
    steps: Type.Integer({ description: 'Distinct event times' }),
    thinned: Type.Boolean(),
    pooled: Type.Optional(Type.Array(Type.String(), { description: 'The services or areas the pooled group holds' })),
  })),
  points: Type.Array(Type.Object({
    group: Type.Optional(Type.String()),
    hours: Type.Number(),
    survival: Type.Number({ description: 'Share of cases not yet ended after this time; the curve starts at 1 at 0 h' }),
    lower: Nullable(Type.Number()),
    upper: Nullable(Type.Number()),
    at_risk: Type.Integer(),
    events: Type.Integer({ description: 'Ended at exactly this time' }),
    censored: Type.Integer({ description: 'Followed up to this time only (still open at as_of)' }),
  })),
});

export const survivalRouteSchema = {
  summary: 'Kaplan–Meier curve of time to close (or to first response), overall or by service or area',
  description:
    'Step points of the product-limit curve with its 95% log interval, censored at as_of exactly as the KPI medians are; each group’s median and P90 equal GET /api/kpis. ' +
    `Every distinct event time up to ${KM_MAX_STEPS} per curve, else ${KM_MAX_STEPS} evenly spaced quantiles of them (thinned). format=csv: the points.`,
  tags: ['analytics'],
  querystring: SurvivalQuery,
  response: {
    200: { description: 'The curves', content: { 'application/json': { schema: SurvivalResponse }, 'text/csv': { schema: CsvBody } } },
    400: ErrorResponse,
  },
};

export type SurvivalBody = SurvivalResult;
