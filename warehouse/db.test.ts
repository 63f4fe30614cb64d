import { describe, expect, it } from 'vitest';
import { defaultMemoryLimit, Warehouse } from './db.ts';

describe('Warehouse.open', () => {
  it('caps DuckDB\'s memory by default (a quarter of the machine, 1–8 GiB), and takes a configured cap instead', async () => {
    expect(defaultMemoryLimit(24 * 2 ** 30)).toBe('6144MiB');
    expect(defaultMemoryLimit(2 * 2 ** 30)).toBe('1024MiB');
    expect(defaultMemoryLimit(256 * 2 ** 30)).toBe('8192MiB');
    const saved = process.env.CIVIC_MEMORY_LIMIT;
    delete process.env.CIVIC_MEMORY_LIMIT;
    try {
      // DuckDB reports its cap in its own units (MiB as "… MiB", rounded): compare in bytes.
      const bytes = (s: string) => {
        const m = /^([\d.]+)\s*(KiB|MiB|GiB|TiB|KB|MB|GB|TB)$/.exec(s)!;
        const f = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[m[2]]!;
        return Number(m[1]) * f;
      };
      const setting = async (wh: Warehouse) => String((await wh.one<{ v: string }>(`SELECT current_setting('memory_limit') AS v`))!.v);
      const plain = await Warehouse.open(':memory:');
      expect(bytes(await setting(plain)) / bytes(defaultMemoryLimit())).toBeCloseTo(1, 1); // DuckDB shows one decimal ("5.9 GiB")
      plain.close();
      const capped = await Warehouse.open(':memory:', { memoryLimit: '512MiB' });
      expect(bytes(await setting(capped))).toBe(512 * 2 ** 20);
      capped.close();
    } finally {
      if (saved !== undefined) process.env.CIVIC_MEMORY_LIMIT = saved;
    }
  });
});
