// The public pages and the sections embeds reuse. Each section is whole on its own: heading,
// sentence, chart (SVG drawn here), the table behind it, and its CSV — the same cells of the same
// protected release the public API serves.
import { areaPhrase, formatHours } from '../../warehouse/analytics/format.ts';
import type { PublicRow } from '../../warehouse/analytics/public-kpis.ts';
import { MEASURES, type Measure } from '../../warehouse/queries/measures.ts';
import type { PublicPeriod } from '../../warehouse/privacy/policy.ts';
import { areaMap, lineChart } from './charts.ts';
import { count, dayLabel, figure, figureText, localDay, percent, periodLabel, type Missing } from './format.ts';
import { href, html, type SafeHtml } from './html.ts';
import type { MethodologyView, PublicView, TargetView } from './public-view.ts';

export const MAP_MEASURES = ['opened', 'median_hours_to_close', 'on_time_rate'] as const;
export type MapMeasure = (typeof MAP_MEASURES)[number];
const MAP_LABELS: Record<MapMeasure, string> = { opened: 'Requests', median_hours_to_close: 'Median time to close', on_time_rate: 'On time' };

/** The CSV of a table: the public API's, so a download holds exactly the page's cells. */
export const csvHref = (by: string, period: PublicPeriod) => href('/api/public/kpis', { by, period, format: 'csv' });

export function asOfLine(v: { release: { as_of: string; timezone: string } }): string {
  return `Data as of ${dayLabel(localDay(v.release.as_of, v.release.timezone))} (days in ${v.release.timezone} time)`;
}

function spanText(v: PublicView): string {
  const r = v.release;
  if (r.periods.length === 0) return 'There is no whole period of requests to publish yet.';
  const first = periodLabel(r.period, r.periods[0]);
  const last = periodLabel(r.period, r.periods[r.periods.length - 1]);
  const span = first === last ? first : `${first} to ${last}`;
  return `Figures for ${span} (${dayLabel(r.from!)} to ${dayLabel(r.to!)})${r.partial_period ? `; the data starts during ${periodLabel(r.period, r.partial_period)}, so that ${r.period} is partial` : ''}.`;
}

interface Column { label: string; cell: (r: PublicRow) => SafeHtml | string; numeric?: boolean }

function table(o: { caption: string; rows: PublicRow[]; head: string; rowLabel: (r: PublicRow) => SafeHtml | string; columns: Column[]; csv?: string }): SafeHtml {
  return html`<div class="table-scroll" role="region" aria-label="${o.caption}" tabindex="0">
<table>
<caption>${o.caption}</caption>
<thead><tr><th scope="col">${o.head}</th>${o.columns.map((c) => html`<th scope="col"${c.numeric ? html` class="num"` : ''}>${c.label}</th>`)}</tr></thead>
<tbody>
${o.rows.map((r) => html`<tr><th scope="row">${o.rowLabel(r)}</th>${o.columns.map((c) => html`<td${c.numeric ? html` class="num"` : ''}>${c.cell(r)}</td>`)}</tr>\n`)}
</tbody>
</table>
</div>
${o.csv ? html`<p class="download"><a href="${o.csv}" download>Download this table as CSV</a></p>` : ''}`;
}

const figures = (missing: Missing): Column[] => [
  { label: 'Requests', cell: (r) => figure(r, 'opened', missing), numeric: true },
  { label: 'Median time to close', cell: (r) => figure(r, 'median_hours_to_close', missing), numeric: true },
  { label: 'On time', cell: (r) => figure(r, 'on_time_rate', missing), numeric: true },
  { label: 'Satisfied (4 or 5 of 5)', cell: (r) => figure(r, 'csat_top2', missing), numeric: true },
];

function targetText(t: TargetView | undefined): string {
  if (!t) return '—';
  if (t.value !== null) return percent(t.value);
  if (t.range) return `${percent(t.range[0])} to ${percent(t.range[1])} (by service)`;
  return '—';
}

