import { describe, expect, it } from 'vitest';
import { latLngToCell } from 'h3-js';
import { Worker } from 'node:worker_threads';
import { CellNumbers, CellPool, cellKeysOfPoints, cellsOfPoints, POINTS_INLINE, POINTS_PER_JOB } from './h3-cells.ts';

/** Seeded points: clustered (repeated addresses, shared cells) and scattered over the globe. */
function points(n: number, seed: number): { lat: Float64Array<ArrayBuffer>; lon: Float64Array<ArrayBuffer> } {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const lat = new Float64Array(n), lon = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) {
      lat[i] = -89 + 178 * rnd();
      lon[i] = -179.9 + 359.8 * rnd();
    } else if (i % 3 === 1 && i > 10) {
      // the same point as an earlier one
      const j = Math.floor(rnd() * i);
      lat[i] = lat[j];
      lon[i] = lon[j];
    } else {
      lat[i] = 34.0 + 0.3 * rnd();
      lon[i] = -118.5 + 0.4 * rnd();
    }
  }
  return { lat, lon };
}

/** The answer a loop over latLngToCell on this thread gives. */
function expected(lat: Float64Array, lon: Float64Array, res: number): { cell: number[]; cells: string[] } {
  const cells: string[] = [];
  const ids = new Map<string, number>();
  const cell = Array.from(lat, (_, i) => {
    const name = latLngToCell(lat[i], lon[i], res);
    if (!ids.has(name)) (ids.set(name, cells.length), cells.push(name));
    return ids.get(name)!;
  });
  return { cell, cells };
}

describe('cellsOfPoints', () => {
  it('gives latLngToCell’s cell for every point, numbered in first-seen order, on the workers and inline', async () => {
    // Sizes on either side of the inline limit and of a job's size, so some jobs are partial.
    for (const [n, res] of [[0, 9], [1, 9], [POINTS_INLINE - 1, 10], [POINTS_INLINE, 9], [3 * POINTS_PER_JOB + 17, 11], [2 * POINTS_PER_JOB, 7]] as const) {
      const { lat, lon } = points(n, n + res);
      const latCopy = lat.slice(), lonCopy = lon.slice();
      const got = await cellsOfPoints(lat, lon, res);
      const want = expected(lat, lon, res);
      expect(got.cells).toEqual(want.cells);
      expect(Array.from(got.cell)).toEqual(want.cell);
      // Asked to, the calling thread does any number (as the loader's places do below a job's).
      const here = await cellsOfPoints(lat, lon, res, { inlineBelow: n + 1 });
      expect(here.cells).toEqual(want.cells);
      expect(Array.from(here.cell)).toEqual(want.cell);
      // The caller's arrays are not handed over or changed.
      expect(lat).toEqual(latCopy);
      expect(lon).toEqual(lonCopy);
    }
  });

  it('numbers cells asked for in parts as one pass over all the points would', async () => {
    const { lat, lon } = points(3 * POINTS_PER_JOB + 321, 11);
    const want = expected(lat, lon, 10);
    const numbers = new CellNumbers();
    const cell = new Int32Array(lat.length);
    // Parts on the workers and inline, asked for together and numbered in order.
    const cuts = [0, 100, 100 + POINTS_INLINE + POINTS_PER_JOB + 5, lat.length];
    const parts = cuts.slice(1).map((to, k) => ({ from: cuts[k], keys: cellKeysOfPoints(lat.subarray(cuts[k], to), lon.subarray(cuts[k], to), 10) }));
    for (const p of parts) numbers.add(await p.keys, cell, p.from);
    expect(numbers.cells).toEqual(want.cells);
    expect(Array.from(cell)).toEqual(want.cell);
    // Keys of another resolution are not numbered with these.
    expect(() => numbers.add({ key: new Float64Array([1]), prefix: '8b' }, new Int32Array(1))).toThrow(/start 8a and 8b/);
  });

  it('runs concurrent calls without mixing their points up', async () => {
    const inputs = [9, 10, 11].map((res, k) => ({ res, ...points(POINTS_PER_JOB + 1000 * k, 7 * k + 1) }));
    const got = await Promise.all(inputs.map((p) => cellsOfPoints(p.lat, p.lon, p.res)));
    got.forEach((g, k) => {
      const want = expected(inputs[k].lat, inputs[k].lon, inputs[k].res);
      expect(g.cells).toEqual(want.cells);
      expect(Array.from(g.cell)).toEqual(want.cell);
    });
  });

  it('refuses a point h3-js refuses, naming it, on the workers and inline, and keeps working after', async () => {
    for (const n of [10, POINTS_PER_JOB + 5]) {
      const { lat, lon } = points(n, 3);
      lat[n - 2] = Number.NaN;
      await expect(cellsOfPoints(lat, lon, 9)).rejects.toThrow(/point \(NaN, .*\) at resolution 9/);
    }
    const { lat, lon } = points(POINTS_PER_JOB + 5, 4);
    expect((await cellsOfPoints(lat, lon, 9)).cells).toEqual(expected(lat, lon, 9).cells);
    await expect(cellsOfPoints(new Float64Array(2), new Float64Array(3), 9)).rejects.toThrow(/2 latitudes but 3 longitudes/);
  });

  it('fails a job whose worker dies, answers another job or cannot start, and goes on with new workers', async () => {
    const real = () => new Worker(new URL('./h3-worker.mjs', import.meta.url));
    const job = () => {
      const { lat, lon } = points(50, 9);
      return [lat, lon, 9] as const;
    };
    const want = (() => {
      const [lat, lon] = job();
      const numbers = new CellNumbers();
      const cell = new Int32Array(lat.length);
      return { lat, lon, cell, numbers };
    })();
    const check = async (pool: CellPool) => {
      const keys = await pool.run(...job());
      want.numbers.add(keys, want.cell);
      expect(want.numbers.cells.slice(0, 3)).toEqual(expected(want.lat, want.lon, 9).cells.slice(0, 3));
    };
    const bad: Record<string, [() => Worker, RegExp]> = {
      dies: [() => new Worker('process.exit(3)', { eval: true }), /a worker stopped \(exit code 3\)/],
      'answers another job': [
        () => new Worker(`require('node:worker_threads').parentPort.on('message', (j) => require('node:worker_threads').parentPort.postMessage({ id: j.id + 1, key: new Float64Array(j.lat.length), prefix: '89' }))`, { eval: true }),
        /gave an answer to job 1 while given job 0/,
      ],
      'answers too few cells': [
        () => new Worker(`require('node:worker_threads').parentPort.on('message', (j) => require('node:worker_threads').parentPort.postMessage({ id: j.id, key: new Float64Array(1), prefix: '89' }))`, { eval: true }),
        /gave 1 cells for 50 points/,
      ],
      'cannot start': [() => { throw new Error('no threads left'); }, /no threads left/],
    };
    for (const [what, [worker, message]] of Object.entries(bad)) {
      let made = 0;
      const pool = new CellPool(1, () => (made++ === 0 ? worker() : real()));
      await expect(pool.run(...job()), what).rejects.toThrow(message);
      await check(pool); // the next job gets a working worker
    }
  });
});
