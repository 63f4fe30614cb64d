// civic equity: how service differs between areas of one kind, in one sentence and a table, or --json.
import { parseCommandArgs, type Command } from '../args.ts';
import { ANALYSIS_OPTIONS } from '../analysis.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, { ...ANALYSIS_OPTIONS, 'min-cases': { type: 'string' } });
  const [{ cliConfig, withWarehouse }, { computeEquity }, { formatHours }, { coverage, filterFrom, windowFrom }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/equity.ts'), import('../../../warehouse/analytics/format.ts'), import('../analysis.ts'),
  ]);
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const { window, jurisdiction } = await windowFrom(wh, config, values, 12);
    const r = await computeEquity(wh, { window, filter: filterFrom(values), area_kind: values['area-kind'], minCases: values['min-cases'] ? Number(values['min-cases']) : undefined });
    if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else {
      process.stdout.write(`Equity — ${coverage(r, jurisdiction)}\n${r.sentence}\n`);
      const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
      console.table(r.areas.map((a) => ({ area: a.area, cases: a.cases, 'median to close': formatHours(a.median_hours_to_close), 'on time': a.on_time_denominator ? `${pct(a.on_time_rate)} of ${a.on_time_denominator}` : 'no due times', 'CSAT top-2': a.csat_responses ? `${pct(a.csat_top2)} of ${a.csat_responses}` : 'no answers' })));
      if (r.areas_too_small) process.stdout.write(`${r.areas_too_small} areas with fewer than ${r.min_cases} cases left out; ${r.cases_in_no_area} cases in no area of this kind.\n`);
    }
    return 0;
  }, 'read');
};
