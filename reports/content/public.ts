// A public report: only the figures of the public release (publicKpis: disclosure control — small
// counts suppressed with their complements, rates and durations only over enough cases, rounded),
// nothing case-level, no filters (a filtered table could be subtracted from the published ones).
// A withheld figure reads "suppressed", never 0.
import type { Warehouse } from '../../warehouse/db.ts';
import { publicKpis, publicTrends, type PublicRow, type PublicKpisResult } from '../../warehouse/analytics/public-kpis.ts';
import { checkAsOf, dataAsOf } from '../../warehouse/analytics/window.ts';
import { formatHours } from '../../warehouse/analytics/format.ts';
import { DEFAULT_POLICY } from '../../warehouse/privacy/policy.ts';
import { compareLabels } from '../../warehouse/queries/case-predicates.ts';
import { buildLineSpec, describeLine, type LinePoint } from '../../dashboard/src/lib/charts/line-spec.ts';
import type { Block, Column, ReportContent, ReportContext, ReportSpec, Section, Table } from '../definitions.ts';
import { areaKindPlural, areaLabel, localStamp, measureDefinitions, periodText } from './common.ts';

/** "2026-11-15 (America/New_York)": the local day of an instant, no finer. */
const publicDay = (instant: string, timezone: string) => `${localStamp(instant, timezone).slice(0, 10)} (${timezone})`;

const FLAG_TEXT: Record<string, string> = { suppressed: 'suppressed', too_few_cases: 'too few cases', not_reached: 'not reached', not_available: 'not available' };
const MEASURES = ['opened', 'median_hours_to_close', 'on_time_rate', 'csat_top2'] as const;

/** A published row flattened for a table: each figure beside its status (the flag's words). */
function flat(r: PublicRow): Record<string, unknown> {
  const out: Record<string, unknown> = { ...r };
  delete out.flags;
  for (const m of MEASURES) out[`${m}_status`] = r.flags[m] ? FLAG_TEXT[r.flags[m]!] : null;
  return out;
}

const COLUMNS: Column[] = [
  { key: 'opened', label: 'Requests', format: 'int', status: 'opened_status' },
  { key: 'median_hours_to_close', label: 'Median time to close', format: 'hours', status: 'median_hours_to_close_status' },
  { key: 'on_time_rate', label: 'Closed on time', format: 'percent0', status: 'on_time_rate_status' },
  { key: 'csat_top2', label: 'Satisfied', format: 'percent0', status: 'csat_top2_status' },
];
const csvColumns = (first: string[]): Column[] => [...first, ...MEASURES.flatMap((m) => [m, `${m}_status`])].map((k) => ({ key: k, label: k }));

