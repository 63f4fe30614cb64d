import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Warehouse } from '../db.ts';
import { readAudit, recordAudits, type AuditEntry } from './audit.ts';

// One statement writes many rows, each value bound by position: a row's scope takes as many
// values as it has agencies (none for NULL), so every later value's number depends on it.
describe('recordAudits: many rows in one statement', () => {
  let wh: Warehouse;
  beforeAll(async () => {
    wh = await Warehouse.open(':memory:');
  });
  afterAll(() => wh.close());

  const entry = (i: number, agencies: string[] | null): AuditEntry => ({
    at: new Date(Date.UTC(2026, 10, 1, 8, 0, i)).toISOString(),
    request_id: i % 2 ? `req-${i}` : null,
    principal_id: `tok-${i}`,
    principal_name: `name ${i} 'quoted' $1 é`,
    role: i % 3 ? 'manager' : 'admin',
    agencies,
    via: 'token',
    method: 'GET',
    route: `/api/route-${i}`,
    parameters: { by: 'service', n: String(i), list: ['a', 'b'] },
    status: 200 + i,
    rows_returned: i % 4 ? i * 10 : null,
    duration_ms: i % 5 ? i + 0.125 : null,
  });

  it('stores every row with its own values, whatever the scopes before it', async () => {
    const scopes = [['Streets', 'Parks & Rec'], null, [], ['Water'], ['A', 'B', 'C'], null, ['Sanitation']];
    const entries = scopes.map((a, i) => entry(i, a));
    await recordAudits(wh, entries);
    const { total, entries: read } = await readAudit(wh, { limit: 100, offset: 0 });
    expect(total).toBe(entries.length);
    const byPrincipal = new Map(read.map((r) => [r.principal_id, r]));
    for (const e of entries) {
      const { at, ...stored } = byPrincipal.get(e.principal_id)!;
      const { at: sent, ...want } = e;
      expect(Date.parse(at)).toBe(Date.parse(sent));
      expect(stored).toMatchObject(want);
    }
  });
});
