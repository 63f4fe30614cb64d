// The SQL Kaplan–Meier against the reference (R survival, via survival.ts's known answers) and
// against survival.ts itself on random data with ties and censoring.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';
import { kmSummarySql } from './km-sql.ts';
import { kaplanMeier, kmSummary, observationsFrom } from './survival.ts';
import { seededRandom } from '../../ingest/random.ts';

const known = JSON.parse(readFileSync(new URL('../../test/fixtures/known_answers.json', import.meta.url), 'utf8'));

describe('Kaplan–Meier in SQL', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  async function sqlKm(groups: Record<string, { time: number[]; status: number[] }>) {
    await t.wh.run(`CREATE OR REPLACE TEMP TABLE raw_obs (g VARCHAR, seconds DOUBLE, ev INTEGER)`);
    const app = await t.wh.conn.createAppender('raw_obs', 'main', 'temp');
    for (const [g, d] of Object.entries(groups)) d.time.forEach((x, i) => (app.appendVarchar(g), app.appendDouble(x), app.appendInteger(d.status[i]), app.endRow()));
    app.closeSync();
    return t.wh.all<Record<string, number | string | null>>(`WITH obs AS (SELECT g, seconds, sum(ev)::DOUBLE AS events, sum(1 - ev)::DOUBLE AS censored FROM raw_obs GROUP BY 1, 2),
      ${kmSummarySql('obs', ['g'])} SELECT * FROM km ORDER BY g`);
  }

  it('reproduces R survival on aml: medians 31 and 23, lower limits 18 and 8, upper NA', async () => {
    const rows = await sqlKm({ Maintained: known.km_aml_R_survival.Maintained, Nonmaintained: known.km_aml_R_survival.Nonmaintained });
    expect(rows).toEqual([
      { g: 'Maintained', km_n: 11, km_events: 7, km_median: 31, km_median_lower: 18, km_median_upper: null, km_p90: null },
      { g: 'Nonmaintained', km_n: 12, km_events: 11, km_median: 23, km_median_lower: 8, km_median_upper: null, km_p90: 43 },
    ]);
  });

  it('takes the midpoint of a flat stretch at exactly ½ (km_quantile_flat_R)', async () => {
    // S = 0.5 exactly from t = 2 to t = 4 (4 cases: 1 and 2 end, 4 and 6 end later).
    const rows = await sqlKm({ flat: { time: [1, 2, 4, 6], status: [1, 1, 1, 1] } });
    expect(rows[0].km_median).toBe(3);
    const ts = kmSummary(kaplanMeier(observationsFrom([1, 2, 4, 6], [1, 1, 1, 1])));
    expect(ts.median).toBe(3);
  });

  it('agrees with survival.ts on random data with ties and censoring', async () => {
    const rand = seededRandom(42);
    const groups: Record<string, { time: number[]; status: number[] }> = {};
    for (const g of ['a', 'b', 'c', 'd', 'e']) {
      const n = 20 + Math.floor(rand() * 300);
      groups[g] = { time: Array.from({ length: n }, () => Math.floor(rand() * 50)), status: Array.from({ length: n }, () => (rand() < 0.7 ? 1 : 0)) };
    }
    const rows = await sqlKm(groups);
    for (const r of rows) {
      const s = kmSummary(kaplanMeier(observationsFrom(groups[r.g as string].time, groups[r.g as string].status as (0 | 1)[])));
      expect({ median: r.km_median, lower: r.km_median_lower, upper: r.km_median_upper, p90: r.km_p90 }, String(r.g))
        .toEqual({ median: s.median, lower: s.median_lower, upper: s.median_upper, p90: s.p90 });
    }
  });
});
