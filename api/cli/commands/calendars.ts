// civic calendars <calendars.json>: business hours and holidays; cases re-dated in working hours.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';

export const run: Command = async (argv) => {
  const { values, positionals: args } = parseCommandArgs(argv, {});
  const [file] = args;
  if (!file) throw new UsageError('usage: civic calendars <calendars.json>');
  const [{ cliConfig, withWarehouse }, { loadCalendars }] = await Promise.all([import('../warehouse.ts'), import('../../../ingest/calendars.ts')]);
  return withWarehouse(cliConfig(values), async (wh) => {
    const r = await loadCalendars(wh, file);
    process.stdout.write(`${file}: ${r.calendars} calendars loaded; ${r.cases_redated} cases re-dated in business hours\n`);
    return 0;
  });
};