/** Against its target, in words and a symbol (never colour alone). */
function statusText(r: PublicRow, t: TargetView | undefined, missing: Missing): SafeHtml {
  if (r.on_time_rate === null) return figure(r, 'on_time_rate', missing);
  if (!t || t.value === null) return html`<span class="flag">see services</span>`;
  // Rates are published to a whole percentage; judge the published figure, as a reader would.
  return r.on_time_rate >= Math.round(t.value * 100) / 100
    ? html`<span class="meets"><span aria-hidden="true">✔ </span>meets target</span>`
    : html`<span class="below"><span aria-hidden="true">✖ </span>below target</span>`;
}

function change(now: PublicRow | undefined, before: PublicRow | undefined, period: PublicPeriod): string {
  if (!now || !before || now.opened === null || before.opened === null || before.opened === 0) return '';
  const pct = Math.round(((now.opened - before.opened) / before.opened) * 100);
  return pct === 0 ? `, about the same as the ${period} before` : `, ${pct > 0 ? 'up' : 'down'} ${Math.abs(pct)}% from the ${period} before`;
}

export function headlineSection(v: PublicView): SafeHtml {
  const r = v.release;
  const missing = v.missing;
  const t = v.total;
  const last = v.totalByPeriod[v.totalByPeriod.length - 1];
  const before = v.totalByPeriod[v.totalByPeriod.length - 2];
  const card = (label: string, value: SafeHtml, note: string) => html`<div class="card"><h3>${label}</h3><p class="figure">${value}</p><p class="note">${note}</p></div>`;
  return html`<section aria-labelledby="headline-h">
<h2 id="headline-h">At a glance</h2>
<p>${spanText(v)}</p>
<div class="cards">
${card('Requests', figure(t, 'opened', missing), `made in ${r.periods.length} ${r.period}${r.periods.length === 1 ? '' : 's'}`)}
${card('Median time to close', figure(t, 'median_hours_to_close', missing), 'half of requests were closed within this time')}
${card('On time', figure(t, 'on_time_rate', missing), 'closed by their due time, of those due')}
${card('Satisfied', figure(t, 'csat_top2', missing), 'survey answers of 4 or 5 out of 5')}
</div>
${last && last.opened !== null ? html`<p>In ${periodLabel(r.period, last[r.period]!)}: ${count(last.opened)} requests${change(last, before, r.period)}.</p>` : ''}
</section>`;
}

export async function trendSection(v: PublicView): Promise<SafeHtml> {
  const r = v.release;
  const p = r.period;
  const rows = v.totalByPeriod;
  const published = rows.filter((x) => x.opened !== null);
  const chartHtml = published.length >= 2
    ? await lineChart(rows.map((x) => ({ x: x[p]!, value: x.opened })), {
        yTitle: 'Requests',
        xTitle: p === 'month' ? 'Month' : 'Week starting',
        sentence: `Requests each ${p}, from ${count(Math.min(...published.map((x) => x.opened!)))} to ${count(Math.max(...published.map((x) => x.opened!)))} over ${rows.length} ${p}s${r.partial_period ? ` (the first is partial)` : ''}.`,
      })
    : html`<p>One ${p} of data: no trend to draw yet.</p>`;
  return html`<section aria-labelledby="trend-h">
<h2 id="trend-h">Requests over time</h2>
${v.findings.length ? html`<ul class="findings">${v.findings.map((f) => html`<li>${f.sentence}</li>`)}</ul>` : html`<p>No significant rise or fall in requests (Mann–Kendall test, whole ${p}s with every count published).</p>`}
${chartHtml}
${table({ caption: `Requests and service, by ${p}`, head: p === 'month' ? 'Month' : 'Week', rows, rowLabel: (x) => periodLabel(p, x[p]!) + (x[p] === r.partial_period ? ' (partial)' : ''), columns: figures(v.missing), csv: csvHref(p, p) })}
</section>`;
}

