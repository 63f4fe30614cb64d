// Shared test set-up: real DuckDB warehouses in temp folders, never mocks.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Warehouse } from '../warehouse/db.ts';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const fixture = (name: string) => join(FIXTURES, name);
export const LA311_CSV = fixture('la311/MyLA311_Service_Request_Data_2017_Subset.csv');

export interface TempWarehouse {
  wh: Warehouse;
  dir: string;
  path: string;
  /** Writes a file into the temp folder and returns its path. */
  write(name: string, body: string | Uint8Array): string;
  cleanup(): void;
}

/** A warehouse in a fresh temp file (or :memory:), migrated. */
export async function tempWarehouse(opts: { memory?: boolean } = {}): Promise<TempWarehouse> {
  const dir = mkdtempSync(join(tmpdir(), 'civic-test-'));
  const path = opts.memory ? ':memory:' : join(dir, 'civic.duckdb');
  return openInTempDir(dir, path);
}

/** Opens (and migrates) the warehouse at `path` inside the test's own temp folder `dir`. */
export async function openInTempDir(dir: string, path: string): Promise<TempWarehouse> {
  const wh = await Warehouse.open(path);
  return {
    wh,
    dir,
    path,
    write(name, body) {
      const p = join(dir, name);
      writeFileSync(p, body);
      return p;
    },
    cleanup() {
      try {
        wh.close();
      } catch {
        // already closed by the code under test
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

