// The configuration and the warehouse, as the commands that need them open them.
import { loadConfig, type Config } from '../config.ts';
import { Warehouse } from '../../warehouse/db.ts';

/** civic.config.json + environment, with `--database` overriding both. */
export function cliConfig(values: { database?: string }): Config {
  return loadConfig(values.database ? { ...process.env, CIVIC_DATABASE: values.database } : process.env);
}

export async function withWarehouse<T>(config: Config, fn: (wh: Warehouse) => Promise<T>): Promise<T> {
  const wh = await Warehouse.open(config.database, { memoryLimit: config.memory_limit ?? undefined });
  try {
    return await fn(wh);
  } finally {
    wh.close();
  }
}
