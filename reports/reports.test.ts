// The weekly summary rendered for real: PDF read back with poppler, CSV parsed, cron scheduled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWarehouse } from '../test/demo-warehouse.ts';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TempWarehouse } from '../test/helpers.ts';
import { runReport, type ReportRun } from './run.ts';
import { startScheduler } from './schedule.ts';
import { toCsv } from './render-csv.ts';

const ctx = { jurisdiction: 'Riverton (demo city)', timezone: 'America/New_York' };

describe('weekly service summary', () => {
  let t: TempWarehouse;
  let run: ReportRun;
  beforeAll(async () => {
    t = await demoWarehouse();
    run = await runReport(t.wh, 'weekly-summary', ctx, join(t.dir, 'out'));
  });
  afterAll(() => t.cleanup());

  it('writes a PDF and a CSV named for the week it covers', () => {
    expect(run.files.map((f) => f.split('/').pop())).toEqual(['weekly-summary_2026-11-09_2026-11-15.pdf', 'weekly-summary_2026-11-09_2026-11-15.csv']);
    expect(readdirSync(join(t.dir, 'out')).some((f) => f.endsWith('.partial'))).toBe(false);
  });

  it('PDF: title, as-of time, the KPI table and the chart as vector text, tagged for accessibility', () => {
    const pdf = run.files[0];
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    expect(text).toContain('Weekly service summary: Riverton (demo city)');
    expect(text).toContain('Week of 2026-11-09 to 2026-11-15 (America/New_York), the last whole week of requests.');
    expect(text).toMatch(/Data as of 2026-11-15\s+23:22 local time\./);
    expect(text).toMatch(/Service\s+Opened\s+Closed/);
    for (const s of ['Pothole Repair', 'Missed Trash Pickup', 'Water Leak']) expect(text).toContain(s);
    // Axis titles and tick labels exist as text only if the chart was drawn as vectors.
    expect(text).toContain('Cases opened');
    expect(text).toMatch(/Week\s+starting/);
    expect(text).toMatch(/Aug 24/);
    const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
    expect(info).toMatch(/Tagged:\s+yes/);
    expect(info).toMatch(/Title:\s+Weekly service summary: Riverton \(demo city\)/);
    const tree = execFileSync('pdfinfo', ['-struct', pdf], { encoding: 'utf8' });
    for (const tag of ['H1', 'Table', 'TH', 'TD', 'Figure']) expect(tree).toContain(tag);
  });

  it('CSV: the same KPI rows, one per service, numbers unformatted', () => {
    const lines = readFileSync(run.files[1], 'utf8').trim().split('\r\n');
    expect(lines[0].split(',').slice(0, 6)).toEqual(['service', 'opened', 'closed', 'median_hours_to_close', 'on_time_rate', 'pending']);
    expect(lines).toHaveLength(1 + 9);
    const pdfText = execFileSync('pdftotext', ['-layout', run.files[0], '-'], { encoding: 'utf8' });
    const pothole = lines.find((l) => l.startsWith('Pothole Repair,'))!.split(',');
    expect(pdfText).toMatch(new RegExp(`Pothole Repair\\s+${pothole[1]}\\s+${pothole[2]}\\s`));
  });

  it('runs on its cron schedule in the jurisdiction time zone', async () => {
    const out = join(t.dir, 'scheduled');
    const logs: string[] = [];
    const log = { info: (_: object, m: string) => logs.push(m), error: (o: object, m: string) => logs.push(`${m} ${JSON.stringify(o)}`) };
    const weekly = startScheduler(t.wh, [{ report: 'weekly-summary', cron: '0 7 * * 1' }], { timezone: ctx.timezone, context: async () => ctx, outDir: out, log });
    // Monday 07:00 in New York is 12:00 UTC in November (EST) — the zone is honoured.
    const next = weekly.tasks[0].next!;
    expect(next.getUTCDay()).toBe(1);
    expect([11, 12]).toContain(next.getUTCHours());
    await weekly.stop();

    const done = new Promise<ReportRun>((resolve) => {
      const every = startScheduler(t.wh, [{ report: 'weekly-summary', cron: '* * * * * *' }], { timezone: ctx.timezone, context: async () => ctx, outDir: out, log }, (r) => {
        void every.stop();
        resolve(r);
      });
    });
    const r = await done;
    expect(r.files.every((f) => existsSync(f))).toBe(true);
    expect(logs).toContain('scheduled report written');
  });

  it('refuses an unknown report at start, not at run time', () => {
    expect(() => startScheduler(t.wh, [{ report: 'nope', cron: '0 7 * * 1' }], { timezone: ctx.timezone, context: async () => ctx, outDir: t.dir, log: console })).toThrow(/Unknown report "nope"/);
  });
});

describe('toCsv', () => {
  it('quotes what needs quoting and defuses spreadsheet formulas', () => {
    expect(toCsv([{ a: 'x,y', b: 'say "hi"', c: null, d: 1.5, e: '=SUM(A1)' }])).toBe('a,b,c,d,e\r\n"x,y","say ""hi""",,1.5,\'=SUM(A1)\r\n');
  });
});
