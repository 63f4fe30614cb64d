// Points → their H3 cells as numbers: the one loop both h3-cells.ts (a few points, on the calling
// thread) and h3-worker.mjs (the rest, on worker threads) run. Plain JavaScript so that a worker
// can load it without a TypeScript loader (see h3-worker.mjs); its types are h3-keys.d.mts.
//
// A cell's index written in hexadecimal is 15 digits. The first two (its mode and resolution) are
// the same for every cell at one resolution, `prefix`; the other 13 are 52 bits, which a double
// holds exactly, `key`. Numbers rather than strings: sending a string per point back from a
// worker cost more than computing the cell.
import { latLngToCell } from 'h3-js';

/** Each point's cell key, and the prefix they share; throws naming the first point h3-js refuses. */
export function cellKeys(lat, lon, resolution) {
  const n = lat.length;
  const key = new Float64Array(n);
  let prefix = '';
  for (let i = 0; i < n; i++) {
    let name;
    try {
      name = latLngToCell(lat[i], lon[i], resolution);
    } catch (err) {
      throw new Error(`H3 cells: point (${lat[i]}, ${lon[i]}) at resolution ${resolution}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (i === 0) prefix = name.slice(0, 2);
    if (name.length !== 15 || !name.startsWith(prefix)) throw new Error(`H3 cells: unexpected cell ${name} (another starts ${prefix})`);
    key[i] = parseInt(name.slice(2), 16);
  }
  return { key, prefix };
}

/** The cell a key stands for. */
export function cellName(prefix, key) {
  return prefix + key.toString(16).padStart(13, '0');
}
