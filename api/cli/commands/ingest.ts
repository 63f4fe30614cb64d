// civic ingest <files…> --profile P: load exports straight into the warehouse file.
import type cliProgressModule from 'cli-progress';
import { parseCommandArgs, UsageError, type Command } from '../args.ts';

/** A progress bar on a terminal; plain lines with --progress otherwise (logs, tests). */
function progressReporter(cliProgress: typeof cliProgressModule, file: string, plain: boolean) {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${file.split('/').pop()} {phase} [{bar}] {percentage}%`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(100, 0, { phase: 'read' });
    return { update: (phase: string, pct: number) => bar.update(Math.max(0, Math.round(pct)), { phase }), stop: () => bar.stop() };
  }
  let last = '';
  return {
    update: (phase: string, pct: number) => {
      const line = `${phase} ${Math.max(0, Math.round(pct))}%`;
      if (plain && line !== last) process.stderr.write(`progress: ${line}\n`);
      last = line;
    },
    stop: () => undefined,
  };
}

export const run: Command = async (argv) => {
  const { values, positionals: args } = parseCommandArgs(argv, {
    profile: { type: 'string' },
    timezone: { type: 'string' },
    jurisdiction: { type: 'string' },
    progress: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (args.length === 0) throw new UsageError('ingest needs at least one file');
  const { builtInProfiles, loadProfile } = await import('../../../ingest/profile.ts');
  if (!values.profile) throw new UsageError(`ingest needs --profile <name|path> (built-in: ${builtInProfiles().join(', ')})`);
  const profile = loadProfile(values.profile);
  const { isValidTimeZone } = await import('../../../ingest/time-zone.ts');
  if (values.timezone) {
    if (!isValidTimeZone(values.timezone)) throw new UsageError(`--timezone: "${values.timezone}" is not an IANA time zone (e.g. America/Chicago)`);
    profile.timezone = values.timezone;
  }
  const [{ cliConfig, withWarehouse }, { ingestFile }, { default: cliProgress }] = await Promise.all([
    import('../warehouse.ts'), import('../../../ingest/load.ts'), import('cli-progress'),
  ]);
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    for (const file of args) {
      const t0 = performance.now();
      const bar = progressReporter(cliProgress, file, Boolean(values.progress));
      const r = await ingestFile(wh, file, profile, { onProgress: bar.update, jurisdiction: values.jurisdiction }).finally(bar.stop);
      const secs = (performance.now() - t0) / 1000;
      if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
      else
        process.stdout.write(
          `${file}: read ${r.read}, loaded ${r.loaded}, rejected ${r.rejected}, already present ${r.duplicate}` +
            ` (${r.read} = ${r.loaded} + ${r.rejected} + ${r.duplicate}); ${r.flagged} loaded with data-quality flags; ` +
            `${r.events_added} events added in ${secs.toFixed(1)} s [batch ${r.batch_id}]\n` +
            (r.same_as ? `  the same file, read the same way, as batch ${r.same_as} (the last loaded): nothing new, nothing read into the warehouse again\n` : '') +
            (r.rejected > 0 ? `  see why: civic rejects ${r.batch_id}\n` : ''),
        );
      // Warnings (a different time zone than the warehouse's, a name taken from the source…) go to stderr.
      if (!values.json) for (const w of r.warnings) process.stderr.write(`  warning: ${w}\n`);
    }
    return 0;
  });
};
