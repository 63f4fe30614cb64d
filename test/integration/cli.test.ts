// The `civic` command as a user runs it: a separate process on a warehouse file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Warehouse } from '../../warehouse/db.ts';
import { fixture, LA311_CSV } from '../helpers.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/civic.mjs', import.meta.url));

async function civic(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('civic CLI', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'civic-cli-'));
    db = join(dir, 'civic.duckdb');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ingest prints read, loaded, rejected and already present, and they add up', async () => {
    const first = await civic(['ingest', LA311_CSV, '--profile', 'myla311', '--database', db]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/read 9999, loaded 9999, rejected 0, already present 0 \(9999 = 9999 \+ 0 \+ 0\); 12 loaded with data-quality flags/);
    const second = await civic(['ingest', LA311_CSV, '--profile', 'myla311', '--database', db]);
    expect(second.stdout).toMatch(/read 9999, loaded 0, rejected 0, already present 9999/);
  });

  it('says where to look when rows are rejected', async () => {
    const r = await civic(['ingest', fixture('dirty-cases.csv'), '--profile', fixture('dirty-profile.json'), '--database', db]);
    expect(r.stdout).toMatch(/read 10, loaded 4, rejected 5, already present 1/);
    expect(r.stdout).toMatch(/see why: civic rejects b_\d{14}_[0-9a-f]{8}\n/);
  });

  it('kpis --json prints the API\'s shape', async () => {
    const r = await civic(['kpis', '--json', '--from', '2017-12-25', '--to', '2017-12-31', '--database', db], { CIVIC_TIMEZONE: 'America/Los_Angeles' });
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body).toMatchObject({ from: '2017-12-25', to: '2017-12-31', timezone: 'America/Los_Angeles', by: ['service'] });
    expect(body.rows.find((x: { service: string }) => x.service === 'Bulky Items').opened).toBe(4432);
  });

  it('report run renders the weekly summary into --out', async () => {
    const out = join(dir, 'reports');
    const demoDb = join(dir, 'demo.duckdb');
    expect((await civic(['demo', '--database', demoDb])).stdout).toMatch(/demo city: 34448 cases loaded/);
    const r = await civic(['report', 'run', 'weekly-summary', '--out', out, '--database', demoDb]);
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'weekly-summary_2026-11-09_2026-11-15.pdf'))).toBe(true);
    expect(existsSync(join(out, 'weekly-summary_2026-11-09_2026-11-15.csv'))).toBe(true);
  });

  it('fails at once, saying why, when another process holds the warehouse', async () => {
    const wh = await Warehouse.open(db);
    try {
      const r = await civic(['ingest', LA311_CSV, '--profile', 'myla311', '--database', db]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/is in use by another process .*\(POST \/api\/ingest\) or stop it first/);
    } finally {
      wh.close();
    }
  });

  it('explains usage errors with exit code 2', async () => {
    const r = await civic(['ingest', LA311_CSV, '--database', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ingest needs --profile/);
    const bad = await civic(['ingest', LA311_CSV, '--profile', 'nope', '--database', db]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Invalid mapping profile nope/);
  });
});
