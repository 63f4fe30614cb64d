// At most 8 series to a chart (DESIGN.md "Showing numbers"): the seven largest by total keep
// their own line and the rest are summed into one "Other" line, so the palette's colours stay
// distinguishable. Only for counts — rates and medians cannot be summed (use small multiples).
export const MAX_SERIES = 8;

export interface Limited<T> { rows: T[]; kept: string[]; folded: string[] }

export function limitSeries<T extends object>(
  rows: readonly T[],
  seriesKey: keyof T & string,
  valueKey: keyof T & string,
  xKey: keyof T & string,
  max = MAX_SERIES,
  otherLabel = 'Other',
): Limited<T> {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(String(r[seriesKey]), (totals.get(String(r[seriesKey])) ?? 0) + Number(r[valueKey] ?? 0));
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  if (ranked.length <= max) return { rows: rows.map((r) => ({ ...r })), kept: ranked, folded: [] };
  const kept = ranked.slice(0, max - 1);
  const folded = ranked.slice(max - 1);
  const keep = new Set(kept);
  const other = new Map<string, number>();
  const out: T[] = [];
  for (const r of rows) {
    if (keep.has(String(r[seriesKey]))) out.push({ ...r });
    else other.set(String(r[xKey]), (other.get(String(r[xKey])) ?? 0) + Number(r[valueKey] ?? 0));
  }
  const label = `${otherLabel} (${folded.length})`;
  for (const [x, v] of other) out.push({ [xKey]: x, [seriesKey]: label, [valueKey]: v } as T);
  return { rows: out, kept: [...kept, label], folded };
}
