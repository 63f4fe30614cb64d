// civic kpis: service KPIs as a table, --json (the API's shape) or --csv.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    'as-of': { type: 'string' },
    by: { type: 'string' },
    service: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
  });
  const [{ cliConfig, withWarehouse }, { computeKpis, resolveWindow }, { DIMENSION_NAMES, isDimension }, { kpiCsv }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/kpis.ts'), import('../../../warehouse/queries/kpi-sql.ts'), import('../../routes/kpis/index.ts'),
  ]);
  const by = (values.by ?? 'service').split(',');
  const bad = by.filter((d) => !isDimension(d));
  if (bad.length) throw new UsageError(`--by: unknown dimension ${bad.join(', ')} (use ${DIMENSION_NAMES.join(', ')})`);
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const window = await resolveWindow(wh, { from: values.from, to: values.to, as_of: values['as-of'] }, config.timezone);
    const dims = by.filter(isDimension);
    const result = await computeKpis(wh, dims, window, values.service ? { service: values.service } : {});
    if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else if (values.csv) process.stdout.write(kpiCsv(result.rows, dims, 'all'));
    else {
      process.stdout.write(`KPIs for cases opened ${window.from} to ${window.to} (${window.timezone}), as of ${window.as_of}\n`);
      console.table(result.rows.map((r) => ({ ...Object.fromEntries(by.map((d) => [d, r[d as keyof typeof r]])), opened: r.opened, closed: r.closed, 'median h': r.median_hours_to_close, 'on-time %': r.on_time_rate === null ? null : +(r.on_time_rate * 100).toFixed(1), pending: r.pending })));
    }
    return 0;
  });
};
