// The public crawler's machinery (test/integration/public-crawler.test.ts): it visits what an
// anonymous reader can reach — pages, their downloads, the public API and Open311 — and reads every
// published count back out of the HTML, CSV and JSON it got, labelled as the reader sees it, so the
// test can hold them against the protected release. Nothing here reads the product's own page
// builders: tables are parsed from the HTML, as a scraper would.
import type { FastifyInstance } from 'fastify';
import { XMLParser } from 'fast-xml-parser';
import type { PublicPeriod } from '../../warehouse/privacy/policy.ts';

export interface Fetched {
  url: string;
  status: number;
  type: string;
  body: string;
}

/** What a public page may link to: the public site, its embeds, the public API, Open311, and the API's documentation (not followed). */
export const PUBLIC_LINK_PREFIXES = ['/public', '/embed/', '/api/public/', '/open311/'] as const;
const NOT_FOLLOWED = ['/docs'];

const isPublicPath = (path: string) => PUBLIC_LINK_PREFIXES.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p || path.startsWith(`${p}/`)));

export interface Crawl {
  /** Every URL fetched, in the order fetched. */
  fetched: Map<string, Fetched>;
  /** Every link found in a page: [page, target as written]. */
  links: [string, string][];
  /** Links to anything that is not a public page, download or route (a staff page). */
  staffLinks: [string, string][];
  /** Links that leave this site. */
  external: [string, string][];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", apos: "'", nbsp: ' ' };
export const decode = (s: string) => s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (m, e: string) => {
  if (ENTITIES[e] !== undefined) return ENTITIES[e];
  if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
  if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
  return m;
});
/** The text of an HTML fragment: tags gone, entities decoded, spaces collapsed. */
export const text = (s: string) => decode(s.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();

/** Every href and src of a page (xlink:href too), entities decoded. */
export function linksOf(html: string): string[] {
  return [...html.matchAll(/\b(?:href|src)\s*=\s*"([^"]*)"/gi)].map((m) => decode(m[1]));
}

/**
 * Starts at the seeds and follows every same-site link of every HTML page, anonymously. Links to
 * /docs are recorded, not followed; links to anything outside the public prefixes are recorded as
 * staff links and not followed either (the test fails on them).
 */
export async function crawlSite(fastify: FastifyInstance, seeds: readonly string[]): Promise<Crawl> {
  const out: Crawl = { fetched: new Map(), links: [], staffLinks: [], external: [] };
  const queue = [...seeds];
  while (queue.length > 0) {
    const url = queue.shift()!;
    if (out.fetched.has(url)) continue;
    const f = await get(fastify, url);
    out.fetched.set(url, f);
    if (!f.type.startsWith('text/html')) continue;
    for (const link of linksOf(f.body)) {
      out.links.push([url, link]);
      const u = new URL(link, `http://public.test${url}`);
      if (u.origin !== 'http://public.test') {
        out.external.push([url, link]);
        continue;
      }
      const target = u.pathname + u.search; // the fragment is the same page
      if (NOT_FOLLOWED.some((p) => u.pathname === p || u.pathname.startsWith(`${p}/`))) continue;
      if (!isPublicPath(u.pathname)) {
        out.staffLinks.push([url, link]);
        continue;
      }
      if (!out.fetched.has(target)) queue.push(target);
    }
  }
  return out;
}

/** One anonymous GET: no token, no cookie. */
export async function get(fastify: FastifyInstance, url: string): Promise<Fetched> {
  const r = await fastify.inject({ method: 'GET', url });
  return { url, status: r.statusCode, type: String(r.headers['content-type'] ?? ''), body: r.body };
}

// ---------------------------------------------------------------------------------------------
// Published counts, as a reader finds them.

/** One published count (or a withheld one: value null), labelled as the reader sees it. */
export interface Seen {
  url: string;
  /** Where in the response (a table's caption, a CSV line, a JSON path). */
  where: string;
  /** The release it is a cell of. */
  period: PublicPeriod;
  group?: string;
  service?: string;
  area?: string;
  /** The period's first day; null: the whole release. */
  time: string | null;
  value: number | null;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const pad = (n: number) => String(n).padStart(2, '0');

/** "November 2025" → 2025-11-01; "week of 3 November 2025" → 2025-11-03 (a " (partial)" suffix ignored). */
export function periodKey(label: string): { period: PublicPeriod; key: string } | null {
  const l = label.replace(/\s*\(partial\)$/, '');
  let m = /^week of (\d{1,2}) ([A-Z][a-z]+) (\d{4})$/.exec(l);
  if (m && MONTHS.includes(m[2])) return { period: 'week', key: `${m[3]}-${pad(MONTHS.indexOf(m[2]) + 1)}-${pad(Number(m[1]))}` };
  m = /^([A-Z][a-z]+) (\d{4})$/.exec(l);
  if (m && MONTHS.includes(m[1])) return { period: 'month', key: `${m[2]}-${pad(MONTHS.indexOf(m[1]) + 1)}-01` };
  return null;
}

export interface HtmlTable {
  caption: string;
  headers: string[];
  /** Per row: each cell's inner HTML (the row's label first). */
  rows: string[][];
  /** The CSV link beside the table. */
  csv: string | null;
}

export function tablesOf(html: string): HtmlTable[] {
  const out: HtmlTable[] = [];
  for (const m of html.matchAll(/<table>([\s\S]*?)<\/table>\s*(?:<\/div>\s*)?(?:<p class="download"><a href="([^"]*)")?/g)) {
    const inner = m[1];
    const caption = text(/<caption>([\s\S]*?)<\/caption>/.exec(inner)?.[1] ?? '');
    const thead = /<thead>([\s\S]*?)<\/thead>/.exec(inner)?.[1] ?? '';
    const headers = [...thead.matchAll(/<th[^>]*>([\s\S]*?)<\/th>/g)].map((h) => text(h[1]));
    const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(inner)?.[1] ?? '';
    const rows = [...tbody.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1].matchAll(/<(th|td)\b[^>]*>([\s\S]*?)<\/\1>/g)].map((c) => c[2]));
    out.push({ caption, headers, rows, csv: m[2] ? decode(m[2]) : null });
  }
  return out;
}