export function servicesSection(v: PublicView): SafeHtml {
  const p = v.release.period;
  const missing = v.missing;
  const target = (t: TargetView | undefined) => (missing.on_time_rate ? '—' : targetText(t));
  const onTime: Column[] = [
    { label: 'Requests', cell: (r) => figure(r, 'opened', missing), numeric: true },
    { label: 'Median time to close', cell: (r) => figure(r, 'median_hours_to_close', missing), numeric: true },
    { label: 'On time', cell: (r) => figure(r, 'on_time_rate', missing), numeric: true },
  ];
  return html`<section aria-labelledby="services-h">
<h2 id="services-h">On time against target, by service</h2>
<p>Each service has a target share of requests closed by their due time. A group's target is shown when its services share one.</p>
${table({
  caption: 'By service group, whole period',
  head: 'Service group',
  rows: v.byGroup,
  rowLabel: (r) => r.service_group!,
  columns: [...onTime, { label: 'Target', cell: (r) => target(v.targetOfGroup.get(r.service_group!)), numeric: true }, { label: 'Against target', cell: (r) => statusText(r, v.targetOfGroup.get(r.service_group!), missing) }, { label: 'Satisfied', cell: (r) => figure(r, 'csat_top2', missing), numeric: true }],
  csv: csvHref(`service_group,${p}`, p),
})}
${table({
  caption: 'By service, whole period',
  head: 'Service',
  rows: v.byService,
  rowLabel: (r) => r.service!,
  columns: [{ label: 'Group', cell: (r) => r.service_group! }, ...onTime, { label: 'Target', cell: (r) => target(v.targetOfService.get(r.service!)), numeric: true }, { label: 'Against target', cell: (r) => statusText(r, v.targetOfService.get(r.service!), missing) }],
  csv: csvHref(`service,${p}`, p),
})}
</section>`;
}

/** An area as a heading or table cell names it: "Council district 9", "District 6". */
const areaLabel = (v: PublicView, a: string) => areaPhrase(a, v.release.area_kind).replace(/^./, (c) => c.toUpperCase());
const kindWords = (kind: string, n = 2) => (kind === 'source' ? 'areas' : `${kind.replaceAll('_', ' ')}${n === 1 ? '' : 's'}`);

/** The equity picture in plain words, from published figures only. */
export function equitySentences(v: PublicView): string[] {
  const named = v.byArea.filter((r) => v.areaNames.includes(r.area!));
  const out: string[] = [];
  const spread = (m: 'median_hours_to_close' | 'on_time_rate', what: string, lowIsGood: boolean) => {
    const withFigure = named.filter((r) => r[m] !== null).sort((a, b) => a[m]! - b[m]!);
    if (withFigure.length < 2) return;
    const [lo, hi] = [withFigure[0], withFigure[withFigure.length - 1]];
    const [best, worst] = lowIsGood ? [lo, hi] : [hi, lo];
    if (lo[m] === hi[m]) {
      out.push(`${what} was the same, ${figureText(lo, m)}, in all ${withFigure.length} ${kindWords(v.release.area_kind)} with a published figure.`);
      return;
    }
    const inSentence = (a: string) => areaPhrase(a, v.release.area_kind);
    out.push(`${what} ranged from ${figureText(best, m)} in ${inSentence(best.area!)} to ${figureText(worst, m)} in ${inSentence(worst.area!)}, across ${withFigure.length} ${kindWords(v.release.area_kind)} with a published figure.`);
  };
  spread('median_hours_to_close', 'The median time to close', true);
  spread('on_time_rate', 'The share closed on time', false);
  const withheld = named.filter((r) => r.median_hours_to_close === null && r.on_time_rate === null).length;
  if (withheld) out.push(`${withheld} ${kindWords(v.release.area_kind, withheld)} had too few requests, or figures withheld, to compare.`);
  if (out.length === 0) out.push(`No two ${kindWords(v.release.area_kind)} have published figures to compare yet.`);
  return out;
}

const MAP_FORMAT: Record<MapMeasure, (x: number) => string> = { opened: count, median_hours_to_close: formatHours, on_time_rate: percent };

