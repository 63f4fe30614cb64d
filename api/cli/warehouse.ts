// The configuration and the warehouse, as the commands that need them open them.
import { existsSync } from 'node:fs';
import { loadConfig, type Config } from '../config.ts';
import { Warehouse, WarehouseLockedError } from '../../warehouse/db.ts';
import { CivicError } from '../../warehouse/errors.ts';

/** civic.config.json + environment, with `--database` overriding both. */
export function cliConfig(values: { database?: string }): Config {
  return loadConfig(values.database ? { ...process.env, CIVIC_DATABASE: values.database } : process.env);
}

/**
 * Opens the warehouse for a command. A command that only reads (`read`) refuses a file that does
 * not exist — a mistyped --database would otherwise create an empty warehouse and print zeros —
 * and, when the server holds the file, says to ask the server rather than talking about ingest.
 */
export async function withWarehouse<T>(config: Config, fn: (wh: Warehouse) => Promise<T>, purpose: 'read' | 'write' = 'write'): Promise<T> {
  if (purpose === 'read' && config.database !== ':memory:' && !existsSync(config.database)) {
    throw new CivicError(`No warehouse at ${config.database}: check --database (or CIVIC_DATABASE), or load data first (civic demo, civic ingest).`);
  }
  let wh: Warehouse;
  try {
    wh = await Warehouse.open(config.database, { memoryLimit: config.memory_limit ?? undefined });
  } catch (err) {
    if (purpose === 'read' && err instanceof WarehouseLockedError) {
      throw new CivicError(
        `The warehouse ${config.database} is in use by another process (the server?). Ask the server instead — the same figures are at ` +
          `GET /api/kpis, /api/trends, /api/equity and /api/hotspots — or stop it first.`,
        { cause: err },
      );
    }
    throw err;
  }
  try {
    return await fn(wh);
  } finally {
    wh.close();
  }
}
