import { describe, expect, it } from 'vitest';
import { Warehouse } from '../db.ts';
import { checkRegistry, countWhere, MEASURES } from './measures.ts';

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

describe('the registry', () => {
  it('is consistent: unique snake_case names, case counts derived from their predicates, ratios of counts, each sum reading only its kind of data', () => {
    expect(checkRegistry()).toEqual([]);
  });

  it('refuses a sum that reads anything besides its kind of data (it would be 0, unread, where that data is not held)', () => {
    const registry = MEASURES as unknown as { name: string; sql?: string }[];
    const sum = registry.find((m) => m.name === 'nps_net')!;
    const sql = sum.sql;
    try {
      sum.sql = 'coalesce(sum(promoters), 0) - coalesce(sum(contacts_n), 0)';
      expect(checkRegistry()).toEqual(['nps_net: reads contacts_n besides the surveys columns']);
    } finally {
      sum.sql = sql;
    }
    expect(checkRegistry()).toEqual([]);
  });
});
