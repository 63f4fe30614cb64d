// GET /api/whatif: move crews between areas for one service and see the projected backlog and
// on-time share, against the baseline, from the demand forecast and a weekly queueing model
// fitted to observed throughput per crew (warehouse/analytics/whatif.ts, warehouse/stats/queueing.ts).
import Type, { type Static, type TSchema } from 'typebox';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';
import { DEFAULT_HORIZON, MAX_HORIZON } from '../../../warehouse/analytics/forecast.ts';
import { DEFAULT_FIT_WEEKS, MAX_BACKTEST_WEEKS, MIN_FIT_WEEKS } from '../../../warehouse/analytics/whatif.ts';

export const WhatIfQuery = Type.Object(
  {
    ...WindowQuery,
    weeks: Type.Integer({ minimum: 1, maximum: 520, default: DEFAULT_FIT_WEEKS, description: `Weeks the model is fitted on when \`from\` is not given (default ${DEFAULT_FIT_WEEKS})` }),
    service: Type.String({ minLength: 1, maxLength: 200, description: 'The service whose crews move (code or name; required)' }),
    move: Type.Optional(Type.String({ maxLength: 1000, description: 'from:to:crews, comma-separated (e.g. D2:D6:2 or District 2:District 6:2); areas by id or name of the area kind. Without it: the baseline of every area' })),
    crews: Type.Optional(Type.String({ maxLength: 2000, description: 'Current crews where the configuration (crews.<service>.<area>) has none: area:crews, comma-separated (e.g. D2:4,D6:3)' })),
    horizon: Type.Integer({ minimum: 1, maximum: MAX_HORIZON, default: DEFAULT_HORIZON, description: `Weeks ahead, 1–${MAX_HORIZON}` }),
    format: Format,
  },
  { additionalProperties: false },
);
export type WhatIfQueryString = Static<typeof WhatIfQuery>;

const Nullable = (t: TSchema, description?: string) => Type.Union([t, Type.Null()], description ? { description } : {});
const Share = (description?: string) => Nullable(Type.Number(), description);

const Week = Type.Object({
  week: Type.String({ description: 'Monday of the projected local week' }),
  arrivals: Type.Number({ description: 'Forecast requests (mean)' }),
  arrivals_lower80: Type.Number(),
  arrivals_upper80: Type.Number(),
  capacity: Type.Number({ description: 'crews × throughput per crew' }),
  closures: Type.Number({ description: 'capacity, capped by the cases there are to close' }),
  backlog: Type.Number({ description: 'At the end of the week, from the mean forecast' }),
  backlog_low: Type.Number({ description: 'From the lower 80% forecast fed every week' }),
  backlog_high: Type.Number({ description: 'From the upper 80% forecast fed every week' }),
  on_time_rate: Share("Projected share of the week's arrivals closed within the SLA; null without an SLA"),
  on_time_low: Share('The lowest over the mean, lower and upper arrivals'),
  on_time_high: Share('The highest over the mean, lower and upper arrivals'),
});

const Backtest = Type.Object({
  weeks: Type.Integer({ description: 'Observed weeks replayed' }),
  fit_weeks: Type.Integer({ description: 'Weeks before them the model was fitted on' }),
  mae_backlog: Nullable(Type.Number(), 'Mean absolute error of the backlog at the weeks’ ends (cases)'),
  bias: Nullable(Type.Number(), 'Mean error of the backlog, projected − actual (cases): above 0, the model overstates it'),
  mae_on_time: Share('Mean absolute error of the on-time share'),
  bias_on_time: Share('Mean error of the on-time share, projected − actual'),
  on_time_weeks: Type.Integer({ description: 'Replayed weeks with an actual on-time rate' }),
});

const CrewsSource = Type.Union([Type.Literal('configuration'), Type.Literal('request'), Type.Literal('crew-equivalents')], {
  description: "configuration: crews.<service>.<area>; request: crews=; crew-equivalents: neither, so the area's closures per busy week ÷ model.crew_equivalent.closures_per_week",
});

