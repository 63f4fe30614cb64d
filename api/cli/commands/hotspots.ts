// civic hotspots: statistically tested hot and cold spots on an H3 grid, each cell named by the
// area its centre lies in, with the period and parameters stated; GeoJSON with --json.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';
import { ANALYSIS_OPTIONS } from '../analysis.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, { ...ANALYSIS_OPTIONS, resolution: { type: 'string' }, k: { type: 'string' }, all: { type: 'boolean' } });
  const resolution = Number(values.resolution ?? 8);
  const k = Number(values.k ?? 1);
  if (!(Number.isInteger(resolution) && resolution >= 5 && resolution <= 9)) throw new UsageError(`--resolution must be a whole number from 5 to 9 (got "${values.resolution}")`);
  if (!(Number.isInteger(k) && k >= 1 && k <= 5)) throw new UsageError(`--k must be a whole number from 1 to 5 (got "${values.k}")`);
  const [{ cliConfig, withWarehouse }, { computeHotspotLayer }, { filterFrom, windowFrom }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/map.ts'), import('../analysis.ts'),
  ]);
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const { window, jurisdiction } = await windowFrom(wh, config, values, 52);
    const layer = await computeHotspotLayer(wh, { resolution, k, fdr: true, window, filter: filterFrom(values), area_kind: values['area-kind'], cells: values.json && values.all ? 'all' : 'significant' });
    if (values.json) {
      process.stdout.write(JSON.stringify(layer) + '\n');
      return 0;
    }
    const p = layer.properties;
    const filters = Object.entries(p.filter).map(([key, v]) => `${key} = ${v}`);
    process.stdout.write(
      `Hot and cold spots — ${jurisdiction}: cases opened ${p.window.from} to ${p.window.to} (${p.window.timezone}), as of ${p.window.as_of}${filters.length ? `; ${filters.join(', ')}` : ''}\n` +
      `Getis–Ord Gi* on H3 resolution ${p.resolution}, k = ${p.k} (binary weights, self included); confidence bins at alpha ${p.alpha.map((a) => a.alpha).join(' / ')} ` +
      `(99/95/90%)${p.fdr ? ', Benjamini–Hochberg FDR-corrected' : ''}; study area: ${p.study_area === 'areas' ? `the ${p.area_kind} polygons` : 'the cells near the data'}; ` +
      `cells named by the ${p.area_kind} their centre lies in.\n${p.cells_total} cells: ${p.hot} hot, ${p.cold} cold\n`,
    );
    const rows = [...layer.features].sort((a, b) => b.properties.bin - a.properties.bin || (b.properties.z ?? 0) - (a.properties.z ?? 0));
    const shown = rows.slice(0, 25);
    if (shown.length) {
      console.table(shown.map((f) => ({ area: f.properties.area ?? '(outside the areas)', h3: f.properties.h3, requests: f.properties.count, z: f.properties.z === null ? null : +f.properties.z.toFixed(2), confidence: f.properties.confidence })));
    }
    if (rows.length > shown.length) process.stdout.write(`… and ${rows.length - shown.length} more significant cells (--json for all)\n`);
    return 0;
  }, 'read');
};
