// civic report run <id>: render a report now, into --out or the configured folder.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';

export const run: Command = async (argv) => {
  const { values, positionals: args } = parseCommandArgs(argv, { out: { type: 'string' }, 'as-of': { type: 'string' } });
  const [sub, id] = args;
  const { REPORTS } = await import('../../../reports/definitions.ts');
  if (sub !== 'run' || !id) throw new UsageError(`usage: civic report run <id> [--out DIR] [--as-of T] (reports: ${Object.keys(REPORTS).join(', ')})`);
  if (!Object.hasOwn(REPORTS, id)) throw new UsageError(`unknown report "${id}" (reports: ${Object.keys(REPORTS).join(', ')})`);
  const [{ cliConfig, withWarehouse }, { runReport }] = await Promise.all([import('../warehouse.ts'), import('../../../reports/run.ts')]);
  const config = cliConfig(values);
  const { resolveJurisdiction } = await import('../../../warehouse/analytics/jurisdiction.ts');
  return withWarehouse(config, async (wh) => {
    const j = await resolveJurisdiction(wh, { jurisdiction: config.jurisdiction, timezone: config.timezone });
    const run = await runReport(wh, id, { jurisdiction: j.name, timezone: j.timezone, as_of: values['as-of'] }, values.out ?? config.reports.out_dir);
    process.stdout.write(`${run.title}\n${run.files.map((f) => `  wrote ${f}`).join('\n')}\n`);
    return 0;
  }, 'read');
};
