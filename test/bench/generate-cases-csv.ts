// A large, deterministic (seeded) flat case export in the demo city's `cases.csv` format, written
// fast: rows are built in chunks of joined lines and appended with one write per chunk. Smaller
// sizes are exact prefixes of the largest file (same rows, same bytes), written in the same pass.
//
//   node --import tsx test/bench/generate-cases-csv.ts <out-dir> [rows…]   (default 1000000)
import { closeSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../ingest/random.ts';

export const CASES_HEADER = 'request_id,service_code,service_name,agency,channel,status,requested_at,closed_at,lat,lon,district';

// The demo city's services, channels and daily rhythm (ingest/demo-city.ts), restated here so the
// generator does not load the demo city's geometry code.
const SERVICES = [
  { code: 'POTHOLE', name: 'Pothole Repair', agency: 'Streets', sla_hours: 72, daily: 14, median_share: 0.55 },
  { code: 'STREETLIGHT', name: 'Streetlight Out', agency: 'Streets', sla_hours: 120, daily: 6, median_share: 0.6 },
  { code: 'TRASH', name: 'Missed Trash Pickup', agency: 'Sanitation', sla_hours: 48, daily: 18, median_share: 0.5 },
  { code: 'BULKY', name: 'Bulky Item Pickup', agency: 'Sanitation', sla_hours: 168, daily: 15, median_share: 0.5 },
  { code: 'DUMPING', name: 'Illegal Dumping', agency: 'Sanitation', sla_hours: 96, daily: 9, median_share: 0.65 },
  { code: 'GRAFFITI', name: 'Graffiti Removal', agency: 'Public Works', sla_hours: 96, daily: 8, median_share: 0.45 },
  { code: 'NOISE', name: 'Noise Complaint', agency: 'Code Enforcement', sla_hours: 24, daily: 12, median_share: 0.7 },
  { code: 'TREE', name: 'Tree Maintenance', agency: 'Parks', sla_hours: 336, daily: 5, median_share: 0.55 },
  { code: 'WATERLEAK', name: 'Water Leak', agency: 'Water', sla_hours: 24, daily: 5, median_share: 0.6 },
] as const;
const CHANNELS = ['phone', 'web', 'app', 'email', 'walk_in', 'social'] as const;
const CHANNEL_WEIGHTS = [44, 24, 22, 5, 3, 2];
const HOUR_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.4, 1, 3, 6, 9, 10, 10, 9, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2.5, 2, 1.5];
// Eight districts on a 4 × 2 grid over the demo city's bounding box, with unequal populations.
const BBOX = [-77.45, 41.1, -77.15, 41.3] as const;
const DISTRICT_WEIGHTS = [52, 31, 68, 44, 23, 59, 37, 40];
// A year of requests up to the demo city's default extract time (2026-11-16, New York midnight).
const END_MS = Date.UTC(2026, 10, 16, 5);
const DAYS = 364;
const START_MS = END_MS - DAYS * 86_400_000;

/** Cumulative weights → an index picker (one random number per pick). */
function picker(weights: readonly number[]): (r: number) => number {
  const total = weights.reduce((s, w) => s + w, 0);
  let acc = 0;
  const cum = weights.map((w) => (acc += w / total));
  return (r) => {
    for (let i = 0; i < cum.length - 1; i++) if (r < cum[i]) return i;
    return cum.length - 1;
  };
}

export interface GeneratedCsv {
  /** rows → file path, one per requested size. */
  files: Map<number, string>;
  bytes: Map<number, number>;
  seconds: number;
  open: number;
  cancelled: number;
}

/**
 * Writes `cases-<rows>.csv` into `dir` for every size in `sizes`; each smaller file is a prefix of
 * the largest. Same seed and sizes → byte-identical files. Rows are in request-day order, most
 * closed, some still open at the extract time, about 2% cancelled.
 */
export function generateCasesCsv(dir: string, sizes: readonly number[], seed = 311, chunkRows = 10_000): GeneratedCsv {
  const t0 = performance.now();
  mkdirSync(dir, { recursive: true });
  const targets = [...new Set(sizes)].sort((a, b) => a - b).map((rows) => {
    const path = join(dir, `cases-${rows}.csv`);
    const fd = openSync(path, 'w');
    writeSync(fd, CASES_HEADER + '\n');
    return { rows, path, fd };
  });
  const max = targets[targets.length - 1]?.rows ?? 0;
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const pickService = picker(SERVICES.map((s) => s.daily));
  const pickChannel = picker(CHANNEL_WEIGHTS);
  const pickHour = picker(HOUR_WEIGHTS);
  const pickDistrict = picker(DISTRICT_WEIGHTS);
  const cellW = (BBOX[2] - BBOX[0]) / 4;
  const cellH = (BBOX[3] - BBOX[1]) / 2;
  let open = 0;
  let cancelled = 0;

  for (let start = 0; start < max; start += chunkRows) {
    const end = Math.min(start + chunkRows, max);
    const lines: string[] = new Array(end - start);
    for (let i = start; i < end; i++) {
      const svc = SERVICES[pickService(rand())];
      const d = pickDistrict(rand());
      const lon = BBOX[0] + ((d % 4) + rand()) * cellW;
      const lat = BBOX[3] - (Math.floor(d / 4) + rand()) * cellH;
      const day = Math.floor((i * DAYS) / max);
      const opened = START_MS + day * 86_400_000 + pickHour(rand()) * 3_600_000 + Math.floor(rand() * 3600) * 1000;
      const channel = CHANNELS[pickChannel(rand())];
      const isCancelled = rand() < 0.02;
      const hours = isCancelled ? rand() * 6 : svc.sla_hours * svc.median_share * Math.exp(0.85 * normal());
      const closed = opened + Math.round(hours * 3600) * 1000;
      const ended = closed < END_MS;
      const status = !ended ? 'open' : isCancelled ? 'cancelled' : 'closed';
      if (!ended) open++;
      else if (isCancelled) cancelled++;
      lines[i - start] =
        `RVT-${String(i + 1).padStart(7, '0')},${svc.code},${svc.name},${svc.agency},${channel},${status},` +
        `${new Date(opened).toISOString()},${ended ? new Date(closed).toISOString() : ''},` +
        `${lat.toFixed(6)},${lon.toFixed(6)},District ${d + 1}`;
    }
    for (const t of targets) {
      if (t.rows <= start) continue;
      const part = t.rows >= end ? lines : lines.slice(0, t.rows - start);
      writeSync(t.fd, part.join('\n') + '\n');
    }
  }
  for (const t of targets) closeSync(t.fd);
  return {
    files: new Map(targets.map((t) => [t.rows, t.path])),
    bytes: new Map(targets.map((t) => [t.rows, statSync(t.path).size])),
    seconds: (performance.now() - t0) / 1000,
    open,
    cancelled,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir, ...sizes] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: node --import tsx test/bench/generate-cases-csv.ts <out-dir> [rows…]');
    process.exit(2);
  }
  const out = generateCasesCsv(dir, sizes.length ? sizes.map(Number) : [1_000_000]);
  for (const [rows, path] of out.files) console.log(`${path}\t${rows} rows\t${out.bytes.get(rows)} bytes`);
  console.log(`${out.seconds.toFixed(1)} s; ${out.open} open, ${out.cancelled} cancelled (in the largest file)`);
}
