// Seeds the demo city once per test run (about 8 s) into a warehouse file that tests copy, rather
// than every suite generating and loading the same 34,000 cases again.
import type { TestProject } from 'vitest/node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Warehouse } from '../warehouse/db.ts';
import { seedDemoCity } from '../ingest/demo-city.ts';

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'civic-demo-seed-'));
  const path = join(dir, 'civic.duckdb');
  const wh = await Warehouse.open(path);
  try {
    const seeded = await seedDemoCity(wh);
    writeFileSync(join(dir, 'demo-manifest.json'), JSON.stringify(seeded.manifest));
    await wh.run('CHECKPOINT');
  } finally {
    wh.close();
  }
  project.provide('demoSeedDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    demoSeedDir: string;
  }
}
