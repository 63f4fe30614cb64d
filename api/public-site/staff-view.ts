// Staff views a city may embed with a signed token (api/embed-token.ts): the managers' overview
// figures for the token's window, filters and agency scope, read by the dashboard's own rules
// (dashboard/src/lib/format.ts: a percentage with its denominator, "too few cases" under the
// minimum, a change in the measure's unit). Not disclosure-controlled: the token is the
// permission, issued by a manager for a page that manager chose.
import type { Overview } from '../../warehouse/analytics/overview.ts';
import { areaPhrase } from '../../warehouse/analytics/format.ts';
import { formatChange, formatValue, int, pctOf } from '../../dashboard/src/lib/format.ts';
import { dayLabel, localDay } from './format.ts';
import { html, type SafeHtml } from './html.ts';

export const STAFF_EMBED_VIEWS = ['staff-overview'] as const;
export type StaffEmbedView = (typeof STAFF_EMBED_VIEWS)[number];

const SHOWN = ['opened', 'median_hours_to_close', 'on_time_rate', 'backlog', 'backlog_past_due_share', 'csat_top2'];

function filterWords(o: Overview): string {
  const f = o.filter as Record<string, unknown>;
  const parts = Object.entries(f).filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => `${k.replaceAll('_', ' ')} ${k === 'area' ? areaPhrase(String(v), o.area_kind) : String(v)}`);
  return parts.length ? `; ${parts.join(', ')}` : '';
}

export function staffOverviewBody(o: Overview, scope: string[] | null): SafeHtml {
  const cards = o.headline.filter((h) => SHOWN.includes(h.name));
  const min = o.min_denominator;
  return html`<h1>Service performance, ${dayLabel(o.from)} to ${dayLabel(o.to)}</h1>
<p class="lede">Staff figures${filterWords(o)}${scope ? `; agencies ${scope.join(', ')}` : ''}. Compared with ${dayLabel(o.previous.from)} to ${dayLabel(o.previous.to)}. Data as of ${dayLabel(localDay(o.as_of, o.timezone))} (${o.timezone}).</p>
<div class="cards">
${cards.map((h) => html`<div class="card"><h2>${h.label}</h2><p class="figure">${formatValue(h.value, h.unit, h.denominator, min)}</p><p class="note">${h.change === null && h.previous_denominator != null && h.previous_denominator < min ? "too few cases before to compare" : formatChange(h.change, h.unit, h.previous)}${h.name === 'on_time_rate' && h.target != null ? `; target ${(h.target * 100).toFixed(1)}%${h.status ? ` — ${h.status}` : ''}` : ''}</p></div>`)}
</div>
<div class="table-scroll" role="region" aria-label="Services furthest below target" tabindex="0">
<table>
<caption>Services, furthest below their on-time target first</caption>
<thead><tr><th scope="col">Service</th><th scope="col" class="num">Opened</th><th scope="col" class="num">On time</th><th scope="col" class="num">Target</th><th scope="col">Against target</th><th scope="col" class="num">Backlog</th></tr></thead>
<tbody>
${o.worst_services.map((s) => html`<tr><th scope="row">${s.service}</th><td class="num">${int(s.opened)}</td><td class="num">${pctOf(s.on_time_rate, s.on_time_denominator, min)}</td><td class="num">${s.target === null ? '—' : `${(s.target * 100).toFixed(1)}%`}</td><td>${s.status === 'meets target' ? html`<span class="meets"><span aria-hidden="true">✔ </span>meets target</span>` : s.status === 'below target' ? html`<span class="below"><span aria-hidden="true">✖ </span>below target</span>` : html`<span class="flag">${s.status ?? 'no data'}</span>`}</td><td class="num">${int(s.backlog)}</td></tr>\n`)}
</tbody>
</table>
</div>`;
}
