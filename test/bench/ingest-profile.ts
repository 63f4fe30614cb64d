// Where an ingest's memory goes, phase by phase: samples the process's RSS, Node's heap and
// DuckDB's own accounting (duckdb_memory(), read on a second connection while the batch runs on
// the first) every 250 ms, and prints the peak of each per phase of the batch.
//
//   node --import tsx test/bench/ingest-profile.ts <file.csv> <warehouse.duckdb> [profile]
import { Warehouse } from '../../warehouse/db.ts';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';

const [file, db, profileName = 'demo-city'] = process.argv.slice(2);
if (!file || !db) {
  console.error('usage: ingest-profile.ts <file.csv> <warehouse.duckdb> [profile]');
  process.exit(2);
}
const wh = await Warehouse.open(db);
const probe = await wh.connect();
const MiB = 2 ** 20;
let phase = 'start';
const peaks = new Map<string, { rss: number; heap: number; external: number; duck: number; duckTemp: number; tags: string; seconds: number }>();
const t0 = performance.now();
let phaseStart = t0;
let busy = false;
const sample = async () => {
  if (busy) return;
  busy = true;
  try {
    const m = process.memoryUsage();
    const rows = await probe.all<{ tag: string; mem: number; tmp: number }>(
      `SELECT tag, memory_usage_bytes::DOUBLE AS mem, temporary_storage_bytes::DOUBLE AS tmp FROM duckdb_memory()`,
    );
    const duck = rows.reduce((s, r) => s + r.mem, 0);
    const duckTemp = rows.reduce((s, r) => s + r.tmp, 0);
    const tags = rows.filter((r) => r.mem > 16 * MiB).map((r) => `${r.tag}=${Math.round(r.mem / MiB)}`).join(' ');
    const p = peaks.get(phase) ?? { rss: 0, heap: 0, external: 0, duck: 0, duckTemp: 0, tags: '', seconds: 0 };
    if (m.rss > p.rss) p.rss = m.rss;
    if (m.heapUsed > p.heap) p.heap = m.heapUsed;
    if (m.external + m.arrayBuffers > p.external) p.external = m.external + m.arrayBuffers;
    if (duck > p.duck) (p.duck = duck, p.tags = tags);
    if (duckTemp > p.duckTemp) p.duckTemp = duckTemp;
    peaks.set(phase, p);
  } catch {
    // the probe connection may be refused while the writer commits: skip this sample
  } finally {
    busy = false;
  }
};
const timer = setInterval(sample, 250);
const profile = loadProfile(profileName);
// Each statement's time, to see which one a phase spends it in (CIVIC_PROFILE_SQL=1).
if (process.env.CIVIC_PROFILE_SQL) {
  const run = wh.run.bind(wh);
  wh.run = async (sql, params) => {
    const s0 = performance.now();
    try {
      return await run(sql, params);
    } finally {
      const sec = (performance.now() - s0) / 1000;
      if (sec > 0.2) console.log(`  ${sec.toFixed(2).padStart(6)} s  ${sql.replace(/\s+/g, ' ').trim().slice(0, 110)}`);
    }
  };
}
const result = await ingestFile(wh, file, profile, {
  onProgress: (p) => {
    if (p === phase) return;
    const now = performance.now();
    const cur = peaks.get(phase);
    if (cur) cur.seconds += (now - phaseStart) / 1000;
    phase = p;
    phaseStart = now;
  },
});
await sample();
clearInterval(timer);
const total = (performance.now() - t0) / 1000;
console.log(`read ${result.read} loaded ${result.loaded} in ${total.toFixed(1)} s; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
console.log('phase'.padEnd(16), 'sec'.padStart(6), 'rss'.padStart(6), 'heap'.padStart(6), 'ext'.padStart(6), 'duck'.padStart(6), 'spill'.padStart(6), ' duckdb tags > 16 MiB');
for (const [k, p] of peaks) {
  const f = (x: number) => String(Math.round(x / MiB)).padStart(6);
  console.log(k.padEnd(16), p.seconds.toFixed(1).padStart(6), f(p.rss), f(p.heap), f(p.external), f(p.duck), f(p.duckTemp), '', p.tags);
}
probe.close();
wh.close();