export const WhatIfResponse = Type.Object({
  service: Type.String(),
  service_code: Nullable(Type.String()),
  area_kind: Type.String(),
  from: Type.String({ description: 'The fitting window' }),
  to: Type.String(),
  as_of: Type.String(),
  timezone: Type.String(),
  filter: Type.Record(Type.String(), Type.String()),
  horizon: Type.Integer(),
  start: Type.String({ description: 'Monday of the first projected week (after the last whole observed week); backlog_now is the backlog then, never later than as_of' }),
  moves: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), crews: Type.Number() })),
  model: Type.Object({
    name: Type.String(),
    assumptions: Type.Array(Type.String()),
    crew_equivalent: Nullable(Type.Object({ closures_per_week: Type.Number(), basis: Type.String() })),
    sla_hours: Nullable(Type.Number()),
    sla_source: Nullable(Type.String()),
    fitted: Type.Array(Type.Object({
      area: Type.String(), area_id: Type.String(),
      crews: Type.Number(), crews_source: CrewsSource,
      throughput_per_crew: Nullable(Type.Number(), 'Closures per crew-week'),
      throughput_source: Type.Union([Type.Literal('observed'), Type.Literal('median of areas')]),
      busy_weeks: Type.Integer({ description: 'Weeks with backlog at start and end (the crews had work all week)' }),
      arrivals_per_week: Type.Number(), closures_per_week: Type.Number(),
      backlog_now: Type.Integer(),
      time_in_system_hours: Nullable(Type.Number(), "Little's law over the fitting weeks"),
      sla_hours: Nullable(Type.Number()),
      forecast_method: Type.String(), forecast_reason: Type.String(),
      backtest: Nullable(Backtest), backtest_reason: Type.String(),
    })),
    backtest: Type.Intersect([Backtest, Type.Object({ areas: Type.Integer() })], { description: "Pooled over the affected areas' replayed weeks" }),
  }),
  areas: Type.Array(Type.Object({
    area: Type.String(), area_id: Type.String(),
    crews_before: Type.Number(), crews_after: Type.Number(),
    backlog_now: Type.Integer(),
    baseline: Type.Array(Week),
    scenario: Type.Array(Week),
    backtest: Type.Array(Type.Object({
      week: Type.String(), arrivals: Type.Integer(), actual_backlog: Type.Integer(), projected_backlog: Type.Number(),
      actual_on_time: Share(), projected_on_time: Share(),
    })),
  })),
  sentence: Type.String(),
});

export const whatIfRouteSchema = {
  summary: 'What if crews moved between areas: projected backlog and on-time share, against the baseline',
  description:
    'For one service, the current crews per area (configuration crews.<service>.<area>, else crews=area:n, else crew-equivalents: closures per busy week ÷ a median throughput per crew), ' +
    'the observed weekly arrivals, closures (first closes, the KPI closed cohort) and backlog at each week\'s start over the fitting window (default ' + DEFAULT_FIT_WEEKS + ' weeks; the shared window, filters, area kind and agency scope), ' +
    'and throughput per crew = closures in weeks the backlog was above 0 at start and end ÷ crews. Model: a weekly fluid queue — backlog_{t+1} = max(0, backlog_t + arrivals_t − crews × throughput per crew) — ' +
    "with arrivals from the demand forecast (as /api/forecast; the band from its 80% interval ends), time in the system by Little's law (mean backlog ÷ closures), and the on-time share " +
    'from the observed Kaplan–Meier time to close scaled by that time: F(SLA × fitted ÷ projected). Backtest: fitted on the weeks before the last ' + MAX_BACKTEST_WEEKS +
    ` (at least ${MIN_FIT_WEEKS}), then those weeks replayed with their actual arrivals and today's crews: MAE and mean error of backlog and on time. ` +
    'A move that takes more crews than an area has, an unknown area or a malformed move is a 400. format=csv: each area\'s backtest, baseline and scenario weeks as one table.',
  tags: ['analytics'],
  querystring: WhatIfQuery,
  response: {
    200: { description: 'The projection', content: { 'application/json': { schema: WhatIfResponse }, 'text/csv': { schema: CsvBody } } },
    400: ErrorResponse,
  },
};
