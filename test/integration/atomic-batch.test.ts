// A batch is atomic: kill -9 the ingest in the middle and the warehouse is as it was before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { Warehouse } from '../../warehouse/db.ts';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { fixture } from '../helpers.ts';

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
      (SELECT count(*) FROM ingest_batches)::INTEGER AS batches, (SELECT count(*) FROM ingest_rejects)::INTEGER AS rejects`);
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

  it('a batch that fails, or lands, leaves no temp table behind on its connection', async () => {
    const wh = await Warehouse.open(db);
    const temps = async () => (await wh.all<{ name: string }>(
      `SELECT table_name AS name FROM duckdb_tables() WHERE temporary UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal`)).map((r) => r.name);
    try {
      const before = await snapshot(db);
      // Staged and read, then refused: the profile maps a column the file does not have.
      const profile = { ...loadProfile('demo-city'), columns: { ...loadProfile('demo-city').columns, agency: 'no_such_column' } };
      await expect(ingestFile(wh, big, profile)).rejects.toThrow(/no_such_column/);
      expect(await temps()).toEqual([]);
      const r = await ingestFile(wh, fixture('dirty-cases.csv'), loadProfile(fixture('dirty-profile.json')));
      expect(r.read).toBeGreaterThan(0);
      expect(await temps()).toEqual([]);
      expect((await wh.one<{ batches: number }>(`SELECT count(*)::INTEGER AS batches FROM ingest_batches`))!.batches).toBe((before as { batches: number }).batches + 1);
    } finally {
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
