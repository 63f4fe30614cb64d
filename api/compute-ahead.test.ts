// computeAhead: one run at a time, loads that land meanwhile make one more run, nothing before the
// server listens or once it closes. A bare Fastify with a stand-in for the ingest service's hook.
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { computeAhead } from './compute-ahead.ts';

describe('computeAhead', () => {
  it('computes at listen and after loads, one run at a time, and loads that land meanwhile make one more run', async () => {
    const fastify = Fastify({ logger: false });
    const landed: (() => void)[] = [];
    fastify.decorate('ingest', { onLanded: (fn: () => void) => landed.push(fn) } as never);
    const releases: (() => void)[] = [];
    let runs = 0;
    computeAhead(fastify, 'test answer', () => {
      runs++;
      return new Promise<void>((resolve) => releases.push(resolve));
    });
    const land = () => landed.forEach((fn) => fn());
    const settle = () => new Promise((r) => setTimeout(r, 20));

    land(); // before listening: nothing
    await settle();
    expect(runs).toBe(0);

    await fastify.listen({ port: 0, host: '127.0.0.1' });
    await settle();
    expect(runs).toBe(1);
    land();
    land();
    land(); // three loads while the first run is in progress
    await settle();
    expect(runs).toBe(1);
    releases.shift()!();
    await settle();
    expect(runs).toBe(2); // one more run for all three
    releases.shift()!();
    await settle();
    expect(runs).toBe(2);

    land();
    await settle();
    expect(runs).toBe(3);
    await fastify.close(); // the run in progress finishes; none starts after
    releases.shift()!();
    land();
    await settle();
    expect(runs).toBe(3);
  });
});