export async function areasSection(v: PublicView, mapMeasure: MapMeasure, opts: { links?: boolean; mapLinks?: string } = {}): Promise<SafeHtml> {
  const p = v.release.period;
  const kind = v.release.area_kind;
  const named = v.byArea.filter((r) => v.areaNames.includes(r.area!));
  const values = named.map((r) => ({ name: r.area!, value: r[mapMeasure] }));
  const shown = values.filter((x) => x.value !== null).length;
  const map = await areaMap(v.polygons, values, {
    legendTitle: MAP_LABELS[mapMeasure],
    format: MAP_FORMAT[mapMeasure],
    sentence: `Map of ${v.polygons.length} ${kindWords(kind)} shaded by ${MAP_LABELS[mapMeasure].toLowerCase()} over the whole period; ${shown} have a published figure. The table below gives every figure.`,
  });
  const links = opts.links !== false;
  return html`<section aria-labelledby="areas-h">
<h2 id="areas-h">By ${kindWords(kind, 1)}</h2>
<h3>Is service equal across the city?</h3>
${equitySentences(v).map((s) => html`<p>${s}</p>`)}
${map
  ? html`${opts.mapLinks !== undefined ? html`<p class="map-measures">Shade the map by: ${MAP_MEASURES.map((m, i) => html`${i ? ' · ' : ''}<a href="${href(opts.mapLinks!, { map: m === 'opened' ? null : m })}#areas-h"${m === mapMeasure ? html` aria-current="true"` : ''}>${MAP_LABELS[m].toLowerCase()}</a>`)}</p>` : ''}${map}`
  : html`<p>No ${kindWords(kind, 1)} outlines are loaded, so there is no map; the table gives every ${kindWords(kind, 1)}.</p>`}
${table({
  caption: `By ${kindWords(kind, 1)}, whole period`,
  head: kind === 'source' ? 'Area' : kindWords(kind, 1).replace(/^./, (c) => c.toUpperCase()),
  rows: v.byArea,
  rowLabel: (r) => (links && v.areaNames.includes(r.area!) ? html`<a href="${href('/public/area', { area: r.area })}">${areaLabel(v, r.area!)}</a>` : areaLabel(v, r.area!)),
  columns: figures(v.missing),
  csv: csvHref(`area,${p}`, p),
})}
</section>`;
}

function footnotesSection(v: { release: PublicView['release'] }): SafeHtml {
  const f = v.release.footnotes;
  return html`<section aria-labelledby="notes-h">
<h2 id="notes-h">Reading these figures</h2>
<dl class="notes">
<dt>suppressed</dt><dd>${f.suppressed}</dd>
<dt>too few cases</dt><dd>${f.too_few_cases}</dd>
<dt>not reached</dt><dd>${f.not_reached}</dd>
<dt>not available</dt><dd>${f.not_available}</dd>
</dl>
<p>How every figure is defined and protected: <a href="/public/methodology">methodology</a>.</p>
</section>`;
}

export async function homeBody(v: PublicView, mapMeasure: MapMeasure): Promise<SafeHtml> {
  return html`<h1>${v.jurisdiction}: how 311 requests are answered</h1>
<p class="lede">${asOfLine(v)}. Requests residents made to the city's 311 service, how quickly they were closed and whether on time.</p>
${headlineSection(v)}
${await trendSection(v)}
${servicesSection(v)}
${await areasSection(v, mapMeasure, { mapLinks: '/public' })}
${footnotesSection(v)}`;
}

export async function areaBody(v: PublicView, area: string): Promise<SafeHtml> {
  const p = v.release.period;
  const name = areaLabel(v, area);
  const total = v.byArea.find((r) => r.area === area)!;
  const rows = v.areaByPeriod.filter((r) => r.area === area);
  const published = rows.filter((r) => r.opened !== null);
  const chartHtml = published.length >= 2
    ? await lineChart(rows.map((x) => ({ x: x[p]!, value: x.opened })), {
        yTitle: 'Requests',
        xTitle: p === 'month' ? 'Month' : 'Week starting',
        sentence: `Requests each ${p} in ${name}, from ${count(Math.min(...published.map((x) => x.opened!)))} to ${count(Math.max(...published.map((x) => x.opened!)))}${published.length < rows.length ? `; ${rows.length - published.length} ${p}s withheld` : ''}.`,
      })
    : html`<p>Fewer than two ${p}s with a published count: no trend to draw.</p>`;
  return html`<p><a href="/public#areas-h">All ${kindWords(v.release.area_kind)}</a></p>
<h1>${name}</h1>
<p class="lede">${asOfLine(v)}. ${spanText(v)}</p>
<section aria-labelledby="compare-h">
<h2 id="compare-h">${name} and the whole city</h2>
${table({
  caption: `${name} beside the whole city, whole period`,
  head: 'Where',
  rows: [total, ...(v.total ? [v.total] : [])],
  rowLabel: (r) => (r === total ? name : 'Whole city'),
  columns: figures(v.missing),
  csv: csvHref('area', p),
})}
</section>
<section aria-labelledby="area-trend-h">
<h2 id="area-trend-h">${name} by ${p}</h2>
${chartHtml}
${table({ caption: `${name}, by ${p}`, head: p === 'month' ? 'Month' : 'Week', rows, rowLabel: (x) => periodLabel(p, x[p]!) + (x[p] === v.release.partial_period ? ' (partial)' : ''), columns: figures(v.missing), csv: csvHref(`area,${p}`, p) })}
</section>
${footnotesSection(v)}`;
}