const periodOfUrl = (url: string, fallback: PublicPeriod): PublicPeriod => {
  const q = new URL(url, 'http://x').searchParams;
  const by = (q.get('by') ?? '').split(',');
  if (by.includes('week')) return 'week';
  if (by.includes('month')) return 'month';
  const p = q.get('period');
  return p === 'week' || p === 'month' ? p : fallback;
};

/** A count as a page writes it: "2,372" → 2372; "suppressed" → null; anything else is not a count. */
export function countCell(cellHtml: string): { value: number | null } | { bad: string } {
  const t = text(cellHtml);
  if (/^\d{1,3}(,\d{3})*$/.test(t)) return { value: Number(t.replaceAll(',', '')) };
  if (t === 'suppressed') return { value: null };
  return { bad: t };
}

export interface HtmlCounts {
  seen: Seen[];
  /** Problems a reader would see: a count that is neither a number nor "suppressed", a table the parser cannot place, a withheld row with a figure beside it. */
  problems: string[];
  /** Tables with a Requests column, by caption. */
  tables: string[];
}

/**
 * The counts of a public page: every table's "Requests" column, the headline card and the
 * "In <period>: N requests" sentence. `areaOf` turns an area's label back into its name (for
 * tables without links); the page's own area comes from its URL.
 */
