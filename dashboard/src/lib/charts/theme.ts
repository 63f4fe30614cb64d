// One theme for every chart, on screen and in PDFs. Colours: Okabe–Ito (safe for colour-blind
// readers) plus greys; fonts are system fonts because nothing may be fetched at run time.
import type { Config } from 'vega-lite';

export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#F0E442', '#7F7F7F', '#8C564B'];

export const theme: Config = {
  font: 'Helvetica, Arial, sans-serif',
  background: '#ffffff',
  range: { category: PALETTE },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6', domainColor: '#888', tickColor: '#888', labelColor: '#222', titleColor: '#222' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelColor: '#222', titleColor: '#222', orient: 'right' },
  title: { fontSize: 14, anchor: 'start', color: '#111' },
  view: { stroke: null },
  line: { strokeWidth: 2 },
  point: { size: 30, filled: true },
};

/**
 * Axis tick values for local days (YYYY-MM-DD), about a dozen, as Vega-Lite date-time objects
 * read in UTC. Not timestamps: the dashboard evaluates Vega's expressions with its interpreter
 * (no eval, for the content security policy), and that drops `datetime(<ms>)` tick values —
 * the axis then had no labels at all.
 */
export function dayTicks(days: readonly string[], max = 12): { year: number; month: number; date: number; utc: true }[] {
  const sorted = [...new Set(days)].sort();
  const step = Math.max(1, Math.ceil(sorted.length / max));
  return sorted.filter((_, i) => i % step === 0).map((d) => {
    const [year, month, date] = d.split('-').map(Number);
    return { year, month, date, utc: true as const };
  });
}
