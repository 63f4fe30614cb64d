// The demo city for tests, seeded once per run (test/global-setup.ts) and copied per suite.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { DemoManifest } from '../ingest/demo-city.ts';
import { openInTempDir, type TempWarehouse } from './helpers.ts';

/**
 * A fresh copy of the demo city's warehouse, seeded once per run by test/global-setup.ts (the copy
 * is the test's own: it may write to it). The manifest says what the generator planted.
 */
export async function demoWarehouse(): Promise<TempWarehouse & { manifest: DemoManifest }> {
  const seed = inject('demoSeedDir');
  const dir = mkdtempSync(join(tmpdir(), 'civic-test-'));
  cpSync(seed, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'demo-manifest.json'), 'utf8')) as DemoManifest;
  return { ...(await openInTempDir(dir, join(dir, 'civic.duckdb'))), manifest };
}
