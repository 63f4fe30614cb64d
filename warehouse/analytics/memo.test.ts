import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';
import { MEMO_MAX_WEIGHT, memoByData, memoKey } from './memo.ts';

describe('memoByData: an answer kept until the data changes', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  it('computes once per data version, shares a computation in flight, and recomputes when a batch lands', async () => {
    let calls = 0;
    const fn = async () => ++calls;
    const [a, b] = await Promise.all([memoByData(t.wh, 'k', fn), memoByData(t.wh, 'k', fn)]);
    expect([a, b, calls]).toEqual([1, 1, 1]);
    expect(await memoByData(t.wh, 'k', fn)).toBe(1);
    expect(await memoByData(t.wh, 'other', fn)).toBe(2);
    await t.wh.run(`INSERT INTO ingest_batches (batch_id, source, kind, file_name, profile, started_at) VALUES ('b1', 's', 'cases', 'f.csv', 'p', now())`);
    expect(await memoByData(t.wh, 'k', fn)).toBe(3);
  });

  it('keeps no failure, and drops the least recently used answers past its weight', async () => {
    let n = 0;
    await expect(memoByData(t.wh, 'fails', async () => { n++; throw new Error('no'); })).rejects.toThrow('no');
    await expect(memoByData(t.wh, 'fails', async () => ++n)).resolves.toBe(2);
    const big = async () => 'big';
    await memoByData(t.wh, 'first', async () => 'first', () => MEMO_MAX_WEIGHT / 2);
    await memoByData(t.wh, 'second', big, () => MEMO_MAX_WEIGHT / 2 + 1);
    let recomputed = false;
    await memoByData(t.wh, 'first', async () => ((recomputed = true), 'again'));
    expect(recomputed).toBe(true);
  });

  it('names a key by its values, whatever the order of an object\'s keys', () => {
    expect(memoKey('kpis', { a: 1, b: [2, { d: 4, c: 3 }] })).toBe(memoKey('kpis', { b: [2, { c: 3, d: 4 }], a: 1, e: undefined }));
    expect(memoKey('kpis', { a: 1 })).not.toBe(memoKey('trends', { a: 1 }));
  });
});
