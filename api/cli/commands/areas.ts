// civic areas <file.geojson>: load area polygons and place the cases already loaded in them.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';

export const run: Command = async (argv) => {
  const { values, positionals: args } = parseCommandArgs(argv, {
    kind: { type: 'string' },
    'id-property': { type: 'string' },
    'name-property': { type: 'string' },
    'population-property': { type: 'string' },
  });
  const [file] = args;
  if (!file || !values.kind || !values['id-property'] || !values['name-property']) {
    throw new UsageError('usage: civic areas <file.geojson> --kind K --id-property P --name-property P [--population-property P]');
  }
  const [{ cliConfig, withWarehouse }, { loadAreasGeoJson }, { assignPlaces }] = await Promise.all([
    import('../warehouse.ts'), import('../../../ingest/areas.ts'), import('../../../ingest/places.ts'),
  ]);
  return withWarehouse(cliConfig(values), async (wh) => {
    const r = await loadAreasGeoJson(wh, file, {
      kind: values.kind!, idProperty: values['id-property']!, nameProperty: values['name-property']!, populationProperty: values['population-property'],
    });
    // Cases already loaded get their places in the new areas too.
    const placed = await assignPlaces(wh, {});
    process.stdout.write(`${file}: read ${r.read} features, loaded ${r.loaded}, rejected ${r.rejected}; ${placed.cases} cases placed\n` +
      r.rejects.map((x) => `  feature ${x.feature}: ${x.reason}\n`).join(''));
    return 0;
  });
};
