// civic whatif: move crews between areas for a service and print the projected backlog and on-time
// share against the baseline, the model's assumptions and its backtest error; or --json (the API's
// shape) / --csv. Current crews come from the configuration's `crews`, else --crews.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';
import { ANALYSIS_OPTIONS } from '../analysis.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, { ...ANALYSIS_OPTIONS, move: { type: 'string' }, crews: { type: 'string' }, horizon: { type: 'string' }, csv: { type: 'boolean' } });
  if (!values.service) throw new UsageError('--service is required (a service code or name, e.g. --service POTHOLE)');
  if (values.area) throw new UsageError('the what-if takes its areas from --move from:to:crews, not from --area');
  const horizon = values.horizon === undefined ? undefined : Number(values.horizon);
  if (horizon !== undefined && !(Number.isInteger(horizon) && horizon >= 1 && horizon <= 8)) throw new UsageError(`--horizon must be a whole number of weeks from 1 to 8 (got "${values.horizon}")`);
  const [{ cliConfig, withWarehouse }, whatif, { toCsv }, { coverage, filterFrom, windowFrom }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/whatif.ts'), import('../../../reports/render-csv.ts'), import('../analysis.ts'),
  ]);
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const { window, jurisdiction } = await windowFrom(wh, config, values, whatif.DEFAULT_FIT_WEEKS);
    const { service, ...filter } = filterFrom(values);
    const r = await whatif.computeWhatIf(wh, {
      window, service: service!, filter, area_kind: values['area-kind'], move: values.move, crews: values.crews, configured: config.crews, horizon,
    });
    if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else if (values.csv) process.stdout.write(toCsv(whatif.whatIfRows(r), whatif.WHATIF_CSV_COLUMNS));
    else {
      const num = (x: number) => (x < 10 ? x.toFixed(1) : Math.round(x).toString());
      const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`);
      const pts = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)} percentage points`);
      process.stdout.write(`What if — ${r.service}, ${r.horizon} week${r.horizon === 1 ? '' : 's'} from ${r.start}; fitted on: ${coverage(r, jurisdiction)}\n${r.sentence}\n`);
      process.stdout.write(`\nModel: ${r.model.name}\n${r.model.assumptions.map((a) => `  - ${a}`).join('\n')}\n`);
      const b = r.model.backtest;
      process.stdout.write(b.weeks
        ? `Backtest (last ${b.weeks} weeks replayed, fitted on the ${b.fit_weeks} before, ${b.areas} area${b.areas === 1 ? '' : 's'}): backlog MAE ${b.mae_backlog} cases, mean error ${b.bias}; on time MAE ${pts(b.mae_on_time)}, mean error ${pts(b.bias_on_time)}\n`
        : 'Backtest: too few weeks in the window to replay any.\n');
      console.table(r.model.fitted.map((f) => ({
        area: f.area, crews: f.crews, 'crews from': f.crews_source, 'closures per crew-week': f.throughput_per_crew, 'arrivals a week': f.arrivals_per_week,
        'backlog now': f.backlog_now, 'hours in system': f.time_in_system_hours, 'backtest MAE': f.backtest?.mae_backlog ?? '—', forecast: f.forecast_method,
      })));
      for (const a of r.areas) {
        process.stdout.write(`\n${a.area} — crews ${a.crews_before} → ${a.crews_after}; backlog now ${a.backlog_now}\n`);
        console.table(a.baseline.map((w, i) => {
          const s = a.scenario[i];
          return {
            week: w.week, arrivals: `${num(w.arrivals)} (${num(w.arrivals_lower80)}–${num(w.arrivals_upper80)})`,
            'backlog, no move': `${num(w.backlog)} (${num(w.backlog_low)}–${num(w.backlog_high)})`, 'on time, no move': pct(w.on_time_rate),
            'backlog, with move': `${num(s.backlog)} (${num(s.backlog_low)}–${num(s.backlog_high)})`, 'on time, with move': pct(s.on_time_rate),
          };
        }));
      }
    }
    return 0;
  }, 'read');
};
