// A staff report: the overview's headline figures (computeOverview: changes against the previous
// period, targets, worst services and areas), the findings as the dashboard's overview states them
// (computeFindings, a year of weeks by service and by area), then a section per service and per
// area, and the definitions from the measure registry. Scoped by the owner's agencies.
import type { Warehouse } from '../../warehouse/db.ts';
import { computeKpis, type KpiRow } from '../../warehouse/analytics/kpis.ts';
import { computeOverview, type HeadlineFigure } from '../../warehouse/analytics/overview.ts';
import { computeFindings } from '../../warehouse/analytics/findings.ts';
import { checkAsOf, dataAsOf, resolveWindow } from '../../warehouse/analytics/window.ts';
import { DEFAULT_MIN_DENOMINATOR, targetStatus } from '../../warehouse/analytics/format.ts';
import { measure } from '../../warehouse/queries/measures.ts';
import { NO_AREA, compareLabels, type CaseWindow } from '../../warehouse/queries/case-predicates.ts';
import { formatChange, formatValue, pct, pctOf } from '../../dashboard/src/lib/format.ts';
import { buildTrendSpec, describeTrend, type TrendRow } from '../../dashboard/src/lib/charts/trend-spec.ts';
import { buildLineSpec, describeLine, type LinePoint } from '../../dashboard/src/lib/charts/line-spec.ts';
import { chartPeriod } from '../../dashboard/src/lib/filters.ts';
import type { Block, Column, ReportContent, ReportContext, ReportSpec, Section, Table } from '../definitions.ts';
import { areaKindPlural, areaLabel, chartFrom, filterText, localStamp, measureDefinitions, periodText, plural, reportWindow } from './common.ts';

/** The figures of a service's or an area's own table (registry names), this period beside the last. */
const SECTION_MEASURES = ['opened', 'closed', 'median_hours_to_close', 'on_time_rate', 'backlog'] as const;
/** Raw columns of the services and areas CSVs. */
const CSV_MEASURES = ['opened', 'closed', 'median_hours_to_close', 'on_time_rate', 'pending', 'closed_without_due_time', 'on_time', 'on_time_denominator', 'median_hours_ci_lower', 'median_hours_ci_upper', 'p90_hours_to_close', 'cancelled', 'excluded_data_errors', 'backlog', 'backlog_past_due'];
/** How many findings the first page states (all of them are in the findings CSV, and it says so). */
const FINDINGS_SHOWN = 10;

const CHART_W = 470;
const CHART_H = 170;