export async function buildPublicReport(wh: Warehouse, spec: ReportSpec, ctx: ReportContext): Promise<ReportContent> {
  const given = Object.entries(spec.filter).filter(([, v]) => v !== undefined && v !== '');
  if (given.length) throw new Error(`report "${spec.id}": a public report cannot be filtered (${given.map(([k]) => k).join(', ')}): only the published release's tables are public`);
  const tz = spec.timezone;
  const policy = ctx.disclosure ?? DEFAULT_POLICY;
  const o = { period: spec.period, policy, timezone: tz, area_kind: spec.area_kind ?? null };
  const k: PublicKpisResult = await publicKpis(wh, ['service', 'area', spec.period], o);
  const asOf = k.as_of ?? (ctx.as_of && checkAsOf(ctx.as_of)) ?? (await dataAsOf(wh)) ?? new Date().toISOString();
  const periods = k.periods;
  const last = periods.at(-1) ?? null;
  const prev = periods.length > 1 ? periods.at(-2)! : null;
  const tableBy = (by: string[]) => k.tables.find((t) => t.by.length === by.length && by.every((d) => t.by.includes(d as never)))?.rows ?? [];
  const totals = tableBy([spec.period]);
  const totalOf = (p: string | null) => totals.find((r) => r[spec.period] === p);
  const from = last ?? '';
  const to = last ? periodEnd(spec.period, last) : '';
  const per = spec.period;
  const sections: Section[] = [];
  const areaKind = k.area_kind;

  if (spec.views.includes('summary')) {
    const now = totalOf(last);
    const before = totalOf(prev);
    const rows = MEASURES.map((m) => {
      const col = COLUMNS.find((c) => c.key === m)!;
      const cell = (r: PublicRow | undefined) => (r ? flat(r) : null);
      const fmt = (r: PublicRow | undefined) => { const f = cell(r); return f ? textOf(f, col) : '—'; };
      const a = now?.[m] ?? null;
      const b = before?.[m] ?? null;
      const change = a === null || b === null ? 'not compared' : changeText(m, a, b);
      return { measure: col.label, value: fmt(now), previous: fmt(before), change, name: m, raw_value: a, raw_previous: b, status: now?.flags[m] ? FLAG_TEXT[now.flags[m]!] : null };
    });
    const trendPoints: LinePoint[] = totals.map((r) => ({ x: r[per]!, value: r.opened }));
    const trends = await publicTrends(wh, ['service'], o);
    const blocks: Block[] = [
      {
        kind: 'table',
        table: {
          name: 'headline',
          caption: last ? `Published figures, ${from} to ${to}${prev ? `, against the ${per} before` : ''}` : 'Published figures',
          columns: [{ key: 'measure', label: 'Measure', row_header: true }, { key: 'value', label: `This ${per}` }, { key: 'previous', label: `${per === 'week' ? 'Week' : 'Month'} before` }, { key: 'change', label: 'Change' }],
          rows,
          csv_columns: ['name', 'measure', 'raw_value', 'raw_previous', 'status'].map((x) => ({ key: x, label: x.replace(/^raw_/, '') })),
          note: `Counts of 1 to ${policy.k} requests, and some larger ones, are suppressed; rates and durations are published over at least ${policy.min_denominator} cases only.`,
        },
      },
      trends.findings.length
        ? { kind: 'list', items: trends.findings.slice(0, 10).map((f) => f.sentence) }
        : { kind: 'paragraphs', paragraphs: [`No significant trend in the published ${per}ly counts by service.`] },
      ...(trends.findings.length > 10 ? [{ kind: 'paragraphs' as const, paragraphs: [`10 of ${trends.findings.length} trends are stated here, strongest first.`] }] : []),
      // A line needs points: with fewer than three published periods (an export of a few weeks) it would be a dot or two.
      ...(trendPoints.filter((p) => p.value !== null).length < 3 ? [{ kind: 'paragraphs' as const, paragraphs: [`${trendPoints.filter((p) => p.value !== null).length === 1 ? `Only one ${per} is` : `Only ${trendPoints.filter((p) => p.value !== null).length} ${per}s are`} published: no chart of requests over time (the public release has whole ${per}s only).`] }] : []),
      {
        kind: 'chart',
        caption: `Requests per ${per}, ${periods[0] ?? ''} to ${to}`,
        spec: buildLineSpec(trendPoints, { xTitle: per === 'week' ? 'Week starting' : 'Month', yTitle: 'Requests', width: 420, height: 170 }),
        alt: describeLine(trendPoints, { yTitle: `Requests per ${per}`, format: (v) => v.toLocaleString('en-US') }) + (trendPoints.some((p) => p.value === null) ? ' Suppressed periods are left out of the line.' : ''),
        data: { name: 'trend', caption: `Requests per ${per}`, columns: [{ key: per, label: per === 'week' ? 'Week starting' : 'Month' }, { key: 'opened', label: 'Requests', format: 'int', status: 'opened_status' }], rows: totals.map(flat), csv_columns: csvColumns([per]) },
      },
    ];
    const few = trendPoints.filter((p) => p.value !== null).length < 3;
    // Few points: the chart's numbers still go to the CSV, as a table.
    sections.push({ heading: 'Summary', level: 2, blocks: few ? blocks.map((b): Block => (b.kind === 'chart' ? { kind: 'table', table: b.data!, csv_only: true } : b)) : blocks });
  }
  if (spec.views.includes('services')) {
    const rows = tableBy(['service', per]).filter((r) => r[per] === last).map(flat).sort((a, b) => compareLabels(String(a.service), String(b.service)));
    sections.push({ heading: 'Services', level: 2, new_page: true, blocks: [{ kind: 'table', table: publicTable('services', `Published figures by service, ${from} to ${to}`, { key: 'service', label: 'Service', row_header: true }, rows, csvColumns(['service_group', 'service'])) }] });
  }
  if (spec.views.includes('areas')) {
    const rows = tableBy(['area', per]).filter((r) => r[per] === last).map((r) => ({ ...flat(r), area_label: areaLabel(r.area!, areaKind) }));
    sections.push({ heading: areaKindPlural(areaKind), level: 2, new_page: true, blocks: [{ kind: 'table', table: publicTable('areas', `Published figures by ${areaKindPlural(areaKind).toLowerCase().replace(/s$/, '')}, ${from} to ${to}`, { key: 'area_label', label: areaKindPlural(areaKind).replace(/s$/, ''), row_header: true }, rows, csvColumns(['area'])) }, ...(k.footnotes.area_not_published ? [{ kind: 'paragraphs' as const, paragraphs: [k.footnotes.area_not_published] }] : [])] });
  }
  if (spec.views.includes('methodology')) {
    sections.push({
      heading: 'How these figures are defined and protected',
      level: 2,
      new_page: true,
      blocks: [
        { kind: 'paragraphs', paragraphs: [`Requests are counted in the ${per} they were made, by local days in ${tz}. Durations read in hours under 48 hours, else in days.`] },
        { kind: 'list', items: measureDefinitions(MEASURES) },
        { kind: 'paragraphs', paragraphs: ['Disclosure control (what is withheld, and why):'] },
        { kind: 'list', items: [...k.disclosure.rules, k.footnotes.suppressed, k.footnotes.too_few_cases, k.footnotes.not_reached] },
      ],
    });
  }
  const label = last ? periodText(per, from, to) : 'No whole period in the data';
  return {
    id: spec.id,
    title: `${spec.title}: ${ctx.jurisdiction}`,
    subtitle: `${label}${last ? ` (${from} to ${to}, ${tz})` : ''}. Published figures only. Data as of ${publicDay(asOf, tz)}.`,
    audience: 'public',
    as_of: asOf,
    // Public: the day only — the instant is one request's last event (nothing public gives a time of day).
    as_of_local: publicDay(asOf, tz),
    timezone: tz,
    from,
    to,
    period: last ? `${from}_${to}` : 'empty',
    facts: [
      { label: 'Period', value: last ? `${label} (${from} to ${to})` : label },
      { label: 'Compared with', value: prev ? `the ${per} before (${prev} to ${periodEnd(per, prev)})` : 'no earlier period published' },
      { label: 'Figures', value: `published only (disclosure control: k = ${policy.k}, at least ${policy.min_denominator} cases for a rate or duration)` },
      { label: 'Data as of', value: publicDay(asOf, tz) },
      { label: 'Time zone', value: tz },
    ],
    min_denominator: policy.min_denominator,
    sections,
    csv: { columns: csvColumns(['service_group', 'service']), rows: tableBy(['service', per]).filter((r) => r[per] === last).map(flat) },
  };
}

