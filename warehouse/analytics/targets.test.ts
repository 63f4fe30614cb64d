// On-time targets (issue 11 item 1): the services ingest reads them (a share or a percentage, bad
// ones rejected with their reason), the configuration validates them naming the key, and the
// target of a service follows configuration per service > services table > configured default.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../ingest/load.ts';
import { parseProfile } from '../../ingest/profile.ts';
import { tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';
import { parseConfig } from '../../api/config.ts';
import { onTimeTargets, weightedTarget } from './targets.ts';
import { DEFAULT_MIN_DENOMINATOR, formatShare, targetStatus, tooFewCases } from './format.ts';

const services = (withTarget = true) =>
  parseProfile({
    name: 'svc', kind: 'services', source: 'city', timezone: 'UTC',
    columns: { service_code: 'code', name: 'name', sla_hours: 'sla', ...(withTarget ? { on_time_target: 'target' } : {}) },
  });

describe('on-time targets', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  const stored = () => t.wh.all<{ code: string; target: number | null }>(`SELECT service_code AS code, on_time_target AS target FROM services ORDER BY 1`);

  it('the services ingest reads a share or a percentage, and rejects anything else with its reason', async () => {
    const body = [
      'code,name,sla,target',
      'A,Alpha,24,0.85', 'B,Beta,24,90%', 'C,Gamma,24,', 'D,Delta,24, 80 % ', 'E,Epsilon,24,1',
      'X1,Bad1,24,85', 'X2,Bad2,24,abc', 'X3,Bad3,24,120%', 'X4,Bad4,24,-0.1',
    ].join('\n');
    const r = await ingestFile(t.wh, t.write('targets.csv', `${body}\n`), services());
    expect(r).toMatchObject({ read: 9, loaded: 5, rejected: 4 });
    expect(await stored()).toEqual([
      { code: 'A', target: 0.85 }, { code: 'B', target: 0.9 }, { code: 'C', target: null }, { code: 'D', target: 0.8 }, { code: 'E', target: 1 },
    ]);
    const rejects = await t.wh.all<{ field: string; reason: string }>(`SELECT field, reason FROM ingest_rejects WHERE batch_id = $b ORDER BY row_number`, { b: r.batch_id });
    expect(rejects).toEqual([
      { field: 'on_time_target', reason: 'on_time_target "85" is not a share from 0 to 1 or a percentage from 0% to 100% (write 0.85 or 85%)' },
      { field: 'on_time_target', reason: 'not a share or a percentage: "abc" (write 0.85 or 85%)' },
      { field: 'on_time_target', reason: 'on_time_target "120%" is not a share from 0 to 1 or a percentage from 0% to 100% (write 0.85 or 85%)' },
      { field: 'on_time_target', reason: 'on_time_target "-0.1" is not a share from 0 to 1 or a percentage from 0% to 100% (write 0.85 or 85%)' },
    ]);
  });

  it('a later file without the column keeps the stored targets; an empty cell in it clears one', async () => {
    await ingestFile(t.wh, t.write('no-target.csv', 'code,name,sla\nA,Alpha,48\nB,Beta,24\n'), services(false));
    expect((await stored()).slice(0, 2)).toEqual([{ code: 'A', target: 0.85 }, { code: 'B', target: 0.9 }]);
    expect(await t.wh.one(`SELECT sla_hours FROM services WHERE service_code = 'A'`)).toEqual({ sla_hours: 48 });
    const cleared = await ingestFile(t.wh, t.write('clear.csv', 'code,name,sla,target\nB,Beta,24,\n'), services());
    expect(cleared).toMatchObject({ loaded: 1 });
    expect((await stored())[1]).toEqual({ code: 'B', target: null });
    // The same row again changes nothing (the target is part of what "the same" means).
    expect(await ingestFile(t.wh, t.write('clear2.csv', 'code,name,sla,target\nB,Beta,24,\n'), services())).toMatchObject({ loaded: 0, duplicate: 1 });
  });

  it('precedence: the configuration per service (code or name) > the services table > the configured default', async () => {
    const targets = await onTimeTargets(t.wh, { on_time: 0.7, services: { D: { on_time: 0.95 }, Epsilon: { on_time: 0.6 }, 'No Such Service': { on_time: 0.5 } } });
    const of = (code: string) => targets.byCode.get(code);
    expect(of('A')).toEqual({ code: 'A', on_time: 0.85, source: 'services table' });
    expect(of('B')).toEqual({ code: 'B', on_time: 0.7, source: 'configuration (default)' });
    expect(of('D')).toEqual({ code: 'D', on_time: 0.95, source: 'configuration (service)' });
    expect(of('E')).toEqual({ code: 'E', on_time: 0.6, source: 'configuration (service)' });
    expect(targets.default).toBe(0.7);
    expect(targets.unmatched).toEqual(['No Such Service']);
    // A service the catalogue does not know, by its label: the configured default.
    expect(targets.forService('Something else')).toBe(0.7);
    // Without configuration: the built-in default, 85%.
    expect((await onTimeTargets(t.wh)).byCode.get('B')).toEqual({ code: 'B', on_time: 0.85, source: 'configuration (default)' });
  });

  it('a group’s target is weighted by its services’ judged cases', () => {
    expect(weightedTarget([{ target: 0.9, judged: 100 }, { target: 0.8, judged: 300 }])).toBeCloseTo(0.825, 12);
    expect(weightedTarget([{ target: 0.85, judged: 7 }, { target: 0.85, judged: 3 }, { target: 0.5, judged: 0 }])).toBe(0.85);
    expect(weightedTarget([{ target: 0.9, judged: 0 }])).toBeNull();
    expect(weightedTarget([])).toBeNull();
  });
});

