// civic hotspots, equity and repeats on the demo city, as a planner runs them: place names, the
// period (from–to, as-of, zone) and the parameters are printed with the figures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { demoWarehouse } from '../demo-warehouse.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/civic.mjs', import.meta.url));
const PERIOD = /cases opened 2025-11-17 to 2026-11-15 \(America\/New_York\), as of 2026-11-16T\d\d:\d\d:[\d.]+Z/;

describe('planner commands on the demo city', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  const civic = async (args: string[]) => {
    const r = await run(process.execPath, [BIN, ...args, '--database', t.path], { env: { ...process.env, CIVIC_TIMEZONE: '' }, maxBuffer: 1 << 26 }).catch((e) => e);
    return { code: (r.code as number | undefined) ?? 0, stdout: r.stdout as string, stderr: r.stderr as string };
  };
  beforeAll(async () => {
    t = await demoWarehouse();
    // The command opens the file itself: DuckDB lets one process hold it.
    await t.wh.close();
  });
  afterAll(() => t?.cleanup());

  it('civic hotspots names each hot cell\'s district and states the period, resolution, k and alpha', async () => {
    const r = await civic(['hotspots', '--service', 'DUMPING', '--weeks', '52']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(PERIOD);
    expect(r.stdout).toMatch(/H3 resolution 8, k = 1 .*alpha 0\.01 \/ 0\.05 \/ 0\.1 .*Benjamini–Hochberg FDR-corrected/);
    expect(r.stdout).toMatch(new RegExp(`│ '${t.manifest.hotspot.district}' │ '88[0-9a-f]+' │ +\\d+ +│ [\\d.]+ +│ 'hot spot, 99% confidence' │`));
    const geo = JSON.parse((await civic(['hotspots', '--service', 'DUMPING', '--weeks', '52', '--json'])).stdout);
    expect(geo.properties.naming).toBe('centre_in_polygon');
    expect(geo.features.every((f: { properties: { bin: number; area: string } }) => f.properties.bin !== 0 && /^District \d$/.test(f.properties.area))).toBe(true);
  });

  it('civic equity states the period and parameters and gives each area its figures with 95% intervals, worst first', async () => {
    const r = await civic(['equity', '--weeks', '52']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(PERIOD);
    expect(r.stdout).toMatch(/Areas with at least 20 cases; a figure on fewer than 20 cases reads "too few cases"; 95% intervals/);
    expect(r.stdout).toMatch(/│ 0 +│ 'District 6' │ +\d+ +│ '[\d.]+ days \([\d.]+ to [\d.]+ days\)' +│ '[\d.]+% \([\d.]+%–[\d.]+%\) of \d+' +│/);
    const csv = (await civic(['equity', '--weeks', '52', '--csv'])).stdout.split('\r\n');
    expect(csv[0]).toMatch(/^area,area_id,cases,closed,median_hours_to_close,median_hours_ci_lower/);
    expect((await civic(['equity', '--sort', 'nope'])).code).toBe(2);
  });

  it('civic repeats lists places by area, service and cell with the period and N', async () => {
    const r = await civic(['repeats', '--weeks', '52', '--days', '30', '--limit', '5']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(PERIOD);
    expect(r.stdout).toMatch(/N = 30 days, places: H3 cells of resolution 10, each named by the district most of its requests are in/);
    expect(r.stdout).toMatch(/│ 0 +│ 'District \d' │ '[A-Za-z ]+' +│ '8a[0-9a-f]+' │/);
    expect(r.stdout).toMatch(/… \d+ more places/);
    const json = JSON.parse((await civic(['repeats', '--weeks', '52', '--json'])).stdout);
    expect(json.places.length).toBe(json.places_total);
    expect((await civic(['repeat-locations', '--resolution', '9'])).code).toBe(2);
  });
});
