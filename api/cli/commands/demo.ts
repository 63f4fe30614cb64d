// civic demo: load the demo city (and write what it planted).
import { writeFileSync } from 'node:fs';
import { parseCommandArgs, type Command } from '../args.ts';

export const run: Command = async (argv) => {
  const { values } = parseCommandArgs(argv, { seed: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } });
  const [{ cliConfig, withWarehouse }, { seedDemoCity }] = await Promise.all([import('../warehouse.ts'), import('../../../ingest/demo-city.ts')]);
  return withWarehouse(cliConfig(values), async (wh) => {
    const r = await seedDemoCity(wh, { seed: values.seed ? Number(values.seed) : undefined });
    if (values.out) writeFileSync(values.out, JSON.stringify(r.manifest, null, 2) + '\n');
    process.stdout.write(values.json ? JSON.stringify(r) + '\n' : `demo city: ${r.cases.loaded} cases loaded (${r.cases.duplicate} already present), ${r.interactions} contacts, ${r.surveys} survey answers\n`);
    return 0;
  });
};
