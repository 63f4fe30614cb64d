// One worker of h3-cells.ts's pool: points in, each point's H3 cell out, as h3-keys.mjs computes
// it. Plain JavaScript (not TypeScript) so that it starts the same under `civic` (tsx registered
// on the main thread only), under `node --import tsx` and under vitest: a worker thread does not
// inherit a loader that was registered with module.register().
//
// A job: { id, lat: Float64Array, lon: Float64Array, resolution }.
// Its answer: { id, key: Float64Array, prefix } (h3-keys.mjs), or { id, error } naming the first
// point h3-js refused.
import { parentPort } from 'node:worker_threads';
import { cellKeys } from './h3-keys.mjs';

parentPort.on('message', ({ id, lat, lon, resolution }) => {
  let answer;
  try {
    answer = cellKeys(lat, lon, resolution);
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
    return;
  }
  parentPort.postMessage({ id, key: answer.key, prefix: answer.prefix }, [answer.key.buffer]);
});
