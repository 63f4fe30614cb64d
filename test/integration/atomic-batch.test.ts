// A batch is atomic: kill -9 the ingest in the middle and the warehouse is as it was before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { Warehouse } from '../../warehouse/db.ts';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { fixture } from '../helpers.ts';
import { parseMemorySize } from '../../ingest/memory-budget.ts';

const BIN = fileURLToPath(new URL('../../bin/civic.mjs', import.meta.url));

async function writeBigExport(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('request_id,service_code,service_name,agency,channel,status,requested_at,closed_at,lat,lon,district\n');
  const base = Date.parse('2025-01-01T00:00:00Z');
  let chunk: string[] = [];
  for (let i = 0; i < rows; i++) {
    const opened = base + i * 60_000;
    chunk.push(`BIG-${i},POT,Pothole Repair,Streets,phone,closed,${new Date(opened).toISOString()},${new Date(opened + 86_400_000).toISOString()},41.2,-77.3,District 1`);
    if (chunk.length === 10_000) {
      if (!out.write(chunk.join('\n') + '\n')) await once(out, 'drain');
      chunk = [];
    }
  }
  out.end(chunk.join('\n') + (chunk.length ? '\n' : ''));
  await once(out, 'finish');
}

async function snapshot(db: string) {
  const wh = await Warehouse.open(db);
  try {
    return await wh.one(`SELECT (SELECT count(*) FROM case_events)::INTEGER AS events, (SELECT count(*) FROM cases)::INTEGER AS cases,
      (SELECT count(*) FROM ingest_batches)::INTEGER AS batches, (SELECT count(*) FROM ingest_rejects)::INTEGER AS rejects,
      (SELECT count(*) FROM case_areas)::INTEGER AS case_areas, (SELECT md5(string_agg(c::VARCHAR, '|' ORDER BY c.case_id)) FROM cases c) AS cases_md5`);
  } finally {
    wh.close();
  }
}