function publicTable(name: string, caption: string, first: Column, rows: Record<string, unknown>[], csv: Column[]): Table {
  return { name, caption, columns: [first, ...COLUMNS], rows, csv_columns: csv, note: '"suppressed": withheld to protect privacy (not zero); "too few cases": under the minimum for a rate or duration.' };
}

function textOf(row: Record<string, unknown>, col: Column): string {
  const st = col.status ? row[col.status] : null;
  if (typeof st === 'string') return st;
  const v = row[col.key];
  if (typeof v !== 'number') return '—';
  if (col.format === 'int') return v.toLocaleString('en-US');
  if (col.format === 'hours') return formatHours(v);
  return `${Math.round(v * 100)}%`;
}

function changeText(m: string, a: number, b: number): string {
  const d = a - b;
  if (Math.abs(d) < 1e-9) return 'no change';
  const dir = d > 0 ? 'up' : 'down';
  if (m === 'opened') return `${dir} ${Math.abs(d).toLocaleString('en-US')}${b ? ` (${((100 * Math.abs(d)) / b).toFixed(1)}%)` : ''}`;
  if (m === 'median_hours_to_close') return `${dir} ${formatHours(Math.abs(d))}`;
  const pp = Math.round(Math.abs(d) * 100);
  return `${dir} ${pp} percentage point${pp === 1 ? '' : 's'}`;
}

function periodEnd(period: 'week' | 'month', start: string): string {
  const t = Date.parse(`${start}T00:00:00Z`);
  if (period === 'week') return new Date(t + 6 * 86_400_000).toISOString().slice(0, 10);
  const d = new Date(t);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).toISOString().slice(0, 10);
}
