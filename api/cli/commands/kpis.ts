// civic kpis: service KPIs as a table (one overall row unless --by), --json (the API's shape) or --csv.
import { parseCommandArgs, type Command } from '../args.ts';
import { ANALYSIS_OPTIONS } from '../analysis.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, { ...ANALYSIS_OPTIONS, by: { type: 'string' }, csv: { type: 'boolean' } });
  const [{ cliConfig, withWarehouse }, { computeKpis }, { parseDimensions }, { kpiCsv }, { formatHours }, { coverage, filterFrom, windowFrom }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/kpis.ts'), import('../../../warehouse/analytics/dimensions.ts'),
    import('../../routes/kpis/index.ts'), import('../../../warehouse/analytics/format.ts'), import('../analysis.ts'),
  ]);
  const by = parseDimensions(values.by, '--by');
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const { window, jurisdiction } = await windowFrom(wh, config, values, 12);
    const result = await computeKpis(wh, by, window, filterFrom(values), { area_kind: values['area-kind'] });
    if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else if (values.csv) process.stdout.write(await kpiCsv(result.rows, by, 'all'));
    else {
      process.stdout.write(`KPIs — ${coverage(result, jurisdiction)}\n`);
      const pct = (v: number | null, of: number) => (v === null ? '–' : `${(v * 100).toFixed(1)}% of ${of}`);
      console.table(result.rows.map((r) => ({
        ...(by.length ? Object.fromEntries(by.map((d) => [d, r[d]])) : { '': 'all cases' }),
        opened: r.opened, closed: r.closed, 'median to close': formatHours(r.median_hours_to_close), 'on time': pct(r.on_time_rate, r.on_time_denominator),
        pending: r.pending, 'closed without due time': r.closed_without_due_time, backlog: r.backlog,
      })));
    }
    return 0;
  }, 'read');
};
