// `civic whatif` as a user runs it, on a copy of the demo city's warehouse: the table, --json (the
// API's shape) and --csv, and usage errors before anything heavy loads.
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/civic.mjs', import.meta.url));

async function civic(args: string[]) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, CIVIC_TIMEZONE: 'America/New_York' }, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('civic whatif', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'civic-whatif-'));
    cpSync(inject('demoSeedDir'), dir, { recursive: true });
    db = join(dir, 'civic.duckdb');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the sentence, the model, the backtest and each area\'s weeks', async () => {
    const r = await civic(['whatif', '--service', 'POTHOLE', '--move', 'D2:D6:2', '--crews', 'D2:4,D6:3', '--database', db]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^What if — Pothole Repair, 4 weeks from 2026-11-16; fitted on: .*cases opened 2026-05-18 to 2026-11-15/);
    expect(r.stdout).toMatch(/\nMoving 2 crews from District 2 to District 6 for Pothole Repair would bring District 6's backlog/);
    expect(r.stdout).toMatch(/\nBacktest \(last 12 weeks replayed, fitted on the 14 before, 2 areas\): backlog MAE [\d.]+ cases/);
    expect(r.stdout).toMatch(/District 6 — crews 3 → 5; backlog now \d+/);
    expect(r.stdout).toMatch(/District 2 — crews 4 → 2; backlog now \d+/);
  }, 150_000);

  it('--json is the API\'s shape; --csv the API\'s table', async () => {
    const j = await civic(['whatif', '--service', 'POTHOLE', '--move', 'D2:D6:2', '--crews', 'D2:4,D6:3', '--horizon', '2', '--json', '--database', db]);
    expect(j.code).toBe(0);
    const body = JSON.parse(j.stdout);
    expect(body).toMatchObject({ service: 'Pothole Repair', horizon: 2, moves: [{ from: 'District 2', to: 'District 6', crews: 2 }] });
    expect(body.areas[1].scenario).toHaveLength(2);
    const c = await civic(['whatif', '--service', 'POTHOLE', '--horizon', '2', '--csv', '--database', db]);
    expect(c.code).toBe(0);
    expect(c.stdout.split(/\r?\n/)[0]).toBe('area,area_id,kind,week,crews,arrivals,arrivals_lower80,arrivals_upper80,capacity,closures,backlog,backlog_low,backlog_high,on_time_rate,on_time_low,on_time_high,actual_backlog,actual_on_time');
  }, 150_000);

  it('usage errors: no --service, --area, a bad horizon; a bad move is the API\'s 400 message', async () => {
    expect(await civic(['whatif', '--database', db])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--service is required/) });
    expect(await civic(['whatif', '--service', 'POTHOLE', '--area', 'D2', '--database', db])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--move from:to:crews/) });
    expect(await civic(['whatif', '--service', 'POTHOLE', '--horizon', '9', '--database', db])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--horizon must be/) });
    const bad = await civic(['whatif', '--service', 'POTHOLE', '--move', 'D2:D6:5', '--crews', 'D2:4,D6:3', '--database', db]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/takes 5 crews from District 2, which has 4/);
  }, 150_000);
});
