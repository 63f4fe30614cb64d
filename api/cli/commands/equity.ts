// civic equity: how service differs between areas of one kind — each area's median time to close,
// on-time rate and CSAT with 95% intervals, worst first — with the period and parameters, or --json / --csv.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';
import { ANALYSIS_OPTIONS } from '../analysis.ts';

const SORTS = ['median_hours_to_close', 'on_time_rate', 'csat_top2'];

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, { ...ANALYSIS_OPTIONS, 'min-cases': { type: 'string' }, sort: { type: 'string' }, csv: { type: 'boolean' } });
  const minCases = values['min-cases'] === undefined ? undefined : Number(values['min-cases']);
  if (minCases !== undefined && !(Number.isInteger(minCases) && minCases >= 1)) throw new UsageError(`--min-cases must be a whole number, at least 1 (got "${values['min-cases']}")`);
  if (values.sort !== undefined && !SORTS.includes(values.sort)) throw new UsageError(`--sort must be one of ${SORTS.join(', ')} (got "${values.sort}")`);
  const [{ cliConfig, withWarehouse }, equity, { formatHours, formatHoursRange }, { toCsv }, { coverage, filterFrom, windowFrom }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/equity.ts'), import('../../../warehouse/analytics/format.ts'), import('../../../reports/render-csv.ts'), import('../analysis.ts'),
  ]);
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const { window, jurisdiction } = await windowFrom(wh, config, values, 12);
    const r = await equity.computeEquity(wh, {
      window, filter: filterFrom(values), area_kind: values['area-kind'], minCases, sort: values.sort as (typeof equity.EQUITY_SORTS)[number] | undefined,
      minDenominator: config.display?.min_denominator,
    });
    if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else if (values.csv) process.stdout.write(toCsv(equity.equityRows(r), equity.EQUITY_COLUMNS));
    else {
      process.stdout.write(`Equity — ${coverage(r, jurisdiction)}\n` +
        `Areas with at least ${r.min_cases} cases; a figure on fewer than ${r.min_denominator} cases reads "too few cases"; 95% intervals (Kaplan–Meier log interval for the median, Wilson for shares); worst first by ${r.sort.replaceAll('_', ' ')}.\n${r.sentence}\n`);
      const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
      const share = (v: number | null, lo: number | null, hi: number | null, n: number, few: boolean, none: string) =>
        n === 0 ? none : few ? `too few cases (${n})` : `${pct(v)} (${pct(lo)}–${pct(hi)}) of ${n}`;
      console.table(r.areas.map((a) => ({
        area: a.area,
        cases: a.cases,
        'median to close (95% interval)': a.too_few.time_to_close ? `too few cases (${a.closed} closed)` : `${formatHours(a.median_hours_to_close)} (${formatHoursRange(a.median_hours_ci_lower, a.median_hours_ci_upper)})`,
        'on time (95% interval)': share(a.on_time_rate, a.on_time_ci_lower, a.on_time_ci_upper, a.on_time_denominator, a.too_few.on_time, 'no due times'),
        'CSAT top-2 (95% interval)': share(a.csat_top2, a.csat_ci_lower, a.csat_ci_upper, a.csat_responses, a.too_few.csat, 'no answers'),
      })));
      if (r.areas_too_small) process.stdout.write(`${r.areas_too_small} areas with fewer than ${r.min_cases} cases left out; ${r.cases_in_no_area} cases in no area of this kind.\n`);
    }
    return 0;
  }, 'read');
};
