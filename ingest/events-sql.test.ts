// The new-events builder reads `case_events` only when the batch touches cases the warehouse
// already holds: a case's stored events always come with its `cases` row (one batch writes both),
// so a batch of new cases has nothing to compare with (the daily load's largest read, skipped).
// That the comparison still happens when it must is proven by test/integration/ingest-incremental.test.ts.
import { describe, expect, it } from 'vitest';
import { buildNewEventsQuery } from './events-sql.ts';
import { loadProfile } from './profile.ts';

describe('buildNewEventsQuery', () => {
  const profile = loadProfile('demo-city');
  const o = { hasTrail: false, batchTime: '2026-01-06T00:00:00Z' };

  it('compares with the stored events only when some of the batch’s cases are held', () => {
    expect(buildNewEventsQuery(profile, { ...o, held: true }).sql).toMatch(/FROM case_events e WHERE e\.event_id = k\.event_id/);
    expect(buildNewEventsQuery(profile, { ...o, held: false }).sql).not.toMatch(/case_events/);
  });

  it('reads the held cases from held_cases, never from cases itself', () => {
    for (const held of [true, false]) {
      const sql = buildNewEventsQuery(profile, { ...o, held }).sql;
      expect(sql).not.toMatch(/\bJOIN cases\b/);
      expect(sql).toMatch(/JOIN held_cases c/);
    }
  });
});
