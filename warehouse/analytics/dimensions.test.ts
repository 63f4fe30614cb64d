import { describe, expect, it } from 'vitest';
import { estimateCells, periodsIn, type Dimensions } from './dimensions.ts';
import type { CaseSelection } from '../queries/case-predicates.ts';

const dims: Dimensions = {
  services: [
    { code: 'A', name: 'Alpha', service_group: 'G1', agency: 'X' },
    { code: 'B', name: 'Beta', service_group: 'G1', agency: 'Y' },
    { code: 'C', name: 'Gamma', service_group: 'G2', agency: 'Y' },
  ],
  service_groups: ['G1', 'G2'],
  agencies: ['X', 'Y'],
  channels: ['phone', 'web', 'app'],
  area_kinds: [{ kind: 'district', method: 'polygons', areas: 4, default: true }],
  areas: ['1', '2', '3', '4'].map((id) => ({ kind: 'district', id, name: `D${id}` })),
  no_area_label: '(no area)',
  first_request: null,
  last_request: null,
};
const sel = (filter: CaseSelection['filter'] = {}, from = '2026-01-01', to = '2026-03-31'): CaseSelection => ({
  window: { from, to, as_of: '2026-04-01T00:00:00Z', timezone: 'UTC' },
  filter,
  area_kind: 'district',
});

describe('estimateCells: groups × periods before any query runs', () => {
  it('counts the periods a window touches (partial weeks and quarters included)', () => {
    const w = { from: '2026-01-01', to: '2026-03-31' };
    expect(periodsIn(w, 'day')).toBe(90);
    expect(periodsIn(w, 'week')).toBe(14);
    expect(periodsIn(w, 'month')).toBe(3);
    expect(periodsIn({ from: '2025-11-15', to: '2026-02-01' }, 'month')).toBe(4);
    expect(periodsIn(w, 'quarter')).toBe(2);
  });

  it('multiplies each dimension\'s values (a missing-value label included) and narrows by the filters', () => {
    expect(estimateCells(dims, sel(), [])).toBe(1);
    expect(estimateCells(dims, sel(), ['service', 'area', 'day'])).toBe(3 * 5 * 90);
    expect(estimateCells(dims, sel(), ['channel', 'agency', 'week'])).toBe(4 * 3 * 14);
    expect(estimateCells(dims, sel({ service: 'Beta' }), ['service', 'service_group', 'area'])).toBe(1 * 1 * 5);
    expect(estimateCells(dims, sel({ agency: 'Y' }), ['service', 'agency'])).toBe(2);
    expect(estimateCells(dims, sel({ service_group: 'G1' }), ['service', 'service_group'])).toBe(2);
    expect(estimateCells(dims, sel({ area: 'D2', channel: 'web' }), ['area', 'channel', 'month'])).toBe(3);
  });
});

describe('listDimensions: one read per data version', () => {
  it('gives callers that arrive together the same lists (memos of the data version are keyed on them), and new ones after a load', async () => {
    const { demoWarehouse } = await import('../../test/demo-warehouse.ts');
    const { listDimensions } = await import('./dimensions.ts');
    const t = await demoWarehouse();
    try {
      const [a, b, c] = await Promise.all([listDimensions(t.wh), listDimensions(t.wh), listDimensions(t.wh)]);
      expect(b).toBe(a);
      expect(c).toBe(a);
      expect(await listDimensions(t.wh)).toBe(a);
      // A new service (what a load can bring) is a new data version: new lists.
      await t.wh.run(`INSERT INTO services (service_code, name) VALUES ('ZZ-NEW', 'A new service')`);
      const after = await listDimensions(t.wh);
      expect(after).not.toBe(a);
      expect(await listDimensions(t.wh)).toBe(after);
    } finally {
      t.cleanup();
    }
  }, 60_000);
});
