// One worker of h3-cells.ts's pool: points in, each point's H3 cell out. Plain JavaScript (not
// TypeScript) so that it starts the same under `civic` (tsx registered on the main thread only),
// under `node --import tsx` and under vitest: a worker thread does not inherit a loader that was
// registered with module.register().
//
// A job: { id, lat: Float64Array, lon: Float64Array, resolution }.
// Its answer: { id, key: Float64Array, prefix } — each point's cell as a number: a cell's index
// written in hexadecimal is 15 digits, the first two of which (its mode and resolution) are the
// same for every cell at one resolution, `prefix`; the other 13 are 52 bits, which a double holds
// exactly. Numbers rather than strings: sending a string per point back cost more than computing
// the cell. Or { id, error } naming the first point h3-js refused.
import { parentPort } from 'node:worker_threads';
import { latLngToCell } from 'h3-js';

parentPort.on('message', (job) => {
  const { id, lat, lon, resolution } = job;
  const n = lat.length;
  const key = new Float64Array(n);
  let prefix;
  let i = 0;
  try {
    for (; i < n; i++) {
      const name = latLngToCell(lat[i], lon[i], resolution);
      if (prefix === undefined) prefix = name.slice(0, 2);
      if (name.length !== 15 || !name.startsWith(prefix)) throw new Error(`unexpected cell ${name} (another starts ${prefix})`);
      key[i] = parseInt(name.slice(2), 16);
    }
  } catch (err) {
    parentPort.postMessage({ id, error: `point (${lat[i]}, ${lon[i]}) at resolution ${resolution}: ${err instanceof Error ? err.message : String(err)}` });
    return;
  }
  parentPort.postMessage({ id, key, prefix: prefix ?? '' }, [key.buffer]);
});