describe('atomic batches', () => {
  let dir: string;
  let db: string;
  let big: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'civic-atomic-'));
    db = join(dir, 'civic.duckdb');
    big = join(dir, 'big.csv');
    await writeBigExport(big, 200_000);
    const wh = await Warehouse.open(db);
    await ingestFile(wh, fixture('dirty-cases.csv'), loadProfile(fixture('dirty-profile.json')));
    wh.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A batch is built in temp tables first ("load": staged, mapped, events and cases built) and
  // written in one transaction ("append": events going in); killed in either, nothing of it stays.
  it.each(['load', 'append'])('a process killed while loading (%s) leaves the warehouse exactly as it was', async (phase) => {
    const before = await snapshot(db);
    const child = spawn(process.execPath, [BIN, 'ingest', big, '--profile', 'demo-city', '--database', db, '--progress'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const killed = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (new RegExp(`progress: ${phase}\\b`).test(stderr) && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    await killed;
    expect(signal, `the ingest finished before it could be killed (exit ${code}): ${stderr}`).toBe('SIGKILL');
    expect(await snapshot(db)).toEqual(before);
  });

  const temps = async (wh: Warehouse) => (await wh.all<{ name: string }>(
    `SELECT table_name AS name FROM duckdb_tables() WHERE temporary UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal`)).map((r) => r.name);
  const settings = async (wh: Warehouse) => {
    const r = (await wh.one<{ memory: string; ordered: boolean }>(`SELECT current_setting('memory_limit') AS memory, current_setting('preserve_insertion_order') AS ordered`))!;
    return { bytes: parseMemorySize(r.memory)!, ordered: r.ordered };
  };
  // The memory limit put back as DuckDB reports it (to a tenth of a GiB, each time a little less), and insertion order.
  const expectSettingsBack = (now: { bytes: number; ordered: boolean }, was: { bytes: number; ordered: boolean }) => {
    expect(Math.abs(now.bytes - was.bytes) / was.bytes).toBeLessThan(0.05);
    expect(now.ordered).toBe(was.ordered);
  };
  // A file of new cases (ids of their own), with one row the mapping rejects.
  const fresh = () => {
    const path = join(dir, 'fresh.csv');
    writeFileSync(path, 'request_id,service_code,service_name,agency,channel,status,requested_at,closed_at,lat,lon,district\n' +
      Array.from({ length: 300 }, (_, i) => `FRESH-${i},POT,Pothole Repair,Streets,phone,closed,2025-03-01T0${i % 10}:00:00Z,2025-03-02T00:00:00Z,41.2,-77.3,District 1`).join('\n') +
      '\nFRESH-X,POT,Pothole Repair,Streets,phone,closed,not a time,,41.2,-77.3,District 1\n');
    return path;
  };

  it('a batch that fails while it is built, or lands, leaves no temp table behind on its connection', async () => {
    const wh = await Warehouse.open(db);
    try {
      const before = (await snapshot(db)) as { batches: number; cases: number; events: number; rejects: number };
      const was = await settings(wh);
      // Staged and read, then refused: the profile maps a column the file does not have.
      const profile = { ...loadProfile('demo-city'), columns: { ...loadProfile('demo-city').columns, agency: 'no_such_column' } };
      await expect(ingestFile(wh, big, profile)).rejects.toThrow(/no_such_column/);
      expect(await temps(wh)).toEqual([]);
      // A whole batch, built and written (not recorded as the last one again).
      const r = await ingestFile(wh, fresh(), loadProfile('demo-city'));
      expect(r).toMatchObject({ read: 301, loaded: 300, rejected: 1 });
      expect(r.same_as).toBeUndefined();
      expect(await temps(wh)).toEqual([]);
      expectSettingsBack(await settings(wh), was);
      expect(await snapshot(db)).toMatchObject({ batches: before.batches + 1, cases: before.cases + 300, events: before.events + 600, rejects: before.rejects + 1 });
    } finally {
      wh.close();
    }
  });

  // Written in one transaction: a statement of it that fails leaves nothing, and the batch's
  // temp tables and settings go too.
  it.each([/INSERT INTO case_events/, /INSERT INTO cases BY NAME/, /INSERT INTO case_areas/, /INSERT INTO ingest_rejects SELECT/])(
    'a batch that fails while it is written (%s) leaves the warehouse, its temp tables and its settings as they were', async (at) => {
      const wh = await Warehouse.open(db);
      const target = wh as unknown as { run: (sql: string, params?: unknown) => Promise<void> };
      const run = target.run.bind(wh);
      try {
        // Cases placed in an area, so their areas are written too.
        await wh.run(`INSERT INTO areas (area_id, name, kind, geometry)
          SELECT 'test:D1', 'District 1', 'district', '{"type":"Polygon","coordinates":[[[-78,41],[-77,41],[-77,42],[-78,42],[-78,41]]]}'
          WHERE NOT EXISTS (SELECT 1 FROM areas WHERE area_id = 'test:D1')`);
        const before = await snapshot(db);
        const was = await settings(wh);
        let failed = 0;
        target.run = async (sql, params) => {
          if (at.test(sql)) {
            failed++;
            throw new Error('injected failure');
          }
          return run(sql, params);
        };
        // New cases, and cases the warehouse holds (deleted and written again in the transaction).
        const file = join(dir, `again-${Date.now()}.csv`);
        const rows = readFileSync(fresh(), 'utf8').trim().split('\n');
        writeFileSync(file, [...rows, ...rows.slice(1, 50).map((l) => l.replace('FRESH-', `AGAIN${Date.now()}-`))].join('\n').replaceAll(',closed,', ',open,') + '\n');
        await expect(ingestFile(wh, file, loadProfile('demo-city'), { memoryLimit: '256MiB' })).rejects.toThrow('injected failure');
        expect(failed).toBe(1);
        expect(await snapshot(db)).toEqual(before);
        expect(await temps(wh)).toEqual([]);
        expectSettingsBack(await settings(wh), was);
      } finally {
        delete (target as { run?: unknown }).run;
        wh.close();
      }
    });

  it('and the same file loads completely afterwards', async () => {
    const wh = await Warehouse.open(db);
    try {
      const r = await ingestFile(wh, big, loadProfile('demo-city'));
      expect(r).toMatchObject({ read: 200_000, loaded: 200_000, rejected: 0, events_added: 400_000 });
    } finally {
      wh.close();
    }
  });
});
