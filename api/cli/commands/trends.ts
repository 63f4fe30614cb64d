// civic trends: trend and anomaly findings, one sentence each, or --json.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';
import { ANALYSIS_OPTIONS } from '../analysis.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, { ...ANALYSIS_OPTIONS, by: { type: 'string' }, period: { type: 'string' } });
  if (values.period !== undefined && values.period !== 'week' && values.period !== 'day') throw new UsageError(`--period must be one of week, day (got "${values.period}")`);
  const [{ cliConfig, withWarehouse }, { computeFindings }, { parseDimensions }, { SERIES_GROUPS }, { coverage, filterFrom, windowFrom }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/findings.ts'), import('../../../warehouse/analytics/dimensions.ts'),
    import('../../../warehouse/queries/series-sql.ts'), import('../analysis.ts'),
  ]);
  const by = parseDimensions(values.by ?? 'service', '--by', SERIES_GROUPS) as ('service' | 'area')[];
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const { window, jurisdiction } = await windowFrom(wh, config, values, 52);
    const r = await computeFindings(wh, { window, by, period: values.period === 'day' ? 'day' : 'week', filter: filterFrom(values), area_kind: values['area-kind'] });
    if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else {
      process.stdout.write(`Findings — ${coverage(r, jurisdiction)} (${r.series_tested} series tested)\n`);
      for (const f of [...r.trends, ...r.anomalies]) process.stdout.write(`  • ${f.sentence}\n`);
      if (r.trends.length + r.anomalies.length === 0) process.stdout.write('  no trend or anomaly beyond chance\n');
    }
    return 0;
  }, 'read');
};
