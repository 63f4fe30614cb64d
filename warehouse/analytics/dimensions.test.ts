import { describe, expect, it } from 'vitest';
import { dataVersion, estimateCells, keepDataVersion, periodsIn, type Dimensions } from './dimensions.ts';
import { tempWarehouse } from '../../test/helpers.ts';
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

describe('the data version a server keeps (keepDataVersion)', () => {
  const batch = (wh: import('../db.ts').Warehouse, id: string) =>
    wh.run(`INSERT INTO ingest_batches (batch_id, source, kind, started_at, finished_at) VALUES ($id, 'test', 'cases', now(), now())`, { id });

  it('is read again on every call until kept; kept, only after it is forgotten', async () => {
    const t = await tempWarehouse();
    try {
      const v0 = await dataVersion(t.wh);
      await batch(t.wh, 'b1');
      const v1 = await dataVersion(t.wh);
      expect(v1).not.toBe(v0);
      const forget = keepDataVersion(t.wh);
      expect(await dataVersion(t.wh)).toBe(v1);
      await batch(t.wh, 'b2');
      // Kept: the server's loads say when they land, and nothing else can write.
      expect(await dataVersion(t.wh)).toBe(v1);
      forget();
      const v2 = await dataVersion(t.wh);
      expect(v2).not.toBe(v1);
      expect(await dataVersion(t.wh)).toBe(v2);
    } finally {
      t.cleanup();
    }
  });

  it('does not keep a read that was under way when it was forgotten', async () => {
    const t = await tempWarehouse();
    try {
      const forget = keepDataVersion(t.wh);
      const before = await dataVersion(t.wh);
      forget();
      const underWay = dataVersion(t.wh);
      forget(); // a batch lands while the read runs
      await batch(t.wh, 'b1');
      await underWay;
      expect(await dataVersion(t.wh)).not.toBe(before);
    } finally {
      t.cleanup();
    }
  });
});
