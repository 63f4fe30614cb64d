// The KPIs count each cohort in parts (one row per group and combination of the measures'
// predicates) and fold them here: every figure must be what the registry's own aggregate of each
// measure gives over the same cohort rows, and every duration list the cases Kaplan–Meier counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWarehouse } from '../../test/demo-warehouse.ts';
import type { TempWarehouse } from '../../test/helpers.ts';
import { resolveSelection } from './dimensions.ts';
import { computeKpis } from './kpis.ts';
import { TooManyRowsError } from '../db.ts';
import { foldCohortParts } from './cohort-parts.ts';
import { refreshSettledMasks } from './settled-masks.ts';
import { MEASURES, type DurationMeasure } from '../queries/measures.ts';
import { kmSummaryOfSorted } from '../stats/kaplan-meier.ts';
import { sortDurations } from '../stats/sort-durations.ts';
import { buildBacklogPartsQuery, buildClosedPartsQuery, buildKmDurationsQuery, buildOpenedPartsQuery, cohortRows, type CohortPartsLayout, type CohortPartsQuery } from '../queries/kpi-sql.ts';
import { sqlMeasures, type Cohort } from '../queries/measures.ts';
import type { CaseSelection, Dimension } from '../queries/case-predicates.ts';

type Row = Record<string, unknown>;
const keyOf = (by: readonly Dimension[]) => (r: Row) => JSON.stringify(by.map((d) => r[d]));
const sortedList = (parts: Float64Array[], zeros = 0) => [...new Array<number>(zeros).fill(0), ...parts.flatMap((p) => [...p])].sort((a, b) => a - b);
/** A map column as DuckDB's JSON gives it ([{ key, value }]), values as numbers. */
const entries = (v: unknown) => ((v ?? []) as { key: string; value: unknown }[]).map((e) => ({ key: e.key, value: Number(e.value) }));

