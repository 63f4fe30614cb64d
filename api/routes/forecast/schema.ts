// GET /api/forecast: weekly demand forecasts with 80% and 95% intervals, each series judged by its
// own rolling-origin backtest against the seasonal-naive benchmark (warehouse/analytics/forecast.ts).
import Type, { type Static, type TSchema } from 'typebox';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';
import {
  BACKTEST_ORIGINS, DEFAULT_HISTORY_WEEKS, DEFAULT_HORIZON, MAX_FORECAST_SERIES, MAX_HORIZON, SEASON_WEEKS, weeksToJudge,
} from '../../../warehouse/analytics/forecast.ts';

export const ForecastQuery = Type.Object(
  {
    ...WindowQuery,
    weeks: Type.Integer({ minimum: 1, maximum: 520, default: DEFAULT_HISTORY_WEEKS, description: `Weeks of history when \`from\` is not given (default ${DEFAULT_HISTORY_WEEKS}: a 52-week season needs two full years before every backtest origin; all the data if there is less)` }),
    by: Type.String({ maxLength: 50, default: '', description: 'service, area or service,area; empty (default): all requests as one series' }),
    horizon: Type.Integer({ minimum: 1, maximum: MAX_HORIZON, default: DEFAULT_HORIZON, description: `Weeks ahead, 1–${MAX_HORIZON}` }),
    format: Format,
  },
  { additionalProperties: false },
);
export type ForecastQueryString = Static<typeof ForecastQuery>;

const Nullable = (t: TSchema, description?: string) => Type.Union([t, Type.Null()], description ? { description } : {});
const Method = Type.Union([Type.Literal('mstl-ets'), Type.Literal('ets'), Type.Literal('seasonal-naive'), Type.Literal('naive')], {
  description: 'mstl-ets: MSTL (52-week season) with AutoETS; ets: AutoETS without a season; seasonal-naive / naive: the benchmark, where the model did not beat it or the series was too short to judge',
});

export const ForecastResponse = Type.Object({
  from: Type.String(),
  to: Type.String(),
  as_of: Type.String(),
  timezone: Type.String(),
  area_kind: Type.String(),
  filter: Type.Record(Type.String(), Type.String()),
  by: Type.Array(Type.String()),
  horizon: Type.Integer(),
  series_total: Type.Integer({ description: 'Series the data has for `by`' }),
  max_series: Type.Integer({ description: `At most ${MAX_FORECAST_SERIES} series are forecast: the busiest` }),
  series: Type.Array(Type.Object({
    service: Type.Optional(Type.String()),
    area: Type.Optional(Type.String()),
    method: Method,
    reason: Type.String({ description: 'Why this method, with the backtest figures, in words' }),
    season: Nullable(Type.Integer(), `${SEASON_WEEKS} when two full years precede every backtest origin, else null`),
    total: Type.Integer({ description: 'Requests in the history' }),
    history: Type.Array(Type.Object({ week: Type.String({ description: 'Monday of a whole local week' }), count: Type.Integer() })),
    forecast: Type.Array(Type.Object({
      week: Type.String(), mean: Type.Number(),
      lower80: Type.Number(), upper80: Type.Number(), lower95: Type.Number(), upper95: Type.Number(),
    }, { description: 'Clipped at 0 (counts are never negative; this cannot change coverage)' })),
    backtest: Nullable(Type.Object({
      origins: Type.Integer(), first_origin_weeks: Type.Integer(), calibration_origins: Type.Integer(), points: Type.Integer(),
      mase: Nullable(Type.Number()), mase_model: Nullable(Type.Number()), mase_seasonal_naive: Nullable(Type.Number()),
      coverage80: Type.Number(), coverage95: Type.Number(), interval_scale80: Type.Number(), interval_scale95: Type.Number(),
    }), `Null when the series is too short to judge (fewer than ${weeksToJudge(DEFAULT_HORIZON, false)} weeks at horizon ${DEFAULT_HORIZON})`),
  })),
  summary: Type.Object({
    series: Type.Integer(),
    judged: Type.Integer(),
    median_mase: Nullable(Type.Number()),
    coverage80: Nullable(Type.Number()),
    coverage95: Nullable(Type.Number()),
    model_used: Type.Integer(),
    seasonal_naive_used: Type.Integer(),
    not_judged: Type.Integer(),
    sentence: Type.String(),
  }),
});

export const forecastRouteSchema = {
  summary: 'Weekly demand forecast per service and/or area, 1–8 weeks ahead, with 80% and 95% intervals, judged by rolling-origin backtests',
  description:
    'Weekly request counts (whole local weeks; each series from where its data starts; the same window, filters, area kind and agency scope as /api/trends). ' +
    `Per series, the augurs model (MSTL with ETS given two years before every origin, else ETS) and the seasonal-naive benchmark are backtested at up to ${BACKTEST_ORIGINS} rolling origins, ` +
    'each forecasting the horizon; the model is used only where its MASE is lower, and `reason` says which and why. Intervals are calibrated on each method\'s errors at earlier origins ' +
    `(split conformal) and clipped at 0; backtest coverage is of those. The ${MAX_FORECAST_SERIES} busiest series at most. format=csv: history and forecast weeks of every series as one table.`,
  tags: ['analytics'],
  querystring: ForecastQuery,
  response: {
    200: { description: 'The forecasts', content: { 'application/json': { schema: ForecastResponse }, 'text/csv': { schema: CsvBody } } },
    400: ErrorResponse,
  },
};
