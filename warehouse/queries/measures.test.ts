import { describe, expect, it } from 'vitest';
import { Warehouse } from '../db.ts';
import { countWhere } from './measures.ts';

describe('countWhere', () => {
  it('counts the cases a predicate holds for, 0 (never NULL) where it holds for none or is NULL for all', async () => {
    const wh = await Warehouse.open(':memory:');
    try {
      const count = async (from: string) => (await wh.one<{ n: number | null }>(`SELECT (${countWhere('x > 1')})::INTEGER AS n FROM ${from}`))!.n;
      expect(await count('(VALUES (1), (2), (3), (NULL)) t(x)')).toBe(2);
      expect(await count('(VALUES (NULL::INTEGER), (NULL)) t(x)')).toBe(0);
      expect(await count('(SELECT 1 AS x WHERE false)')).toBe(0);
      expect(countWhere('TRUE')).toBe('count(*)');
    } finally {
      wh.close();
    }
  });
});