describe('a cohort counted in parts and folded', () => {
  let t: TempWarehouse;
  const zone = 'America/New_York';
  beforeAll(async () => {
    t = await demoWarehouse();
    // Some requests answered and some closed the moment they were opened (as auto-acknowledged
    // and closed-on-the-call requests are in real exports; LA's 2017 subset: 15% of its closes),
    // their stored masks recomputed: the parts count such durations apart (zeros columns).
    await t.wh.run(`UPDATE cases SET first_response_at = opened_at WHERE hash(case_id) % 5 = 0`);
    await t.wh.run(`UPDATE cases SET closed_at = opened_at, closed_day = opened_day, last_event_at = greatest(last_event_at, opened_at)
                    WHERE closed_at IS NOT NULL AND hash(case_id) % 11 = 0`);
    await refreshSettledMasks(t.wh);
  });
  afterAll(() => t.cleanup());

  /** The registry's aggregate of every measure of the cohort, per group, over the same rows: what the parts must add up to. */
  async function reference(cohort: Cohort, by: readonly Dimension[], sel: CaseSelection) {
    const rows = cohortRows(cohort, by, sel);
    const measures = sqlMeasures(cohort === 'closed' ? ['closed'] : ['opened', 'backlog']);
    const sql = `${rows.sql}
SELECT ${[...by, ...measures.map((m) => (m.kind === 'mix' ? `${m.sql} AS ${m.name}` : `(${m.sql})::BIGINT AS ${m.name}`))].join(', ')}
FROM ${rows.relation}
${by.length ? 'GROUP BY ALL' : ''}`;
    const out = new Map<string, Row>();
    for (const r of await t.wh.all<Row>(sql, rows.params)) {
      const v: Row = {};
      for (const m of measures) v[m.name] = m.kind === 'mix' ? entries(r[m.name]) : Number(r[m.name]);
      out.set(keyOf(by)(r), v);
    }
    return out;
  }

  async function folded(q: CohortPartsQuery, by: readonly Dimension[]) {
    const parts = await t.wh.allWithLists<string, Row>(q.sql, q.params, q.layout.durations.map((d) => d.column));
    return { parts, groups: await foldCohortParts(q.layout, parts, keyOf(by)) };
  }

  it.each([
    [[] as Dimension[]],
    [['service', 'week'] as Dimension[]],
    [['area', 'channel'] as Dimension[]],
    [['agency', 'month'] as Dimension[]],
  ])('gives every count, sum and mix of the registry, and the durations Kaplan–Meier counts, by %j', async (by) => {
    // The data's own as-of time, ten days before it (more open, pending and censored), and the
    // middle of the window (cases closed after it count as open).
    for (const asOf of ['2026-11-16T05:00:00.000Z', '2026-11-06T05:00:00.000Z', '2026-10-20T12:00:00.000Z']) {
      const sel = await resolveSelection(t.wh, { from: '2026-08-24', to: '2026-11-15', as_of: asOf, timezone: zone });
      const opened = await folded(buildOpenedPartsQuery(by, sel, { surveys: true, durations: ['close', 'first_response'] }), by);
      // Parts are fewer than cases, more than groups: what makes them worth it, and what they are.
      expect(opened.parts.length).toBeGreaterThan(opened.groups.size);
      const want = await reference('opened', by, sel);
      expect(opened.groups.size).toBe(want.size);
      for (const [k, v] of want) {
        const g = opened.groups.get(k)!;
        for (const [name, value] of Object.entries(v)) expect(g.values[name], `${asOf} ${k} ${name}`).toEqual(value);
      }
      // The survey sums are not all zero here: the demo city holds answers.
      expect([...opened.groups.values()].some((g) => (g.values.survey_responses as number) > 0)).toBe(true);

      let zeros = 0;
      for (const duration of ['close', 'first_response'] as const) {
        const q = buildKmDurationsQuery(by, sel, duration);
        const lists = await t.wh.allWithLists<'ends' | 'censored', Row>(q.sql, q.params, ['ends', 'censored'] as const);
        let groupsWithLists = 0;
        for (const g of opened.groups.values()) {
          const l = g.lists.get(duration)!;
          if (l.ends.length + l.censored.length > 0) groupsWithLists++;
          zeros += l.zeroEnds + l.zeroCensored;
          // A zero is counted, never listed.
          expect([...l.ends, ...l.censored].every((p) => p.every((v) => v !== 0))).toBe(true);
        }
        expect(groupsWithLists).toBe(lists.length);
        for (const r of lists) {
          const l = opened.groups.get(keyOf(by)(r))!.lists.get(duration)!;
          expect(sortedList(l.ends, l.zeroEnds), `${duration} ends`).toEqual(sortedList([r.ends]));
          expect(sortedList(l.censored, l.zeroCensored), `${duration} censored`).toEqual(sortedList([r.censored]));
        }
      }
      // Durations of zero (requests answered the moment they were opened) are counted, not listed: the demo city has none until the suite's beforeAll.
      expect(zeros).toBeGreaterThan(0);

      const closed = await folded(buildClosedPartsQuery(by, sel, { contacts: true }), by);
      const wantClosed = await reference('closed', by, sel);
      expect(closed.groups.size).toBe(wantClosed.size);
      for (const [k, v] of wantClosed) expect(closed.groups.get(k)!.values, `${asOf} ${k}`).toEqual(v);
      expect([...closed.groups.values()].some((g) => (g.values.inbound_contacts as number) > 0)).toBe(true);

      // The backlog's parts read only the cases a backlog measure counts (open at the as-of
      // time): each group with any backlog has every backlog figure of the registry's aggregate
      // over all of its cases ever opened, and a group left out has none.
      const backlogQ = buildBacklogPartsQuery(by, sel);
      expect(backlogQ.sql).toMatch(/\nWHERE \(/);
      const backlog = await folded(backlogQ, by);
      const wantBacklog = await reference('backlog', by, sel);
      const backlogNames = sqlMeasures(['backlog']).map((m) => m.name);
      expect(backlogNames.length).toBeGreaterThan(0);
      let withBacklog = 0;
      for (const [k, v] of wantBacklog) {
        const got = backlog.groups.get(k);
        if ((v.backlog as number) > 0) withBacklog++;
        for (const name of backlogNames) expect(got ? got.values[name] : 0, `${asOf} ${k} ${name}`).toEqual(v[name]);
      }
      expect(backlog.groups.size).toBe(withBacklog);
      // Some cases ever opened are not in the backlog: the filter leaves cases out, not figures.
      expect([...wantBacklog.values()].reduce((n, v) => n + (v.opened as number), 0)).toBeGreaterThan(
        [...wantBacklog.values()].reduce((n, v) => n + (v.backlog as number), 0));
    }
  });

  it('reads Kaplan–Meier off the zeros counted apart as off every duration listed, censored zeros too', async () => {
    // An as-of time at which a request is opened: its time to close is censored at zero.
    const open = await t.wh.one<{ at: string }>(
      `SELECT strftime(opened_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS at FROM cases
       WHERE opened_at > TIMESTAMPTZ '2026-10-01 00:00:00+00' AND (closed_at IS NULL OR closed_at > opened_at) ORDER BY opened_at LIMIT 1`);
    for (const asOf of ['2026-11-16T05:00:00.000Z', open!.at]) {
      const window = { from: '2026-08-24', to: '2026-11-15', as_of: asOf, timezone: zone };
      const by: Dimension[] = ['service'];
      const table = await computeKpis(t.wh, by, window);
      const sel = await resolveSelection(t.wh, window);
      let zeros = 0;
      let censoredZeros = 0;
      let compared = 0;
      for (const duration of ['close', 'first_response'] as const) {
        const measures = (MEASURES as readonly { kind: string }[]).filter((m): m is DurationMeasure => m.kind === 'km' && (m as DurationMeasure).duration === duration);
        const q = buildKmDurationsQuery(by, sel, duration);
        for (const r of await t.wh.allWithLists<'ends' | 'censored', Row>(q.sql, q.params, ['ends', 'censored'] as const)) {
          zeros += [...r.ends, ...r.censored].filter((v) => v === 0).length;
          censoredZeros += [...r.censored].filter((v) => v === 0).length;
          const want = kmSummaryOfSorted(sortDurations(r.ends), sortDurations(r.censored), measures.map((m) => m.statistic));
          const row = table.rows.find((x) => x.service === r.service)!;
          for (const m of measures) {
            const s = want[m.statistic];
            expect((row as Record<string, unknown>)[m.name], `${asOf} ${String(r.service)} ${m.name}`).toBe(s === null ? null : s / 3600);
            compared++;
          }
        }
      }
      expect(zeros).toBeGreaterThan(0);
      // At the request's opening its times to close and to first response are censored at zero.
      if (asOf === open!.at) expect(censoredZeros).toBeGreaterThan(0);
      expect(compared).toBeGreaterThan(10);
    }
  });

  it('computes a case\'s state and age only where its stored mask is not read', async () => {
    const sel = await resolveSelection(t.wh, { from: '2026-08-24', to: '2026-11-15', as_of: '2026-11-16T05:00:00.000Z', timezone: zone });
    expect(sel.settled_masks).toBe(true);
    const lazy = /CASE WHEN c\.opened_settled_at <= \$as_of::TIMESTAMPTZ THEN NULL ELSE \(/g;
    // The KPI table's parts read the stored masks: both state columns and the age only for the others.
    const parts = buildOpenedPartsQuery(['service'], sel, { durations: ['close', 'first_response'] });
    expect(parts.sql.match(lazy)).toHaveLength(2);
    expect(parts.sql).toMatch(/CASE WHEN k\.opened_settled_at <= \$as_of::TIMESTAMPTZ THEN NULL ELSE floor\(/);
    expect(buildClosedPartsQuery(['service'], sel, { contacts: false }).sql).toMatch(/CASE WHEN c\.closed_settled_at <= \$as_of::TIMESTAMPTZ THEN NULL ELSE \(/);
    // Other predicates than the stored masks' (no durations), the backlog and the case lists' rows evaluate every case.
    for (const q of [buildOpenedPartsQuery(['service'], sel, {}), buildBacklogPartsQuery(['service'], sel), cohortRows('opened', ['service'], sel), cohortRows('closed', ['service'], sel)]) {
      expect(q.sql).not.toMatch(/THEN NULL ELSE/);
    }
  });

  it('without durations, gives the same counts and no lists; every cohort\'s predicates fit its mask', async () => {
    const sel = await resolveSelection(t.wh, { from: '2026-08-24', to: '2026-11-15', as_of: '2026-11-16T05:00:00.000Z', timezone: zone });
    const by: Dimension[] = ['service', 'week'];
    const bare = buildOpenedPartsQuery(by, sel, { surveys: true });
    expect(bare.layout.durations).toEqual([]);
    expect(bare.sql).not.toMatch(/list\(/);
    const withLists = await folded(buildOpenedPartsQuery(by, sel, { surveys: true, durations: ['close', 'first_response'] }), by);
    const without = await folded(bare, by);
    expect(without.groups.size).toBe(withLists.groups.size);
    for (const [k, g] of without.groups) expect(g.values).toEqual(withLists.groups.get(k)!.values);
    // The mask is read with 32-bit operators: the builder refuses more than 30 predicates.
    for (const q of [buildOpenedPartsQuery(by, sel, { durations: ['close', 'first_response'] }), buildClosedPartsQuery(by, sel)]) {
      const bits = [...q.layout.counts.map((c) => c.bit ?? 0), ...q.layout.durations.flatMap((d) => [d.counted, d.ended])];
      expect(Math.max(...bits)).toBeLessThan(30);
    }
  });

  it('caps the answer\'s rows, not its parts: a table of exactly the cap is answered, one row more is refused (413)', async () => {
    const window = { from: '2025-11-17', to: '2026-11-15', as_of: '2026-11-16T05:00:00.000Z', timezone: zone };
    const by: Dimension[] = ['service', 'week'];
    const rows = (await computeKpis(t.wh, by, window)).rows.length;
    const sel = await resolveSelection(t.wh, window);
    const q = buildOpenedPartsQuery(by, sel, { surveys: true, durations: ['close', 'first_response'] });
    const parts = (await t.wh.all(q.sql, q.params)).length;
    expect(parts).toBeGreaterThan(rows);
    const exact = await t.wh.readers({ connections: 1, maxQueryRows: rows, maxRows: rows });
    const under = await t.wh.readers({ connections: 1, maxQueryRows: rows, maxRows: rows - 1 });
    try {
      expect((await computeKpis(exact, by, window)).rows).toHaveLength(rows);
      const err = await computeKpis(under, by, window).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TooManyRowsError);
      expect((err as Error).message).toMatch(new RegExp(`more than ${rows - 1} rows \\(one per service × week\\)`));
    } finally {
      exact.close();
      under.close();
    }
  });

  it('orders a mix\'s keys as DuckDB\'s histogram does, whatever parts they come from', async () => {
    const keys = ['z', 'é', 'A', 'a', 'Z', '😀', '\uffff', 'phone', 'Phone', '(unknown channel)', 'ß', 'ä'];
    const mixOf = await t.wh.one<{ mix: { key: string; value: unknown }[] }>(
      `SELECT histogram(x) AS mix FROM (SELECT unnest(from_json($keys, '["VARCHAR"]')) AS x)`, { keys: JSON.stringify(keys) });
    const parts = keys.map((k, i) => ({ g: 'x', mask: 0, n: '1', mix: [{ key: k, value: String(i + 1) }] }));
    const layout: CohortPartsLayout = { counts: [], sums: [], mixes: ['mix'], durations: [] };
    const g = (await foldCohortParts(layout, parts.reverse(), (r) => String(r.g))).get('x')!;
    expect((g.values.mix as { key: string }[]).map((e) => e.key)).toEqual(mixOf!.mix.map((e) => e.key));
  });

  it('reads no survey answers or contacts a warehouse does not hold: their sums are 0', async () => {
    const sel = await resolveSelection(t.wh, { from: '2026-08-24', to: '2026-11-15', as_of: '2026-11-16T05:00:00.000Z', timezone: zone });
    const q = buildOpenedPartsQuery(['service'], sel, { surveys: false });
    expect(q.layout.sums.length).toBeGreaterThan(0);
    expect(q.layout.sums.every((s) => !s.read)).toBe(true);
    expect(q.sql).not.toMatch(/sum\(/);
    const { groups } = await folded(q, ['service']);
    for (const g of groups.values()) for (const s of q.layout.sums) expect(g.values[s.name]).toBe(0);
    const c = buildClosedPartsQuery(['service'], sel, { contacts: false });
    expect(c.layout.sums).toEqual([{ name: 'inbound_contacts', read: false }]);
  });
});

describe('foldCohortParts', () => {
  const layout: CohortPartsLayout = {
    counts: [{ name: 'all', bit: null }, { name: 'a', bit: 0 }, { name: 'b', bit: 1 }, { name: 'a_too', bit: 0 }],
    sums: [{ name: 's', read: true }, { name: 'unread', read: false }],
    mixes: ['mix'],
    durations: [{ duration: 'close', column: 'close_s', zeros: 'close_zeros', counted: 2, ended: 3 }],
  };
  const part = (g: string, mask: number, n: number, mix: [string, number][], close: number[], zeros = 0) =>
    ({ g, mask, n: String(n), s: String(n * 10), unread: '99', mix: mix.map(([key, value]) => ({ key, value: String(value) })), close_s: Float64Array.from(close), close_zeros: String(zeros) });

  it('adds each count over the parts with its bit, sums part to part, mixes key by key, and routes each part\'s durations', async () => {
    const groups = await foldCohortParts(layout, [
      part('x', 0b1101, 5, [['z', 4], ['é', 1]], [1, 2, 3], 2), // a, counted, ended (two of them at zero)
      part('x', 0b0110, 3, [['a', 3]], [5, 6], 1), // b, counted, not ended: censored (one at zero)
      part('x', 0b1000, 5, [['z', 5]], [7, 8, 9, 10], 1), // ended but not counted by Kaplan–Meier: no list, no zeros
      part('y', 0b0000, 1, [['😀', 1]], [11]),
      part('y', 0b0000, 1, [['\uffff', 1]], [12]),
    ], (r) => String(r.g));
    const x = groups.get('x')!;
    expect(x.values).toMatchObject({ all: 13, a: 5, a_too: 5, b: 3, s: 130, unread: 0 });
    // Keys in UTF-8 byte order, as DuckDB's histogram gives them: 'z' < 'é' (0xC3…).
    expect(x.values.mix).toEqual([{ key: 'a', value: 3 }, { key: 'z', value: 9 }, { key: 'é', value: 1 }]);
    expect(x.lists.get('close')!.ends.map((l) => [...l])).toEqual([[1, 2, 3]]);
    expect(x.lists.get('close')!.censored.map((l) => [...l])).toEqual([[5, 6]]);
    expect(x.lists.get('close')).toMatchObject({ zeroEnds: 2, zeroCensored: 1 });
    const y = groups.get('y')!;
    expect(y.values).toMatchObject({ all: 2, a: 0, b: 0, s: 20 });
    // U+FFFF is 0xEF… in UTF-8, an emoji 0xF0…: byte order, not UTF-16's.
    expect((y.values.mix as { key: string }[]).map((e) => e.key)).toEqual(['\uffff', '😀']);
    expect(y.lists.get('close')).toEqual({ ends: [], censored: [], zeroEnds: 0, zeroCensored: 0 });
    expect(y.dims.g).toBe('y');
  });
});
