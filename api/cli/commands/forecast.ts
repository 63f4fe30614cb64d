// civic forecast: weekly demand forecasts with 80% and 95% intervals and how each series' method
// was judged (rolling-origin backtests against seasonal naive), or --json (the API's shape) / --csv.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';
import { ANALYSIS_OPTIONS } from '../analysis.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, { ...ANALYSIS_OPTIONS, by: { type: 'string' }, horizon: { type: 'string' }, csv: { type: 'boolean' } });
  const horizon = values.horizon === undefined ? undefined : Number(values.horizon);
  if (horizon !== undefined && !(Number.isInteger(horizon) && horizon >= 1 && horizon <= 8)) throw new UsageError(`--horizon must be a whole number of weeks from 1 to 8 (got "${values.horizon}")`);
  const [{ cliConfig, withWarehouse }, forecast, { parseDimensions }, { SERIES_GROUPS }, { toCsv }, { coverage, filterFrom, windowFrom }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/forecast.ts'), import('../../../warehouse/analytics/dimensions.ts'),
    import('../../../warehouse/queries/series-sql.ts'), import('../../../reports/render-csv.ts'), import('../analysis.ts'),
  ]);
  const by = parseDimensions(values.by ?? '', '--by', SERIES_GROUPS) as ('service' | 'area')[];
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const { window, jurisdiction } = await windowFrom(wh, config, values, forecast.DEFAULT_HISTORY_WEEKS);
    const r = await forecast.computeForecast(wh, { window, by, horizon, filter: filterFrom(values), area_kind: values['area-kind'] });
    if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else if (values.csv) process.stdout.write(toCsv(forecast.forecastRows(r), forecast.FORECAST_CSV_COLUMNS));
    else {
      process.stdout.write(`Demand forecast, ${r.horizon} week${r.horizon === 1 ? '' : 's'} ahead — history: ${coverage(r, jurisdiction)}\n${r.summary.sentence}\n`);
      if (r.series.length < r.series_total) process.stdout.write(`(only the ${r.series.length} busiest of ${r.series_total} series are forecast: narrow with --service, --area or --agency)\n`);
      const num = (x: number) => (x < 10 ? x.toFixed(1) : Math.round(x).toString());
      for (const s of r.series) {
        const name = [s.service, s.area].filter(Boolean).join(' in ') || 'All requests';
        process.stdout.write(`\n${name} — ${s.method}${s.backtest ? ` (backtest MASE ${s.backtest.mase?.toFixed(2) ?? 'undefined'}, seasonal naive ${s.backtest.mase_seasonal_naive?.toFixed(2) ?? 'undefined'}; 95% intervals covered ${Math.round(s.backtest.coverage95 * 100)}% of ${s.backtest.points} weeks)` : ' (not judged)'}\n  ${s.reason}\n`);
        if (s.forecast.length) {
          console.table(s.forecast.map((f) => ({ week: f.week, forecast: num(f.mean), '80% interval': `${num(f.lower80)}–${num(f.upper80)}`, '95% interval': `${num(f.lower95)}–${num(f.upper95)}` })));
        }
      }
    }
    return 0;
  }, 'read');
};
