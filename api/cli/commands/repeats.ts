// civic repeats: places (H3 cells of resolution 10 or 11) where the same service was requested
// again within N days of a close, with the period and parameters stated; --json, --csv or --geojson.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';
import { ANALYSIS_OPTIONS } from '../analysis.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, { ...ANALYSIS_OPTIONS, days: { type: 'string' }, resolution: { type: 'string' }, limit: { type: 'string' }, csv: { type: 'boolean' }, geojson: { type: 'boolean' } });
  const days = Number(values.days ?? 30);
  const resolution = Number(values.resolution ?? 10);
  // The table shows the 25 places with most repeats; the files every place (up to the row cap).
  const limit = values.limit !== undefined ? Number(values.limit) : values.csv || values.json || values.geojson ? 100_000 : 25;
  if (!(Number.isInteger(days) && days >= 1 && days <= 365)) throw new UsageError(`--days must be a whole number from 1 to 365 (got "${values.days}")`);
  if (resolution !== 10 && resolution !== 11) throw new UsageError(`--resolution must be 10 or 11 (got "${values.resolution}")`);
  if (!(Number.isInteger(limit) && limit >= 1)) throw new UsageError(`--limit must be a whole number, at least 1 (got "${values.limit}")`);
  const [{ cliConfig, withWarehouse }, repeats, { toCsv }, { coverage, filterFrom, windowFrom }] = await Promise.all([
    import('../warehouse.ts'), import('../../../warehouse/analytics/repeat-locations.ts'), import('../../../reports/render-csv.ts'), import('../analysis.ts'),
  ]);
  const config = cliConfig(values);
  return withWarehouse(config, async (wh) => {
    const { window, jurisdiction } = await windowFrom(wh, config, values, 12);
    const r = await repeats.computeRepeatLocations(wh, { window, filter: filterFrom(values), area_kind: values['area-kind'], days, resolution, limit });
    if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else if (values.csv) process.stdout.write(toCsv(repeats.repeatRows(r), repeats.REPEAT_COLUMNS));
    else if (values.geojson) process.stdout.write(JSON.stringify(repeats.repeatGeoJson(r)) + '\n');
    else {
      process.stdout.write(`Repeat locations — ${coverage(r, jurisdiction)}\nN = ${r.days} days, places: H3 cells of resolution ${r.resolution}, each named by the ${r.area_kind === 'source' ? 'area name' : r.area_kind} most of its requests are in. ${r.definition}\n${r.sentence}\n`);
      if (r.places.length) {
        console.table(r.places.map((p) => ({ area: p.area, service: p.service, cell: p.h3, requests: p.requests, repeats: p.repeats, share: `${(p.repeat_share * 100).toFixed(0)}%`, first: p.first_request, last: p.last_request })));
      }
      if (r.places_total > r.places.length) process.stdout.write(`… ${r.places_total - r.places.length} more places (--limit N, or --csv for all of them)\n`);
    }
    return 0;
  }, 'read');
};