describe('configuration of targets and of the display rule', () => {
  it('defaults: 85% for every service, "too few cases" under 20', () => {
    const c = parseConfig({});
    expect(c.targets).toEqual({ on_time: 0.85, services: {} });
    expect(c.display).toEqual({ min_denominator: 20 });
  });

  it('a bad value names its key', () => {
    expect(() => parseConfig({ targets: { on_time: 85 } })).toThrow('Configuration key "targets.on_time": 85 is not a share from 0 to 1 (for 85% write 0.85)');
    expect(() => parseConfig({ targets: { services: { POTHOLE: { on_time: 1.5 } } } })).toThrow('Configuration key "targets.services.POTHOLE.on_time": 1.5 is not a share');
    expect(() => parseConfig({ targets: { services: { POTHOLE: 0.9 } } })).toThrow('Configuration key "targets.services.POTHOLE"');
    expect(() => parseConfig({ targets: { services: { POTHOLE: { on_time: '90%' } } } })).toThrow('Configuration key "targets.services.POTHOLE.on_time"');
    expect(() => parseConfig({ targets: { ontime: 0.9 } })).toThrow('Configuration key "targets": unknown key');
    expect(() => parseConfig({ display: { min_denominator: 0 } })).toThrow('Configuration key "display.min_denominator"');
    expect(parseConfig({ targets: { on_time: 0.9, services: { 'Water Leak': { on_time: 1 } } } }).targets).toEqual({ on_time: 0.9, services: { 'Water Leak': { on_time: 1 } } });
  });
});

describe('the "too few cases" rule (one function for the API and every display)', () => {
  it('is a denominator under the minimum, or none', () => {
    expect(DEFAULT_MIN_DENOMINATOR).toBe(20);
    expect(tooFewCases(19)).toBe(true);
    expect(tooFewCases(20)).toBe(false);
    expect(tooFewCases(0, 1)).toBe(true);
    expect(tooFewCases(null)).toBe(true);
    expect(tooFewCases(Number.NaN)).toBe(true);
    expect(formatShare(19, 19, 20)).toBe('too few cases');
    expect(formatShare(15, 20, 20)).toBe('75.0% (of 20)');
  });

  it('judges a rate against its target in words', () => {
    expect(targetStatus(0.9, 0.85, 100)).toBe('meets target');
    expect(targetStatus(0.85, 0.85, 100)).toBe('meets target');
    expect(targetStatus(0.8499, 0.85, 100)).toBe('below target');
    expect(targetStatus(1, 0.85, 5)).toBe('too few cases');
    expect(targetStatus(0.5, 0.85, 5, 5)).toBe('below target');
    expect(targetStatus(null, 0.85, 100)).toBeNull();
    expect(targetStatus(0.9, null, 100)).toBeNull();
  });
});