export async function buildStaffReport(wh: Warehouse, spec: ReportSpec, ctx: ReportContext): Promise<ReportContent> {
  const tz = spec.timezone;
  const min = ctx.min_denominator ?? DEFAULT_MIN_DENOMINATOR;
  const asOf = (ctx.as_of && checkAsOf(ctx.as_of)) ?? (await dataAsOf(wh)) ?? new Date().toISOString();
  const w = await reportWindow(wh, spec.period, asOf, tz);
  const window: CaseWindow = { from: w.from, to: w.to, as_of: asOf, timezone: tz };
  const scope = { agencies: spec.agencies };
  const opts = { area_kind: spec.area_kind, scope };
  const ov = await computeOverview(wh, window, spec.filter, { ...opts, targets: ctx.targets, min_denominator: min });
  const areaKind = ov.area_kind;
  const kpiOpts = { area_kind: areaKind, scope };
  const chartStart = chartFrom(w);
  const chartBy = chartPeriod(chartStart, w.to);
  const trendWindow: CaseWindow = { from: chartStart, to: w.to, as_of: asOf, timezone: tz };
  const prevWindow: CaseWindow = { from: ov.previous.from, to: ov.previous.to, as_of: asOf, timezone: tz };
  const periodWord = spec.period;
  // Backlogs as the headline takes them (computeOverview): now = at the as-of time, or at the
  // period's end when it ends before; before = when this period began. Not the previous period's
  // cases still open now, which would read as a backlog that grew.
  const backlogBefore: CaseWindow = { ...prevWindow, as_of: ov.previous.backlog_as_of };
  const backlogNow: CaseWindow | null = ov.backlog_as_of === asOf ? null : { ...window, as_of: ov.backlog_as_of };
  async function withBacklogs(dim: 'service' | 'area', now: KpiRow[], before: KpiRow[]): Promise<{ now: Map<string, KpiRow>; before: Map<string, KpiRow> }> {
    const b = await computeKpis(wh, [dim], backlogBefore, spec.filter, kpiOpts);
    const n = backlogNow ? await computeKpis(wh, [dim], backlogNow, spec.filter, kpiOpts) : null;
    const bOf = new Map(b.rows.map((r) => [r[dim]!, r.backlog]));
    const nOf = n ? new Map(n.rows.map((r) => [r[dim]!, r.backlog])) : null;
    // A group with only a backlog then (no row now) still has its row: zeros for the period's counts.
    const only = (k: string, backlog: number) => ({ [dim]: k, opened: 0, closed: 0, closed_in_period: 0, on_time: 0, on_time_denominator: 0, backlog }) as unknown as KpiRow;
    return {
      now: new Map([
        ...now.map((r) => [r[dim]!, nOf ? { ...r, backlog: nOf.get(r[dim]!) ?? 0 } : r] as const),
        ...(nOf ? [...nOf].filter(([k]) => !now.some((r) => r[dim] === k)).map(([k, v]) => [k, only(k, v)] as const) : []),
      ]),
      before: new Map([...before.map((r) => [r[dim]!, { ...r, backlog: bOf.get(r[dim]!) ?? 0 }] as const), ...[...bOf].filter(([k]) => !before.some((r) => r[dim] === k)).map(([k, v]) => [k, only(k, v)] as const)]),
    };
  }

  const byService = await computeKpis(wh, ['service'], window, spec.filter, kpiOpts);
  const targetOf = new Map(ov.worst_services.map((r) => [r.service, r]));
  const areaTargetOf = new Map(ov.worst_areas.map((r) => [r.area, r]));

  const sections: Section[] = [];
  const needs = (v: ReportSpec['views'][number]) => spec.views.includes(v);

  if (needs('summary')) sections.push(await summarySection());
  if (needs('services')) sections.push(...(await servicesSections()));
  if (needs('areas')) sections.push(...(await areasSections()));
  if (needs('methodology')) sections.push(methodologySection());

  const serviceRows = serviceTableRows();
  return {
    id: spec.id,
    title: `${spec.title}: ${ctx.jurisdiction}`,
    subtitle: `${periodText(spec.period, w.from, w.to)} (${w.from} to ${w.to}, ${tz}), the last whole ${periodWord} of requests. Data as of ${localStamp(asOf, tz)}.`,
    audience: 'staff',
    as_of: asOf,
    as_of_local: localStamp(asOf, tz),
    timezone: tz,
    from: w.from,
    to: w.to,
    period: `${w.from}_${w.to}`,
    facts: [
      { label: 'Period', value: `${periodText(spec.period, w.from, w.to)} (${w.from} to ${w.to})` },
      { label: 'Compared with', value: `the ${periodWord} before, ${ov.previous.from} to ${ov.previous.to}${ov.previous.partial ? ' (the data starts inside it: counts are not compared)' : ''}` },
      { label: 'Filters', value: filterText(ov.filter, areaKind) },
      { label: 'Agencies', value: spec.agencies === null ? 'all agencies' : spec.agencies.join(', ') || 'none' },
      { label: 'Data as of', value: `${localStamp(asOf, tz)} (newest event in the warehouse)` },
      { label: 'Time zone', value: tz },
    ],
    min_denominator: min,
    sections,
    csv: { columns: [{ key: 'service', label: 'service' }, ...CSV_MEASURES.map((n) => ({ key: n, label: n }))], rows: serviceRows },
  };

  function serviceTableRows(): Record<string, unknown>[] {
    // Services with nothing opened or closed in the period (only an old backlog) are not rows of a period's table.
    return byService.rows.filter((r) => r.opened > 0 || r.closed_in_period > 0).map((r) => ({ ...r }) as Record<string, unknown>);
  }

  async function summarySection(): Promise<Section> {
    const blocks: Block[] = [];
    const shown = ov.headline.filter((h) => h.value !== null || h.previous !== null || (h.denominator ?? 0) > 0);
    const absent = ov.headline.filter((h) => !shown.includes(h));
    blocks.push({ kind: 'table', table: headlineTable(shown) });
    if (absent.length) blocks.push({ kind: 'paragraphs', paragraphs: [`Not in the data for this ${periodWord}: ${absent.map((h) => h.label).join(', ')}.`] });
    if (noDueTimes()) blocks.push({ kind: 'paragraphs', paragraphs: ['No case of the period has a due time (the source sends none, or no service has one): there is no on-time rate to compare with a target.'] });

    const below = ov.worst_services.filter((r) => r.status === 'below target').slice(0, 3);
    const belowAreas = ov.worst_areas.filter((r) => r.status === 'below target' && r.area !== NO_AREA).slice(0, 3);
    const worst: string[] = [
      ...below.map((r) => `${r.service}: ${pctOf(r.on_time_rate, r.on_time_denominator, min)} closed on time, against a target of ${pct(r.target)}.`),
      ...belowAreas.map((r) => `${areaLabel(r.area, areaKind)}: ${pctOf(r.on_time_rate, r.on_time_denominator, min)} closed on time, against a target of ${pct(r.target)}.`),
    ];
    const findings = await findingsOf();
    const list = findings.rows.slice(0, FINDINGS_SHOWN).map((f) => String(f.sentence));
    const more = findings.rows.length > FINDINGS_SHOWN ? [`${FINDINGS_SHOWN} of ${findings.rows.length} findings are stated here, strongest first; all ${findings.rows.length} are in the findings CSV file.`] : [];
    const trend = await computeKpis(wh, ['service', chartBy], trendWindow, spec.filter, kpiOpts);
    const trendRows: TrendRow[] = trend.rows.map((r) => ({ week: r[chartBy]!, service: r.service!, opened: r.opened }));
    const blocks2: Block[] = [
      { kind: 'paragraphs', paragraphs: [findings.rows.length ? `Findings over the year of weeks up to ${w.to} (trends and unusual volume, false discovery rate 5%):` : `No significant trend or unusual volume in the year of weeks up to ${w.to} (false discovery rate 5%).`] },
      ...(list.length ? [{ kind: 'list' as const, items: list }] : []),
      ...(more.length ? [{ kind: 'paragraphs' as const, paragraphs: more }] : []),
      ...(worst.length ? [{ kind: 'paragraphs' as const, paragraphs: [`Furthest below target this ${periodWord}:`] }, { kind: 'list' as const, items: worst }] : []),
      ...ov.warnings.map((x) => ({ kind: 'paragraphs' as const, paragraphs: [x] })),
      {
        kind: 'chart',
        caption: `Cases opened per ${chartBy} by service, ${chartStart} to ${w.to}`,
        spec: buildTrendSpec(trendRows, { width: 400, height: CHART_H + 30, period: chartBy }),
        alt: describeTrend(trendRows, 'cases opened', chartBy),
        data: {
          name: 'trend',
          caption: `Cases opened per ${chartBy} by service`,
          columns: [{ key: 'week', label: chartBy === 'day' ? 'Day' : 'Week starting' }, { key: 'service', label: 'Service', row_header: true }, { key: 'opened', label: 'Opened', format: 'int' }],
          rows: trendRows as unknown as Record<string, unknown>[],
          csv_columns: [{ key: 'week', label: chartBy === 'day' ? 'day' : 'week' }, { key: 'service', label: 'service' }, { key: 'opened', label: 'opened' }],
        },
      },
      // The findings table goes to the CSV only: the page states them as sentences.
      { kind: 'table', table: findings, csv_only: true },
    ];
    return { heading: 'Summary', level: 2, blocks: [...blocks, ...blocks2] };
  }

  function headlineTable(figs: HeadlineFigure[]): Table {
    const rows = figs.map((h) => {
      const tooFew = h.status === 'too few cases';
      const value = formatValue(h.value, h.unit, h.denominator, min);
      const previous = formatValue(h.previous, h.unit, h.previous_denominator, min);
      const target = h.name === 'on_time_rate' ? (h.target === null || h.target === undefined ? '—' : `${pct(h.target)}: ${h.status ?? '—'}`) : tooFew ? 'too few cases' : '';
      const change = h.change === null && (tooFew || value === 'too few cases' || previous === 'too few cases') ? 'not compared (too few cases)' : formatChange(h.change, h.unit, h.previous);
      return { measure: h.label, value, previous, change, target, name: h.name, raw_value: h.value, denominator: h.denominator ?? null, raw_previous: h.previous, previous_denominator: h.previous_denominator ?? null, raw_change: h.change, change_unit: h.change_unit, raw_target: h.target ?? null, status: h.status };
    });
    return {
      name: 'headline',
      caption: `Headline figures, ${w.from} to ${w.to}, against ${ov.previous.from} to ${ov.previous.to}`,
      columns: [
        { key: 'measure', label: 'Measure', row_header: true },
        { key: 'value', label: `This ${periodWord}` },
        { key: 'previous', label: `${periodWord === 'week' ? 'Week' : 'Month'} before` },
        { key: 'change', label: 'Change' },
        { key: 'target', label: 'Target' },
      ],
      rows,
      csv_columns: ['name', 'measure', 'raw_value', 'denominator', 'raw_previous', 'previous_denominator', 'raw_change', 'change_unit', 'raw_target', 'status'].map((k) => ({ key: k, label: k.replace(/^raw_/, '') })),
      note: `Rates and medians over fewer than ${min} cases read "too few cases". The backlog is taken at the as-of time (or the ${periodWord}'s end) against the backlog when the ${periodWord} began.`,
    };
  }

  async function findingsOf(): Promise<Table> {
    // As the dashboard's overview: a year of weeks up to the period's end, by service and by area.
    const year = await resolveWindow(wh, { to: w.to, as_of: asOf, weeks: 52 }, tz);
    const all: { kind: string; service: string | null; area: string | null; sentence: string; p: number }[] = [];
    for (const by of [['service'], ['area']] as const) {
      const f = await computeFindings(wh, { window: year, by: [...by], period: 'week', filter: spec.filter, area_kind: areaKind, scope });
      for (const x of [...f.anomalies, ...f.trends]) all.push({ kind: x.kind, service: x.service ?? null, area: x.area ?? null, sentence: x.sentence, p: x.p });
    }
    all.sort((a, b) => a.p - b.p);
    const seen = new Set<string>();
    const rows = all.filter((x) => !seen.has(x.sentence) && seen.add(x.sentence));
    return {
      name: 'findings',
      caption: 'Findings',
      columns: [{ key: 'kind', label: 'Kind' }, { key: 'service', label: 'Service' }, { key: 'area', label: 'Area' }, { key: 'sentence', label: 'Finding' }, { key: 'p', label: 'p' }],
      rows,
    };
  }

  /** No case of the period has a due time (LA sends none): on-time columns would be "too few cases" all down. */
  function noDueTimes(): boolean {
    return (ov.headline.find((h) => h.name === 'on_time_rate')?.denominator ?? 1) === 0;
  }

  function kpiColumns(first: Column): Column[] {
    const onTime: Column[] = noDueTimes() ? [] : [
      { key: 'on_time_rate', label: 'Closed on time', format: 'percent', of: 'on_time_denominator' },
      { key: 'target', label: 'Target', format: 'percent0' },
      { key: 'target_status', label: 'Status' },
    ];
    return [
      first,
      { key: 'opened', label: 'Opened', format: 'int' },
      { key: 'closed', label: 'Closed', format: 'int' },
      { key: 'median_hours_to_close', label: 'Median time to close', format: 'hours', of: 'closed' },
      ...onTime,
      { key: 'backlog', label: 'Backlog', format: 'int' },
    ];
  }

  function dueNote(): string {
    return noDueTimes() ? ' No case of the period has a due time: there is no on-time rate.' : '';
  }

  /** This period against the last, for one service or area: a small table of the section measures. */
  function compareTable(name: string, caption: string, now: KpiRow | undefined, before: KpiRow | undefined): Table {
    const rows = SECTION_MEASURES.filter((m) => !(m === 'on_time_rate' && noDueTimes())).map((m) => {
      const h = measure(m)!;
      const den = m === 'on_time_rate' ? 'on_time_denominator' : m === 'median_hours_to_close' ? 'closed' : null;
      // A count with no row (or no such figure) is 0; a rate or median is no figure.
      const get = (r: KpiRow | undefined, k: string) => (r as unknown as Record<string, number | null> | undefined)?.[k] ?? (k === 'opened' || k === 'closed' || k === 'backlog' || k.endsWith('_denominator') ? 0 : null);
      const v = get(now, m);
      const p = get(before, m);
      const dv = den ? get(now, den) : undefined;
      const dp = den ? get(before, den) : undefined;
      const fv = formatValue(v, h.unit, dv ?? undefined, min);
      const fp = formatValue(p, h.unit, dp ?? undefined, min);
      // As the headline: a count over a previous period the data only partly covers is not compared.
      const partialCount = ov.previous.partial && h.kind === 'count' && h.cohort !== 'backlog';
      const comparable = !partialCount && fv !== 'too few cases' && fp !== 'too few cases' && v !== null && p !== null;
      const change = partialCount ? 'not compared (the data starts inside it)' : comparable ? formatChange(h.unit === 'share' ? (v! - p!) * 100 : v! - p!, h.unit, p) : fv === 'too few cases' || fp === 'too few cases' ? 'not compared (too few cases)' : formatChange(null, h.unit);
      return { measure: h.label, value: fv, previous: fp, change, name: m, raw_value: v, denominator: dv ?? null, raw_previous: p, previous_denominator: dp ?? null };
    });
    return {
      name, caption,
      columns: [{ key: 'measure', label: 'Measure', row_header: true }, { key: 'value', label: `This ${periodWord}` }, { key: 'previous', label: `${periodWord === 'week' ? 'Week' : 'Month'} before` }, { key: 'change', label: 'Change' }],
      rows,
      csv_columns: ['name', 'measure', 'raw_value', 'denominator', 'raw_previous', 'previous_denominator'].map((k) => ({ key: k, label: k.replace(/^raw_/, '') })),
    };
  }

  function lineChart(caption: string, points: LinePoint[], name: string, what: string): Block {
    const xTitle = chartBy === 'day' ? 'Day' : 'Week starting';
    return {
      kind: 'chart',
      caption,
      spec: buildLineSpec(points, { xTitle, yTitle: 'Cases opened', width: CHART_W, height: CHART_H }),
      alt: describeLine(points, { yTitle: `Cases opened ${what} per ${chartBy}`, format: (v) => v.toLocaleString('en-US') }),
      data: { name, caption, columns: [{ key: 'x', label: xTitle }, { key: 'value', label: 'Opened', format: 'int' }], rows: points as unknown as Record<string, unknown>[], csv_columns: [{ key: 'x', label: chartBy }, { key: 'value', label: 'opened' }] },
    };
  }

  /** Every period of the chart window, zero where nothing was opened (a count's missing period is 0). */
  function filled(rows: KpiRow[]): LinePoint[] {
    const at = new Map(rows.map((r) => [r[chartBy]!, r.opened]));
    const out: LinePoint[] = [];
    const DAY = 86_400_000;
    let t = Date.parse(`${chartStart}T00:00:00Z`);
    if (chartBy === 'week') t -= ((new Date(t).getUTCDay() + 6) % 7) * DAY;
    for (; t <= Date.parse(`${w.to}T00:00:00Z`); t += (chartBy === 'week' ? 7 : 1) * DAY) {
      const d = new Date(t).toISOString().slice(0, 10);
      out.push({ x: d, value: at.get(d) ?? 0 });
    }
    return out;
  }

  async function servicesSections(): Promise<Section[]> {
    const before = await computeKpis(wh, ['service'], prevWindow, spec.filter, kpiOpts);
    const { now: nowOf, before: beforeOf } = await withBacklogs('service', byService.rows, before.rows);
    // Every service with something to show this period, an old backlog included: the column adds up to the headline's backlog.
    const rows = [...nowOf.values()].filter((r) => r.opened > 0 || r.closed_in_period > 0 || r.backlog > 0).map((r) => ({ ...r }) as Record<string, unknown>).map((r) => {
      const t = targetOf.get(String(r.service));
      return { ...r, target: t?.target ?? null, target_status: targetStatus(r.on_time_rate as number | null, t?.target, r.on_time_denominator as number, min) ?? '—' } as Record<string, unknown>;
    }).sort((a, b) => Number(b.opened) - Number(a.opened) || compareLabels(String(a.service), String(b.service)));
    const table: Table = {
      name: 'services',
      caption: `Key figures by service, ${w.from} to ${w.to}`,
      columns: kpiColumns({ key: 'service', label: 'Service', row_header: true }),
      rows,
      csv_columns: [{ key: 'service', label: 'service' }, ...CSV_MEASURES.map((n) => ({ key: n, label: n })), { key: 'target', label: 'target' }, { key: 'target_status', label: 'target_status' }],
      note: `${plural(rows.length, 'service')}, busiest first.${noDueTimes() ? '' : ' "Closed on time" is of the cases with a due time that were closed or are past due.'} "Too few cases": under ${min}.${dueNote()}`,
    };
    const out: Section[] = [{ heading: 'Services', level: 2, new_page: true, blocks: [{ kind: 'table', table }] }];
    const trend = await computeKpis(wh, ['service', chartBy], trendWindow, spec.filter, kpiOpts);
    for (const [i, r] of rows.entries()) {
      const s = String(r.service);
      const points = filled(trend.rows.filter((x) => x.service === s));
      out.push({
        heading: s,
        level: 3,
        blocks: [
          { kind: 'table', table: compareTable(`service-${i + 1}`, `${s}: this ${periodWord} and the ${periodWord} before`, nowOf.get(s), beforeOf.get(s)) },
          lineChart(`${s}: cases opened per ${chartBy}, ${chartStart} to ${w.to}`, points, `service-${i + 1}-trend`, `for ${s}`),
        ],
      });
    }
    return out;
  }

  async function areasSections(): Promise<Section[]> {
    const [byArea, before, byAreaService, trend] = [
      await computeKpis(wh, ['area'], window, spec.filter, kpiOpts),
      await computeKpis(wh, ['area'], prevWindow, spec.filter, kpiOpts),
      await computeKpis(wh, ['area', 'service'], window, spec.filter, kpiOpts),
      await computeKpis(wh, ['area', chartBy], trendWindow, spec.filter, kpiOpts),
    ];
    const { now: nowOf, before: beforeOf } = await withBacklogs('area', byArea.rows, before.rows);
    const rows = [...nowOf.values()].filter((r) => r.opened > 0 || r.closed_in_period > 0 || r.backlog > 0).sort((a, b) => compareLabels(a.area!, b.area!)).map((r) => {
      const t = areaTargetOf.get(r.area!);
      return { ...r, area_label: areaLabel(r.area!, areaKind), target: t?.target ?? null, target_status: t?.status ?? '—' } as Record<string, unknown>;
    });
    const plural_ = areaKindPlural(areaKind);
    const table: Table = {
      name: 'areas',
      caption: `Key figures by ${plural_.toLowerCase().replace(/s$/, '')}, ${w.from} to ${w.to}`,
      columns: kpiColumns({ key: 'area_label', label: plural_.replace(/s$/, ''), row_header: true }),
      rows,
      csv_columns: [{ key: 'area', label: 'area' }, ...CSV_MEASURES.map((n) => ({ key: n, label: n })), { key: 'target', label: 'target' }, { key: 'target_status', label: 'target_status' }],
      note: `${plural(rows.length, 'area')} of kind "${areaKind}". An area's target is its services' targets weighted by their judged cases.${dueNote()}`,
    };
    const out: Section[] = [{ heading: plural_, level: 2, new_page: true, blocks: [{ kind: 'table', table }] }];
    for (const [i, r] of rows.entries()) {
      const a = String(r.area);
      const label = String(r.area_label);
      const services = byAreaService.rows.filter((x) => x.area === a && (x.opened > 0 || x.closed_in_period > 0)).map((x) => ({
        ...x, target: null, target_status: '—',
      }) as Record<string, unknown>).sort((x, y) => Number(y.opened) - Number(x.opened) || compareLabels(String(x.service), String(y.service)));
      const cols = kpiColumns({ key: 'service', label: 'Service', row_header: true }).filter((c) => c.key !== 'target' && c.key !== 'target_status');
      out.push({
        heading: label,
        level: 3,
        new_page: true,
        blocks: [
          { kind: 'table', table: compareTable(`area-${i + 1}`, `${label}: this ${periodWord} and the ${periodWord} before`, nowOf.get(a), beforeOf.get(a)) },
          lineChart(`${label}: cases opened per ${chartBy}, ${chartStart} to ${w.to}`, filled(trend.rows.filter((x) => x.area === a)), `area-${i + 1}-trend`, `in ${label}`),
          { kind: 'table', table: { name: `area-${i + 1}-services`, caption: `${label}: key figures by service`, columns: cols, rows: services, csv_columns: [{ key: 'service', label: 'service' }, ...CSV_MEASURES.map((n) => ({ key: n, label: n }))] } },
        ],
      });
    }
    return out;
  }

  function methodologySection(): Section {
    return {
      heading: 'How these figures are defined',
      level: 2,
      new_page: true,
      blocks: [
        {
          kind: 'paragraphs',
          paragraphs: [
            `Cases are counted in the ${periodWord} they were opened (the opened cohort), by local days in ${tz}; the backlog is every case open at the as-of time, however old. Figures are taken as of ${localStamp(asOf, tz)}: a case closed later counts as open.`,
            `Durations read in hours under 48 hours, else in days. Every percentage names its denominator ("70.9% of 955"); a rate or median over fewer than ${min} cases reads "too few cases" and is not compared.`,
            `On-time targets: each service's own, else the default of ${pct(ov.default_target)}; the overall and area targets weight each service's target by its judged cases. Findings: Mann–Kendall trend tests on weekly counts and unusual days against the usual level, with a false discovery rate of 5% across every series tested.`,
          ],
        },
        { kind: 'paragraphs', paragraphs: ['The measures, as the measure registry defines them:'] },
        { kind: 'list', items: measureDefinitions([...new Set([...ov.headline.map((h) => h.name), ...CSV_MEASURES])]) },
      ],
    };
  }
}
