// civic hotspots: statistically tested hot and cold spots on an H3 grid, or GeoJSON with --json.
import { parseCommandArgs, type Command } from '../args.ts';
import { ANALYSIS_OPTIONS } from '../analysis.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, { ...ANALYSIS_OPTIONS, resolution: { type: 'string' }, k: { type: 'string' } });
  const [{ cliConfig, withWarehouse }, { computeHotspots, hotspotsGeoJson }, { filterFrom, windowFrom }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/hotspots.ts'), import('../analysis.ts'),
  ]);
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const { window, jurisdiction } = await windowFrom(wh, config, values, 52);
    const r = await computeHotspots(wh, { resolution: Number(values.resolution ?? 8), k: Number(values.k ?? 1), window, filter: filterFrom(values), area_kind: values['area-kind'], fdr: true });
    if (values.json) process.stdout.write(JSON.stringify({ ...hotspotsGeoJson(r), properties: { ...r.parameters, study_area: r.study_area } }) + '\n');
    else {
      const p = r.parameters;
      const hot = r.cells.filter((c) => c.bin !== 0).sort((a, b) => b.bin - a.bin || (b.z ?? 0) - (a.z ?? 0));
      process.stdout.write(`Hot and cold spots — ${jurisdiction}: cases opened ${p.from} to ${p.to} (${p.timezone}), as of ${p.as_of}; ` +
        `H3 resolution ${p.resolution}, k = ${p.k}, FDR ${p.fdr ? 'on' : 'off'}; study area: ${r.study_area === 'areas' ? `the ${p.area_kind} polygons` : 'the cells near the data'}. ` +
        `${r.cells.length} cells, ${hot.length} significant\n`);
      console.table(hot.slice(0, 25).map((c) => ({ h3: c.h3, count: c.count, z: c.z === null ? null : +c.z.toFixed(2), bin: c.bin, cluster: c.cluster })));
    }
    return 0;
  }, 'read');
};