export function htmlCounts(url: string, html: string, areaOf: (label: string) => string | undefined): HtmlCounts {
  const out: HtmlCounts = { seen: [], problems: [], tables: [] };
  const tables = tablesOf(html);
  // The release of the page's figures: the headline says "made in 12 months", and the tables'
  // CSV links name their period. A figure without either (the comparison of an area page) is of
  // the page's one release; a page of figures from two releases would be read wrong, so it is a problem.
  const note = /made in \d+ (week|month)s?/.exec(html);
  const periods = new Set(tables.filter((t) => t.csv && t.headers.includes('Requests')).map((t) => periodOfUrl(t.csv!, 'month')));
  if (note) periods.add(note[1] as PublicPeriod);
  if (periods.size > 1) out.problems.push(`${url}: figures of both releases on one page (${[...periods].join(', ')})`);
  const pagePeriod = [...periods][0];
  const pageArea = new URL(url, 'http://x').pathname === '/public/area' ? new URL(url, 'http://x').searchParams.get('area') ?? undefined : undefined;

  for (const t of tables) {
    const col = t.headers.indexOf('Requests');
    if (col < 0) continue;
    out.tables.push(t.caption);
    const period = t.csv ? periodOfUrl(t.csv, 'month') : pagePeriod;
    if (!period) {
      out.problems.push(`${url}: table "${t.caption}" has no release to read it against`);
      continue;
    }
    const head = t.headers[0];
    const groupCol = t.headers.indexOf('Group');
    for (const row of t.rows) {
      const label = text(row[0]);
      const where = `table "${t.caption}", row "${label}"`;
      const c = countCell(row[col]);
      if ('bad' in c) {
        out.problems.push(`${url}: ${where}: the Requests cell reads "${c.bad}" (a count or "suppressed" expected)`);
        continue;
      }
      // A withheld count withholds its row: a rate or a median beside it would bound it.
      if (c.value === null) {
        t.headers.forEach((h, i) => {
          if (i === 0 || h === 'Group' || h === 'Target') return;
          if (text(row[i]) !== 'suppressed') out.problems.push(`${url}: ${where}: the count is withheld but "${h}" reads "${text(row[i])}"`);
        });
      }
      const s: Seen = { url, where, period, time: null, value: c.value };
      if (head === 'Month' || head === 'Week') {
        const p = periodKey(label);
        if (!p || p.period !== period) {
          out.problems.push(`${url}: ${where}: not a ${period} label`);
          continue;
        }
        s.time = p.key;
        // The city's own trend, or an area's (its page's area).
        if (!t.caption.startsWith('Requests and service')) {
          if (!pageArea) {
            out.problems.push(`${url}: ${where}: a table by period that is neither the city's nor an area page's`);
            continue;
          }
          s.area = pageArea;
        }
      } else if (head === 'Service group') s.group = label;
      else if (head === 'Service') {
        if (groupCol < 0) {
          out.problems.push(`${url}: ${where}: a service without its group`);
          continue;
        }
        s.group = text(row[groupCol]);
        s.service = label;
      } else if (head === 'Where') {
        if (label !== 'Whole city') {
          if (!pageArea) {
            out.problems.push(`${url}: ${where}: a comparison outside an area page`);
            continue;
          }
          s.area = pageArea;
        }
      } else {
        // A table by area: the name from the row's link, else from its label.
        const link = /href="([^"]*)"/.exec(row[0]);
        const name = link ? new URL(decode(link[1]), 'http://x').searchParams.get('area') ?? undefined : areaOf(label);
        if (name === undefined) {
          out.problems.push(`${url}: ${where}: no area is labelled so`);
          continue;
        }
        s.area = name;
      }
      out.seen.push(s);
    }
  }

  // The headline: the card and the latest period's sentence.
  const card = /<div class="card"><h3>Requests<\/h3><p class="figure">([\s\S]*?)<\/p>/.exec(html);
  if (card) {
    const c = countCell(card[1]);
    if ('bad' in c) out.problems.push(`${url}: the Requests card reads "${c.bad}"`);
    else if (pagePeriod) out.seen.push({ url, where: 'Requests card', period: pagePeriod, time: null, value: c.value });
  }
  for (const m of text(html).matchAll(/\bIn ((?:week of )?\d{0,2} ?[A-Z][a-z]+ \d{4}): ([\d,]+) requests/g)) {
    const p = periodKey(m[1].trim());
    if (!p) out.problems.push(`${url}: "${m[0]}": not a period`);
    else out.seen.push({ url, where: `sentence "${m[0]}"`, period: p.period, time: p.key, value: Number(m[2].replaceAll(',', '')) });
  }
  return out;
}

