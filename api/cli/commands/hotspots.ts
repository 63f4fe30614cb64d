// civic hotspots: statistically tested hot and cold spots on an H3 grid, or GeoJSON with --json.
import { parseCommandArgs, type Command } from '../args.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    'as-of': { type: 'string' },
    weeks: { type: 'string' },
    resolution: { type: 'string' },
    k: { type: 'string' },
    service: { type: 'string' },
    json: { type: 'boolean' },
  });
  const [{ cliConfig, withWarehouse }, { resolveWindow }, { computeHotspots, hotspotsGeoJson }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/kpis.ts'), import('../../../warehouse/analytics/hotspots.ts'),
  ]);
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const weeks = Number(values.weeks ?? 52);
    const w = await resolveWindow(wh, { from: values.from, to: values.to, as_of: values['as-of'], weeks }, config.timezone);
    const r = await computeHotspots(wh, { resolution: Number(values.resolution ?? 8), k: Number(values.k ?? 1), window: w, filter: values.service ? { service: values.service } : undefined, fdr: true });
    if (values.json) process.stdout.write(JSON.stringify(hotspotsGeoJson(r)) + '\n');
    else {
      const hot = r.cells.filter((c) => c.bin !== 0).sort((a, b) => b.bin - a.bin || (b.z ?? 0) - (a.z ?? 0));
      process.stdout.write(`Hot and cold spots, ${w.from} to ${w.to}: ${r.cells.length} cells at resolution ${r.parameters.resolution}, ${hot.length} significant (FDR)\n`);
      console.table(hot.slice(0, 25).map((c) => ({ h3: c.h3, count: c.count, z: c.z === null ? null : +c.z.toFixed(2), bin: c.bin, cluster: c.cluster })));
    }
    return 0;
  });
};
