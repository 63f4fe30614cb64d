// civic report run <id> [--out DIR] [--as-of T]: run a report now, through the same path the
// schedule takes (built, archived, delivered, recorded). --out DIR writes the files to DIR only,
// instead of the report's recipients.
// civic report list: every definition (configuration, built-in, API) with its next three runs.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';

const USAGE = 'usage: civic report run <id> [--out DIR] [--as-of T]\n       civic report list';

export const run: Command = async (argv) => {
  const { values, positionals: args } = parseCommandArgs(argv, { out: { type: 'string' }, 'as-of': { type: 'string' } });
  const [sub, id] = args;
  if (sub === 'list' ? args.length !== 1 : sub !== 'run' || !id || args.length !== 2) throw new UsageError(USAGE);
  const [{ cliConfig, withWarehouse }, { ReportService }, { fileLinkKey }, { resolveJurisdiction }, { nextRunTimes }, { recipientLabel }] = await Promise.all([
    import('../warehouse.ts'),
    import('../../../reports/service.ts'),
    import('../../../reports/file-link.ts'),
    import('../../../warehouse/analytics/jurisdiction.ts'),
    import('../../../reports/schedule.ts'),
    import('../../../reports/report-config.ts'),
  ]);
  const config = cliConfig(values);
  const { sessionSecret } = await import('../../plugins/session.ts');
  return withWarehouse(config, async (wh) => {
    const j = await resolveJurisdiction(wh, { jurisdiction: config.jurisdiction, timezone: config.timezone });
    const log = { info: () => undefined, warn: () => undefined, error: (o: object, m: string) => process.stderr.write(`${m} ${JSON.stringify(o, (k, v) => (k === 'err' && v instanceof Error ? v.message : v))}\n`) };
    const service = new ReportService({
      wh,
      reports: config.reports,
      linkKey: fileLinkKey(sessionSecret(config.auth.session_secret, config.database)),
      context: async () => ({ jurisdiction: j.name, timezone: j.timezone, targets: config.targets, min_denominator: config.display.min_denominator, disclosure: config.disclosure }),
      log,
    });
    const defs = await service.definitions();

    if (sub === 'list') {
      const lines = defs.map((d) => {
        const tz = d.timezone ?? j.timezone;
        const next = d.enabled && d.cron ? nextRunTimes(d.cron, tz, 3).map((t) => localTime(t, tz)) : [];
        return [
          `${d.id}  (${d.source}${d.enabled ? '' : ', disabled'})  ${d.title}`,
          `  schedule: ${d.cron ? `${d.cron} in ${tz}` : 'on demand only'}`,
          ...(next.length ? [`  next runs: ${next.join(' · ')}`] : []),
          `  ${d.formats.join(' + ')} to ${d.parsed_recipients.map(recipientLabel).join(', ') || 'nobody'}; audience ${d.audience}${d.agencies ? `; agencies ${d.agencies.join(', ')}` : ''}${d.owner ? `; owner ${d.owner}` : ''}`,
        ].join('\n');
      });
      process.stdout.write(`${lines.join('\n\n')}\n`);
      return 0;
    }

    const def = defs.find((d) => d.id === id);
    if (!def) throw new UsageError(`unknown report "${id}" (reports: ${defs.map((d) => d.id).join(', ')})`);
    const target = values.out ? { ...def, parsed_recipients: [{ kind: 'folder' as const, raw: `folder:${values.out}`, target: values.out }] } : def;
    const started = await service.runner.start(target, { trigger: 'cli', requested_by: `cli:${process.env.USER ?? 'local'}`, as_of: values['as-of'] });
    const r = await started.done;
    const { getRun } = await import('../../../warehouse/analytics/report-runs.ts');
    const detail = (await getRun(wh, r.run_id))!;
    process.stdout.write(
      [
        `${detail.title ?? def.title} — run ${detail.run_id}: ${detail.status}${detail.error ? ` (${detail.error})` : ''}`,
        ...detail.files.map((f) => `  file ${f.name} (${f.bytes.toLocaleString('en-US')} bytes)`),
        ...detail.deliveries.map((d) => `  ${d.kind} ${d.recipient}: ${d.status}${d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}${d.error ? ` — ${d.error}` : d.detail ? ` — ${d.detail}` : ''}`),
      ].join('\n') + '\n',
    );
    return detail.status === 'succeeded' ? 0 : 1;
  }, sub === 'list' ? 'read' : 'write');
};

function localTime(t: Date, timezone: string): string {
  const s = t.toLocaleString('sv-SE', { timeZone: timezone, hour12: false });
  return `${s.slice(0, 16)} ${new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'short' }).formatToParts(t).find((p) => p.type === 'timeZoneName')?.value ?? ''}`.trim();
}