/** RFC 4180, as reports/render-csv.ts writes it; a formula-looking label keeps the writer's leading quote, which is taken off here. */
export function parseCsv(body: string): Record<string, string>[] {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (quoted) {
      if (ch === '"' && body[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && body[i + 1] === '\n') {
      // the line ends at \n
    } else if (ch === '\n') {
      row.push(cell);
      records.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    records.push(row);
  }
  const [head, ...rest] = records;
  const unformula = (s: string) => (/^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s);
  return rest.map((r) => Object.fromEntries(head.map((h, i) => [h, unformula(r[i] ?? '')])));
}

export interface DataCounts {
  seen: Seen[];
  problems: string[];
}

const labels = (r: Record<string, unknown>) => {
  const s: Pick<Seen, 'group' | 'service' | 'area'> = {};
  if (r.service_group !== undefined && r.service_group !== null && r.service_group !== '') s.group = String(r.service_group);
  if (r.service !== undefined && r.service !== null && r.service !== '') s.service = String(r.service);
  if (r.area !== undefined && r.area !== null && r.area !== '') s.area = String(r.area);
  return s;
};

/** The counts of a /api/public/kpis or /api/public/trends answer, JSON or CSV. */
export function apiCounts(f: Fetched): DataCounts {
  const out: DataCounts = { seen: [], problems: [] };
  const path = new URL(f.url, 'http://x').pathname;
  const trends = path === '/api/public/trends';
  const period = periodOfUrl(f.url, trends ? 'week' : 'month');
  const add = (where: string, r: Record<string, unknown>, time: string | null, value: number | null) => {
    const l = labels(r);
    if (l.area !== undefined && (l.service !== undefined || l.group !== undefined)) out.problems.push(`${f.url}: ${where}: service crossed with area`);
    out.seen.push({ url: f.url, where, period, ...l, time, value });
  };
  if (f.type.startsWith('text/csv')) {
    parseCsv(f.body).forEach((r, i) => {
      const where = `CSV line ${i + 2}`;
      const withheld = r.suppressed === 'true';
      if (r.suppressed !== 'true' && r.suppressed !== 'false') out.problems.push(`${f.url}: ${where}: suppressed is "${r.suppressed}"`);
      if (withheld && r.opened !== '') out.problems.push(`${f.url}: ${where}: withheld but opened reads "${r.opened}"`);
      if (!withheld && !/^\d+$/.test(r.opened)) out.problems.push(`${f.url}: ${where}: opened reads "${r.opened}"`);
      if (withheld && !trends) {
        for (const m of ['median_hours_to_close', 'on_time_rate', 'csat_top2']) if (r[m] !== '') out.problems.push(`${f.url}: ${where}: withheld but ${m} reads "${r[m]}"`);
        if (!/opened: suppressed/.test(r.notes)) out.problems.push(`${f.url}: ${where}: withheld without saying so (notes "${r.notes}")`);
      }
      add(where, r, r[period] || null, withheld ? null : Number(r.opened));
    });
    return out;
  }
  const body = JSON.parse(f.body) as Record<string, unknown>;
  if (body.period !== period) out.problems.push(`${f.url}: answers from the ${String(body.period)} release, not the ${period} one`);
  if (trends) {
    for (const [si, s] of (body.series as Record<string, unknown>[]).entries()) {
      const periods = s.periods as string[];
      const opened = s.opened as (number | null)[];
      const suppressed = s.suppressed as boolean[];
      periods.forEach((p, i) => {
        const where = `series[${si}][${i}]`;
        if ((opened[i] === null) !== suppressed[i]) out.problems.push(`${f.url}: ${where}: opened ${opened[i]} with suppressed ${suppressed[i]}`);
        add(where, s, p, opened[i]);
      });
    }
    return out;
  }
  for (const [ti, t] of (body.tables as { rows: Record<string, unknown>[] }[]).entries()) {
    for (const [ri, r] of t.rows.entries()) {
      const where = `tables[${ti}].rows[${ri}]`;
      const opened = r.opened as number | null;
      if ((opened === null) !== r.suppressed) out.problems.push(`${f.url}: ${where}: opened ${opened} with suppressed ${String(r.suppressed)}`);
      if (r.suppressed) {
        if ([r.median_hours_to_close, r.on_time_rate, r.csat_top2].some((x) => x !== null)) out.problems.push(`${f.url}: ${where}: withheld with a figure beside it`);
        if ((r.flags as Record<string, string>).opened !== 'suppressed') out.problems.push(`${f.url}: ${where}: withheld without its flag`);
      }
      add(where, r, (r[period] as string | undefined) ?? null, opened);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Open311

export type Open311Request = Record<string, unknown> & { service_request_id: string; service_code: string; service_name: string; lat?: number; long?: number };

export interface Open311Crawl {
  fetched: Fetched[];
  /** Every request object of every JSON answer. */
  requests: Open311Request[];
  /** Every request element of every XML answer (all values strings). */
  xmlRequests: Record<string, unknown>[];
  services: Record<string, unknown>[];
}

const xmlParser = new XMLParser({ parseTagValue: false, isArray: (name) => ['service', 'request', 'error', 'note'].includes(name) });

export function xmlItems(body: string, root: string, item: string): Record<string, unknown>[] {
  const doc = xmlParser.parse(body) as Record<string, Record<string, Record<string, unknown>[]> | ''>;
  const container = doc[root];
  return container === '' || container === undefined ? [] : (container[item] ?? []);
}

/**
 * Open311 as a civic app reads it: the services (JSON and XML), the default window walked page by
 * page, a one-day window in small pages, open and closed, one service, the trail extension, the
 * first page as XML, and single requests in both formats.
 */
export async function crawlOpen311(fastify: FastifyInstance): Promise<Open311Crawl> {
  const out: Open311Crawl = { fetched: [], requests: [], xmlRequests: [], services: [] };
  const fetch = async (url: string) => {
    const f = await get(fastify, url);
    out.fetched.push(f);
    if (f.status !== 200) throw new Error(`${url}: ${f.status} ${f.body.slice(0, 300)}`);
    if (url.includes('.xml')) out.xmlRequests.push(...(url.includes('/services.') ? [] : xmlItems(f.body, 'service_requests', 'request')));
    else if (!url.includes('/services.')) out.requests.push(...(JSON.parse(f.body) as Open311Request[]));
    return f;
  };
  const B = '/open311/v2';
  out.services = JSON.parse((await fetch(`${B}/services.json`)).body) as Record<string, unknown>[];
  await fetch(`${B}/services.xml`);
  const walk = async (query: string, pageSize: number, maxPages = 100) => {
    const all: Open311Request[] = [];
    for (let page = 1; page <= maxPages; page++) {
      const rows = JSON.parse((await fetch(`${B}/requests.json?${query}${query ? '&' : ''}page=${page}&page_size=${pageSize}`)).body) as Open311Request[];
      all.push(...rows);
      if (rows.length < pageSize) break;
    }
    return all;
  };
  const window = await walk('', 1000);
  if (window.length === 0) throw new Error('Open311: the default window is empty');
  await fetch(`${B}/requests.xml?page_size=1000`);
  // The newest request's local day, walked 25 at a time.
  const day = String(window[0].requested_datetime).slice(0, 10);
  await walk(`start_date=${day}&end_date=${day}`, 25);
  await walk('status=open', 200, 2);
  await walk('status=closed', 200, 2);
  await walk(`service_code=${encodeURIComponent(window[window.length - 1].service_code)}`, 100, 2);
  await walk('extensions=true', 20, 1);
  const ids = [...new Set(window.map((r) => r.service_request_id))].filter((_, i, a) => i % Math.max(1, Math.floor(a.length / 5)) === 0).slice(0, 5);
  for (const id of ids) {
    await fetch(`${B}/requests/${encodeURIComponent(id)}.json`);
    await fetch(`${B}/requests/${encodeURIComponent(id)}.xml`);
  }
  await fetch(`${B}/requests/${encodeURIComponent(ids[0])}.json?extensions=true`);
  await fetch(`${B}/requests.json?service_request_id=${encodeURIComponent(ids.join(','))}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scanners

/**
 * Finds any of `ids` inside `body`: every id length is slid over the body once, so thousands of
 * ids cost a pass per distinct length, not a search per id.
 */
export function findIds(body: string, ids: ReadonlySet<string>, lengths: readonly number[]): string[] {
  const found = new Set<string>();
  for (const len of lengths) {
    for (let i = 0; i + len <= body.length; i++) {
      const s = body.slice(i, i + len);
      if (ids.has(s)) found.add(s);
    }
  }
  return [...found];
}

/** Clock times (14:05, 2:05, 14:05:59) and ISO instants (T14:05) in a text. */
export const CLOCK = /(?:\b|T)(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?\b/g;

/** Pairs of decimals (3+ places) that read as a point inside the data's bounds, either order. */
export function pointsIn(body: string, bounds: { latMin: number; latMax: number; lonMin: number; lonMax: number }): string[] {
  const out: string[] = [];
  const inLat = (x: number) => x >= bounds.latMin && x <= bounds.latMax;
  const inLon = (x: number) => x >= bounds.lonMin && x <= bounds.lonMax;
  for (const m of body.matchAll(/(-?\d{1,3}\.\d{3,})["']?\s*[,;\s]\s*["']?(-?\d{1,3}\.\d{3,})/g)) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    if ((inLat(a) && inLon(b)) || (inLon(a) && inLat(b))) out.push(m[0]);
  }
  return out;
}

/** How many requests Open311 lists per service in a window of local days (every page walked). */
export async function open311CountsByService(fastify: FastifyInstance, fromDay: string, toDay: string): Promise<{ counts: Map<string, number>; fetched: Fetched[] }> {
  const counts = new Map<string, number>();
  const fetched: Fetched[] = [];
  for (let page = 1; page <= 1000; page++) {
    const f = await get(fastify, `/open311/v2/requests.json?start_date=${fromDay}&end_date=${toDay}&page=${page}&page_size=1000`);
    fetched.push(f);
    if (f.status !== 200) throw new Error(`${f.url}: ${f.status} ${f.body.slice(0, 300)}`);
    const rows = JSON.parse(f.body) as Open311Request[];
    for (const r of rows) counts.set(r.service_name, (counts.get(r.service_name) ?? 0) + 1);
    if (rows.length < 1000) break;
  }
  return { counts, fetched };
}
