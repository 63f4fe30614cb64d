// How a public figure reads: its value, why it is withheld, or why the data cannot give it.
import { describe, expect, it } from 'vitest';
import type { PublicRow } from '../../warehouse/analytics/public-kpis.ts';
import { figure, periodLabel, localDay } from './format.ts';
import { html } from './html.ts';

const row = (o: Partial<PublicRow>): PublicRow => ({ opened: 120, median_hours_to_close: 50.4, on_time_rate: 0.78, csat_top2: null, suppressed: false, flags: { csat_top2: 'too_few_cases' }, ...o });

describe('public figures', () => {
  it('reads values by the display rule, and withheld ones by why', () => {
    expect(figure(row({}), 'opened').value).toBe('120');
    expect(figure(row({}), 'median_hours_to_close').value).toBe('2.1 days');
    expect(figure(row({}), 'on_time_rate').value).toBe('78%');
    expect(figure(row({}), 'csat_top2').value).toBe('<span class="flag">too few cases</span>');
    const withheld = row({ opened: null, median_hours_to_close: null, on_time_rate: null, suppressed: true, flags: { opened: 'suppressed' } });
    expect(figure(withheld, 'opened').value).toBe('<span class="flag">suppressed</span>');
    expect(figure(withheld, 'on_time_rate', { on_time_rate: 'no due times in the data' }).value).toBe('<span class="flag">suppressed</span>');
  });

  it('says the data cannot give a figure rather than "too few cases" when it has none at all (LA: no due times)', () => {
    const r = row({ on_time_rate: null, flags: { on_time_rate: 'too_few_cases' } });
    expect(figure(r, 'on_time_rate', { on_time_rate: 'no due times in the data' }).value).toBe('<span class="flag">no due times in the data</span>');
    expect(figure(r, 'on_time_rate').value).toBe('<span class="flag">too few cases</span>');
  });

  it('escapes what it interpolates, and names periods and days in words', () => {
    expect(html`<p>${'<script>alert(1)</script> & "x"'}</p>`.value).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;</p>');
    expect(periodLabel('month', '2025-11-01')).toBe('November 2025');
    expect(periodLabel('week', '2026-03-02')).toBe('week of 2 March 2026');
    // 04:22 UTC is still the evening before in New York.
    expect(localDay('2026-11-16T04:22:21Z', 'America/New_York')).toBe('2026-11-15');
  });
});
