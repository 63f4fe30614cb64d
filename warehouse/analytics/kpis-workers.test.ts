// A KPI table whose durations are sorted and walked on the worker threads (km-workers.ts: a large
// city's tables) is the same, to the bit, as one computed on the calling thread in steps (a small
// city's): on the demo city every table is sent to the workers here and compared, for groupings
// fine and coarse, a whole year, a filter, a scope and the source's areas.
import { afterEach, describe, expect, it } from 'vitest';
import { useDemoWindow } from '../../test/demo-window.ts';
import { computeKpis, KM_WORKERS, type KpiOptions } from './kpis.ts';
import { kmWorkerCounts } from '../km-workers.ts';
import type { CaseFilter, Dimension } from '../queries/case-predicates.ts';

describe('KPI tables on worker threads', () => {
  const demo = useDemoWindow();
  const inlineBelow = KM_WORKERS.inlineBelow;
  afterEach(() => {
    KM_WORKERS.inlineBelow = inlineBelow;
  });

  const tables: { by: Dimension[]; filter?: CaseFilter; opts?: KpiOptions; year?: boolean }[] = [
    { by: [] },
    { by: ['service', 'week'] },
    { by: ['service', 'week'], year: true },
    { by: ['area', 'channel', 'day'] },
    { by: ['service_group', 'area'], filter: { agency: 'Sanitation' } },
    { by: ['service'], opts: { scope: { agencies: ['Public Works', 'Sanitation'] } } },
    { by: ['area', 'month'], opts: { area_kind: 'source' }, year: true },
  ];
  for (const t of tables) {
    it(`${t.by.join(' × ') || 'overall'}${t.year ? ', a year' : ''}${t.filter ? ', filtered' : ''}${t.opts ? `, ${Object.keys(t.opts).join()}` : ''}: the same rows either way`, async () => {
      const w = t.year ? { ...demo.w, from: '2025-11-03', to: '2026-10-25' } : demo.w;
      KM_WORKERS.inlineBelow = Infinity;
      const here = await computeKpis(demo.t.wh, t.by, w, t.filter, t.opts);
      const before = { ...kmWorkerCounts };
      KM_WORKERS.inlineBelow = 0;
      const there = await computeKpis(demo.t.wh, t.by, w, t.filter, t.opts);
      expect(kmWorkerCounts.jobs).toBeGreaterThan(before.jobs);
      expect(kmWorkerCounts.groups - before.groups).toBeGreaterThanOrEqual(there.rows.filter((r) => r.median_hours_to_close !== null).length);
      expect(here.rows.some((r) => r.median_hours_to_close !== null)).toBe(true);
      expect(JSON.stringify(there)).toBe(JSON.stringify(here));
    });
  }
});
