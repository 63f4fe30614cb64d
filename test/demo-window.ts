// The demo warehouse and the one window several analysis suites read (twelve weeks to 25 October
// 2026, as of 1 November, New York time): copied before a suite's tests, removed after.
import { afterAll, beforeAll } from 'vitest';
import { demoWarehouse } from './demo-warehouse.ts';
import { resolveWindow } from '../warehouse/analytics/window.ts';
import type { CaseWindow } from '../warehouse/queries/case-predicates.ts';

export const DEMO_WINDOW = { from: '2026-08-03', to: '2026-10-25', as_of: '2026-11-01T12:00:00Z' } as const;

/** Call inside a describe: `demo.t` and `demo.w` are set once its beforeAll has run. */
export function useDemoWindow(): { t: Awaited<ReturnType<typeof demoWarehouse>>; w: CaseWindow } {
  const demo = {} as { t: Awaited<ReturnType<typeof demoWarehouse>>; w: CaseWindow };
  beforeAll(async () => {
    demo.t = await demoWarehouse();
    demo.w = await resolveWindow(demo.t.wh, DEMO_WINDOW, 'America/New_York');
  });
  afterAll(() => demo.t?.cleanup());
  return demo;
}
