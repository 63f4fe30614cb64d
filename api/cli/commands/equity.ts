// civic equity: how service differs between areas, in one sentence and a table, or --json.
import { parseCommandArgs, type Command } from '../args.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    'as-of': { type: 'string' },
    weeks: { type: 'string' },
    service: { type: 'string' },
    json: { type: 'boolean' },
  });
  const [{ cliConfig, withWarehouse }, { resolveWindow }, { computeEquity }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/kpis.ts'), import('../../../warehouse/analytics/equity.ts'),
  ]);
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const weeks = Number(values.weeks ?? 12);
    const w = await resolveWindow(wh, { from: values.from, to: values.to, as_of: values['as-of'], weeks }, config.timezone);
    const r = await computeEquity(wh, { window: w, filter: values.service ? { service: values.service } : undefined });
    if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else {
      process.stdout.write(`${r.sentence}\n`);
      console.table(r.areas.map((a) => ({ area: a.area, cases: a.cases, 'median h': a.median_hours_to_close, 'on-time %': a.on_time_rate === null ? null : +(a.on_time_rate * 100).toFixed(1), 'CSAT top-2 %': a.csat_top2 === null ? null : +(a.csat_top2 * 100).toFixed(1) })));
    }
    return 0;
  });
};
