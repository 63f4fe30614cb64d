import { describe, expect, it } from 'vitest';
import { DoubleArena, dropSpareBlocks, returnBlock, spareNumbers, takeBlock } from './double-arena.ts';

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
