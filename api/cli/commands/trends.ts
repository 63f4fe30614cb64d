// civic trends: trend and anomaly findings, one sentence each, or --json.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    'as-of': { type: 'string' },
    weeks: { type: 'string' },
    by: { type: 'string' },
    period: { type: 'string' },
    service: { type: 'string' },
    json: { type: 'boolean' },
  });
  const [{ cliConfig, withWarehouse }, { resolveWindow }, { computeFindings }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/kpis.ts'), import('../../../warehouse/analytics/findings.ts'),
  ]);
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const weeks = Number(values.weeks ?? 52);
    const w = await resolveWindow(wh, { from: values.from, to: values.to, as_of: values['as-of'], weeks }, config.timezone);
    const by = (values.by ?? 'service').split(',');
    if (!by.every((b) => b === 'service' || b === 'area')) throw new UsageError('--by: service, area or service,area');
    const r = await computeFindings(wh, { window: w, by: by as ('service' | 'area')[], period: values.period === 'day' ? 'day' : 'week', filter: values.service ? { service: values.service } : undefined });
    if (values.json) process.stdout.write(JSON.stringify({ ...w, ...r }, null, 2) + '\n');
    else {
      process.stdout.write(`Findings for ${w.from} to ${w.to} (${r.series_tested} series tested)\n`);
      for (const f of [...r.trends, ...r.anomalies]) process.stdout.write(`  • ${f.sentence}\n`);
      if (r.trends.length + r.anomalies.length === 0) process.stdout.write('  no trend or anomaly beyond chance\n');
    }
    return 0;
  });
};
