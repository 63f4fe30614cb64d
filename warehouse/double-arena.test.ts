import { describe, expect, it } from 'vitest';
import { DoubleArena, dropSpareBlocks, ListsTogether, returnBlock, spareNumbers, takeBlock } from './double-arena.ts';

describe('DoubleArena', () => {
  it('carves arrays that do not overlap out of shared blocks, and a long one out of its own', () => {
    const arena = new DoubleArena();
    const a = arena.alloc(10);
    const b = arena.alloc(20);
    const big = arena.alloc(3_000_000);
    expect([a.length, b.length, big.length, arena.alloc(0).length]).toEqual([10, 20, 3_000_000, 0]);
    expect(a.buffer).toBe(b.buffer);
    expect(big.buffer).not.toBe(a.buffer);
    a.fill(1);
    b.fill(2);
    big.fill(3);
    expect([a.every((x) => x === 1), b.every((x) => x === 2), big.every((x) => x === 3)]).toEqual([true, true, true]);
    arena.release();
  });

  it('reuses released blocks: the next arena gets the same memory', () => {
    const first = new DoubleArena();
    const x = first.alloc(2_500_000);
    first.release();
    const second = new DoubleArena();
    const y = second.alloc(2_400_000);
    // The smallest spare block that fits: the one just released.
    expect(y.buffer).toBe(x.buffer);
    second.release();
  });

  it('keeps spare blocks only up to its bound, and each block once', () => {
    dropSpareBlocks();
    const one = takeBlock(1 << 20);
    returnBlock(one);
    returnBlock(one);
    expect(spareNumbers()).toBe(1 << 20);
    dropSpareBlocks();
    const blocks = Array.from({ length: 40 }, () => takeBlock(1 << 20));
    for (const b of blocks) returnBlock(b);
    expect(spareNumbers()).toBe(32 * (1 << 20));
    expect(() => returnBlock(blocks[1].subarray(1))).toThrow(/not a whole block/);
  });

  it('does not hand a small request a block far larger than it needs', () => {
    dropSpareBlocks();
    const big = takeBlock(8 << 20);
    returnBlock(big);
    expect(takeBlock(1000)).not.toBe(big);
    expect(takeBlock(5 << 20)).toBe(big);
  });
});

describe('ListsTogether', () => {
  it('copies the parts in order, whatever the budget of a step, empty parts included', () => {
    const parts = [[1, 2, 3], [], [4], [5, 6, 7, 8, 9], [], [10, 11]].map((p) => Float64Array.from(p));
    for (const budget of [1, 2, 3, 4, 7, 100]) {
      const arena = new DoubleArena();
      const t = new ListsTogether(parts, arena);
      const steps: number[] = [];
      while (!t.done) steps.push(t.advance(budget));
      expect([...t.out]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      // No step copies more than its budget, and every step but the last uses all of it.
      expect(steps.every((n) => n <= budget)).toBe(true);
      expect(steps.slice(0, -1).every((n) => n === budget)).toBe(true);
      expect(steps.reduce((a, b) => a + b, 0)).toBe(11);
      arena.release();
    }
  });

  it('writes the zeros counted apart first, over whatever the reused block held, whatever the budget', () => {
    const parts = [[4, 5], [], [6]].map((p) => Float64Array.from(p));
    for (const budget of [1, 2, 3, 5, 100]) {
      // The block handed out again still holds the last arena's numbers: the zeros must be written.
      const dirty = new DoubleArena();
      dirty.alloc(8).fill(7);
      dirty.release();
      const arena = new DoubleArena();
      const t = new ListsTogether(parts, arena, 4);
      const steps: number[] = [];
      while (!t.done) steps.push(t.advance(budget));
      expect([...t.out]).toEqual([0, 0, 0, 0, 4, 5, 6]);
      expect(steps.every((n) => n <= budget)).toBe(true);
      expect(steps.reduce((a, b) => a + b, 0)).toBe(7);
      arena.release();
    }
  });

  it('steps past empty parts without copying anything', () => {
    const t = new ListsTogether([new Float64Array(0), new Float64Array(0)], new DoubleArena());
    expect(t.advance(5)).toBe(0);
    expect([t.done, t.out.length]).toEqual([true, 0]);
  });
});