const unitWords: Record<string, string> = { cases: 'requests (count)', answers: 'survey answers (count)', contacts: 'contacts (count)', points: 'percentage points', share: 'share (percentage)', hours: 'hours (shown as days from 48 hours)', score: 'score', nps: 'net promoter score', 'contacts per case': 'contacts per request' };

export function methodologyBody(m: MethodologyView): SafeHtml {
  const r = m.release;
  const published = new Set<string>(r.measures.map((x) => x.name));
  const s = m.sources;
  return html`<h1>Methodology</h1>
<p class="lede">${asOfLine(m)}. How every figure on these pages is defined, where the data comes from, what is known to be wrong with it, and how the figures are protected so that none identifies a person.</p>
<section aria-labelledby="published-h">
<h2 id="published-h">What is published</h2>
<p>Requests are counted by the local day (${r.timezone}) they were made, in whole ${r.period}s — the last ${r.periods.length} up to the newest request — by service group, service and ${kindWords(r.area_kind, 1)}. Never by service and ${kindWords(r.area_kind, 1)} together, and never finer than a day.</p>
<dl class="measures">
${r.measures.map((x) => html`<dt>${x.label}</dt><dd>${x.definition}${'min_denominator' in x && x.min_denominator ? ` Published over at least ${x.min_denominator} cases, rounded to ${x.rounding}.` : ''}</dd>`)}
</dl>
</section>
<section aria-labelledby="rules-h">
<h2 id="rules-h">Disclosure control</h2>
<ol>${r.disclosure.rules.map((x) => html`<li>${x}</li>`)}</ol>
<p>${r.disclosure.suppressed_cells === 0 ? `No figure of the current release had to be withheld (${count(r.disclosure.cells)} cells).` : `${count(r.disclosure.suppressed_cells)} of ${count(r.disclosure.cells)} cells of the current release are withheld.`} Every withheld count can still be any of at least ${r.disclosure.k} values given every table published here; the service checks this before it publishes and publishes nothing that fails it. The Open311 API below lists requests one by one (without address, exact place or sensitive services), so the counts of the services it lists can be counted from it: the tables' suppression protects against reading small counts off the tables, and what protects people is what Open311 leaves out.</p>
<p>Locations: requests are published by ${kindWords(r.area_kind, 1)} only; the Open311 API gives each request's place as the centre of a hexagon about 460 metres across (H3 resolution 8), never its address or point. ${r.disclosure.sensitive_services.length ? `Requests for ${r.disclosure.sensitive_services.join(', ')} are not published at all: every figure on these pages, and the Open311 API, counts the other services only.` : 'No service is currently marked as sensitive.'}</p>
</section>
<section aria-labelledby="all-measures-h">
<h2 id="all-measures-h">Every measure the city's staff see</h2>
<p>Staff dashboards use the same definitions; the public pages publish the ones marked “public”.</p>
<div class="table-scroll" role="region" aria-label="Every measure" tabindex="0">
<table>
<caption>Measures and their definitions</caption>
<thead><tr><th scope="col">Measure</th><th scope="col">Unit</th><th scope="col">Definition</th><th scope="col">Public</th></tr></thead>
<tbody>
${(MEASURES as readonly Measure[]).map((x) => html`<tr><th scope="row">${x.label}</th><td>${unitWords[x.unit] ?? x.unit}</td><td>${x.definition}</td><td>${published.has(x.name) ? 'public' : 'staff only'}</td></tr>\n`)}
</tbody>
</table>
</div>
</section>
<section aria-labelledby="sources-h">
<h2 id="sources-h">Where the data comes from</h2>
${s.sources.length === 0 ? html`<p>No data has been loaded yet.</p>` : html`<p>Loaded from these sources (row counts are kept for the city's staff: they cover every service, including any not published here):</p>
<ul>${s.sources.map((x) => html`<li>${x.source}: ${x.kind.replaceAll('_', ' ')}${x.profile ? ` (format ${x.profile})` : ''}, ${x.batches === 1 ? 'one load' : `${count(x.batches)} loads`}, the last on ${x.last_loaded ? dayLabel(x.last_loaded) : '—'}</li>`)}</ul>`}
</section>
<section aria-labelledby="quality-h">
<h2 id="quality-h">Known quality issues</h2>
${s.rejected_by_field.length === 0 && s.flags.length === 0 ? html`<p>No row was refused and no loaded request carries a data-quality flag.</p>` : ''}
${s.rejected_by_field.length ? html`<p>Some rows could not be loaded; each is kept with its reason for the city's staff. The fields that were wrong: ${s.rejected_by_field.map((x) => x.what).join(', ')}.</p>` : ''}
${s.flags.length ? html`<p>Some loaded requests carry a data-quality flag and are handled as the definitions say (for example a close before the opening is left out of times to close): ${s.flags.map((x) => x.what.replaceAll('_', ' ')).join(', ')}.</p>` : ''}
<p>Requests without a due time (no target in the source and no service-level agreement) are left out of on-time rates and counted apart.</p>
</section>`;
}

export function openDataBody(v: { release: MethodologyView['release']; jurisdiction: string }): SafeHtml {
  const p = v.release.period;
  const downloads: [string, string][] = [
    [`All requests by ${p}`, csvHref(p, p)],
    [`By service group and ${p}`, csvHref(`service_group,${p}`, p)],
    [`By service and ${p}`, csvHref(`service,${p}`, p)],
    [`By ${kindWords(v.release.area_kind, 1)} and ${p}`, csvHref(`area,${p}`, p)],
    [`Requests by week, by service group (26 weeks)`, csvHref('service_group,week', 'week')],
  ];
  return html`<h1>Open data</h1>
<p class="lede">${asOfLine(v)}. Every table on these pages as CSV (UTF-8, a header row, one file per table), with the same withheld cells: a withheld figure is empty and its <code>notes</code> column says why.</p>
<section aria-labelledby="csv-h">
<h2 id="csv-h">Tables</h2>
<ul>${downloads.map(([label, u]) => html`<li><a href="${u}" download>${label}</a> (CSV)</li>`)}</ul>
<p>The same tables as JSON: <code>/api/public/kpis?by=service_group,${p}</code>; requests over time with trend tests: <code>/api/public/trends?by=service_group&amp;period=${p}</code>.</p>
</section>
<section aria-labelledby="open311-h">
<h2 id="open311-h">Open311 GeoReport v2</h2>
<p>Civic apps can read the city's requests one by one through the Open311 GeoReport v2 API: <a href="/open311/v2/services.json">services.json</a> and <code>/open311/v2/requests.json</code> (also <code>.xml</code>), with <code>service_code</code>, <code>start_date</code>, <code>end_date</code> (at most 90 days apart), <code>status</code>, <code>page</code> and <code>page_size</code>. Addresses are never given, each place is generalised to the centre of a hexagon about 460 metres across, and sensitive services are left out.</p>
</section>`;
}

export function notFoundBody(what: string, v: PublicView | null): SafeHtml {
  return html`<h1>Not found</h1>
<p>${what}</p>
${v && v.areaNames.length ? html`<p>The ${kindWords(v.release.area_kind)} with pages:</p><ul class="columns">${v.areaNames.map((a) => html`<li><a href="${href('/public/area', { area: a })}">${areaLabel(v, a)}</a></li>`)}</ul>` : ''}
<p><a href="/public">Back to the overview</a></p>`;
}
