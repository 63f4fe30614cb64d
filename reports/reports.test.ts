// Real reports of the demo city and the LA export, read back as a reader and a screen reader
// would: text (pdftotext) against the analyses they come from, structure (the PDF/UA checker),
// tables split across pages without losing a row, CSV files per table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoWarehouse } from '../test/demo-warehouse.ts';
import { fixture, LA311_CSV, tempWarehouse, type TempWarehouse } from '../test/helpers.ts';
import { ingestFile } from '../ingest/load.ts';
import { loadProfile } from '../ingest/profile.ts';
import { loadAreasGeoJson } from '../ingest/areas.ts';
import { assignPlaces } from '../ingest/places.ts';
import { computeOverview } from '../warehouse/analytics/overview.ts';
import { computeKpis } from '../warehouse/analytics/kpis.ts';
import { publicKpis } from '../warehouse/analytics/public-kpis.ts';
import { DEFAULT_POLICY } from '../warehouse/privacy/policy.ts';
import { formatValue } from '../dashboard/src/lib/format.ts';
import { seededRandom } from '../warehouse/stats/random.ts';
import { buildReport, BUILT_IN_REPORTS, isoInZone, type ReportContent, type ReportSpec } from './definitions.ts';
import { renderPdf } from './render-pdf.ts';
import { csvChunks, csvFiles, toCsv } from './render-csv.ts';
import { checkPdf } from './pdf-check.ts';

// CIVIC_REPORTS_OUT=dir keeps the PDFs there (to look at them: pdftoppm -r 60 -png); else a temp folder, removed.
const out = process.env.CIVIC_REPORTS_OUT ?? mkdtempSync(join(tmpdir(), 'civic-reports-'));
afterAll(() => {
  if (!process.env.CIVIC_REPORTS_OUT) rmSync(out, { recursive: true, force: true });
});
const NY = 'America/New_York';
const LA = 'America/Los_Angeles';

async function render(content: ReportContent, name: string): Promise<{ file: string; text: string; pages: string[] }> {
  mkdirSync(out, { recursive: true });
  const file = join(out, `${name}.pdf`);
  writeFileSync(file, await renderPdf(content));
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { file, text, pages: text.split('\f').filter((p) => p.trim()) };
}

async function readCsv(f: ReturnType<typeof csvFiles>[number]): Promise<string[]> {
  let s = '';
  let chunks = 0;
  for await (const c of f.chunks()) { s += c; chunks++; }
  expect(chunks).toBeGreaterThan(0);
  return s.trimEnd().split('\r\n');
}

const spec = (id: string, over: Partial<ReportSpec> = {}): ReportSpec => ({ ...BUILT_IN_REPORTS[id], timezone: NY, ...over });
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every "x% of n" in the text rests on at least the minimum: a rate over fewer reads "too few cases". */
function denominatorsOk(text: string, min: number) {
  const bad = [...text.matchAll(/(\d+(?:\.\d)?)% of (\d[\d,]*)/g)].filter((m) => Number(m[2].replaceAll(',', '')) < min);
  expect(bad.map((m) => m[0])).toEqual([]);
}

/** The services' and the areas' backlogs add up to the headline's, now and when the period began. */
function backlogsAddUp(c: ReportContent) {
  const tables = c.sections.flatMap((s) => s.blocks).filter((b) => b.kind === 'table').map((b) => (b as { table: { name: string; rows: Record<string, unknown>[] } }).table);
  const headline = tables.find((t) => t.name === 'headline')!.rows.find((r) => r.name === 'backlog')!;
  for (const name of ['services', 'areas']) {
    const t = tables.find((x) => x.name === name)!;
    expect(t.rows.reduce((a, r) => a + Number(r.backlog), 0), name).toBe(headline.raw_value);
  }
  const before = tables.filter((t) => /^service-\d+$/.test(t.name)).reduce((a, t) => a + Number(t.rows.find((r) => r.name === 'backlog')!.raw_previous), 0);
  expect(before).toBe(headline.raw_previous);
}

function pagesNumbered(pages: string[]) {
  pages.forEach((p, i) => expect(p).toContain(`Page ${i + 1} of ${pages.length}`));
}

describe('staff report of the demo city', () => {
  let t: TempWarehouse;
  let content: ReportContent;
  let pdf: Awaited<ReturnType<typeof render>>;
  beforeAll(async () => {
    t = await demoWarehouse();
    content = await buildReport(t.wh, spec('weekly-summary'), { jurisdiction: 'Riverton (demo city)', timezone: NY });
    pdf = await render(content, 'demo-weekly');
  }, 180_000);
  afterAll(() => t.cleanup());

  it('covers the last whole week up to the newest request, as of the newest event, in the report zone', () => {
    expect([content.from, content.to, content.period]).toEqual(['2026-11-09', '2026-11-15', '2026-11-09_2026-11-15']);
    expect(content.as_of_local).toBe('2026-11-15 23:22 EST');
    expect(pdf.pages[0]).toContain('Weekly service summary: Riverton (demo city)');
    expect(pdf.pages[0]).toMatch(/Week of Monday November 9 to Sunday November 15, 2026/);
    expect(pdf.pages[0]).toMatch(/Data as of\s+2026-11-15 23:22 EST/);
    expect(pdf.pages[0]).toMatch(/Filters\s+none \(every request\)/);
    pagesNumbered(pdf.pages);
    for (const p of pdf.pages) expect(p).toContain('Dates and times in America/New_York.');
  });

  it("first page: the headline figures are computeOverview's, with change and target, and the findings as sentences", async () => {
    const ov = await computeOverview(t.wh, { from: content.from, to: content.to, as_of: content.as_of, timezone: NY });
    const first = pdf.pages[0];
    for (const name of ['opened', 'median_hours_to_close', 'on_time_rate', 'backlog'] as const) {
      const h = ov.headline.find((x) => x.name === name)!;
      const now = formatValue(h.value, h.unit, h.denominator, 20);
      const before = formatValue(h.previous, h.unit, h.previous_denominator, 20);
      expect(first, h.label).toMatch(new RegExp(`${esc(h.label)}\\s+${esc(now)}\\s+${esc(before)}\\s`));
    }
    expect(first).toMatch(/On time\s+74\.5% of 459\s+66\.4% of 637\s+up 8\.1 percentage points\s+84\.8%: below target/);
    expect(first).toMatch(/Opened\s+634\s+662\s+down 28 cases \(4\.2%\)/);
    expect(first).toContain('Findings over the year of weeks up to 2026-11-15');
    expect(first).toMatch(/Missed Trash Pickup requests were 2\.5 times the usual/);
  });

  it('the same unit and denominator rules as the dashboard: "too few cases" under 20, never "100.0% of 8"', async () => {
    denominatorsOk(pdf.text, 20);
    const k = await computeKpis(t.wh, ['service'], { from: content.from, to: content.to, as_of: content.as_of, timezone: NY });
    const few = k.rows.filter((r) => r.opened > 0 && r.on_time_denominator < 20);
    expect(few.length).toBeGreaterThan(0);
    for (const r of few) expect(pdf.text).toMatch(new RegExp(`${esc(r.service!)}\\s+${r.opened}\\s+${r.closed}\\s+(too few cases|\\S+ (h|days))\\s+too few cases`));
    // Hours under 48 h, then days.
    for (const m of pdf.text.matchAll(/(\d+(?:\.\d)?) h\b/g)) expect(Number(m[1])).toBeLessThan(48.5);
  });

  it('a section per service and per area, each with its table and a vector chart; backlogs add up to the headline', () => {
    backlogsAddUp(content);
    const k = content.sections.filter((s) => s.level === 3);
    expect(k.length).toBeGreaterThan(10);
    for (const s of k) expect(s.blocks.some((b) => b.kind === 'chart')).toBe(true);
    expect(pdf.text).toMatch(/Pothole Repair: cases opened per week/);
    // Axis titles exist as text only when the chart is drawn as vectors.
    expect(pdf.text).toMatch(/Week\s+starting/);
    expect(pdf.text).toContain('Cases opened');
    // Full legend labels (the old legend cut "Missed Trash Pick…").
    expect(pdf.text).toContain('Missed Trash Pickup');
    expect(pdf.text).not.toContain('…');
  });

  it('methodology from the measure registry', () => {
    expect(pdf.text).toContain('How these figures are defined');
    expect(pdf.text).toMatch(/Opened \(cases\): Cases opened in the period/);
  });

  it('passes the PDF/UA checker with zero failures; fonts embedded', async () => {
    expect(await checkPdf(pdf.file)).toEqual([]);
    expect(execFileSync('pdffonts', [pdf.file], { encoding: 'utf8' })).toMatch(/DejaVuSans\s+CID TrueType\s+Identity-H\s+yes yes yes/);
  });

  it('CSV: one file per table, header row, raw figures, ISO times with the offset of the report zone, streamed', async () => {
    const files = csvFiles(content);
    const names = files.map((f) => f.name);
    expect(names).toContain('weekly-summary_2026-11-09_2026-11-15_about.csv');
    expect(names).toContain('weekly-summary_2026-11-09_2026-11-15_services.csv');
    expect(names).toContain('weekly-summary_2026-11-09_2026-11-15_findings.csv');
    expect(new Set(names).size).toBe(names.length);
    const about = await readCsv(files.find((f) => f.name.endsWith('_about.csv'))!);
    expect(about.find((l) => l.startsWith('as_of,'))).toMatch(/^as_of,2026-11-15T23:22:\d\d-05:00$/);
    const services = await readCsv(files.find((f) => f.name.endsWith('_services.csv'))!);
    expect(services[0].split(',').slice(0, 6)).toEqual(['service', 'opened', 'closed', 'median_hours_to_close', 'on_time_rate', 'pending']);
    const k = await computeKpis(t.wh, ['service'], { from: content.from, to: content.to, as_of: content.as_of, timezone: NY });
    expect(services).toHaveLength(1 + k.rows.filter((r) => r.opened > 0 || r.closed_in_period > 0).length);
    const pothole = services.find((l) => l.startsWith('Pothole Repair,'))!.split(',');
    const kp = k.rows.find((r) => r.service === 'Pothole Repair')!;
    expect(pothole.slice(1, 5).map(Number)).toEqual([kp.opened, kp.closed, kp.median_hours_to_close, kp.on_time_rate]);
    for (const f of files) expect(await readCsv(f)).toHaveLength(f.rows + 1);
  });

  it('an agency-scoped, filtered report counts only its cases, and says so', async () => {
    const c = await buildReport(t.wh, spec('weekly-summary', { id: 'district-2', title: 'District 2', views: ['summary', 'services'], filter: { area: 'District 2' }, agencies: ['Public Works'] }), { jurisdiction: 'Riverton (demo city)', timezone: NY });
    const k = await computeKpis(t.wh, [], { from: c.from, to: c.to, as_of: c.as_of, timezone: NY }, { area: 'District 2' }, { scope: { agencies: ['Public Works'] } });
    const opened = c.sections[0].blocks.find((b) => b.kind === 'table')!;
    expect(opened.kind === 'table' && opened.table.rows.find((r) => r.name === 'opened')!.raw_value).toBe(k.rows[0].opened);
    expect(c.facts).toContainEqual({ label: 'Filters', value: 'area: District 2' });
    expect(c.facts).toContainEqual({ label: 'Agencies', value: 'Public Works' });
    const p = await render(c, 'demo-district');
    expect(await checkPdf(p.file)).toEqual([]);
  });
});

describe('public report of the demo city', () => {
  let t: TempWarehouse;
  let content: ReportContent;
  let pdf: Awaited<ReturnType<typeof render>>;
  const policy = { ...DEFAULT_POLICY, k: 60, sensitive_services: ['Water Leak'] };
  beforeAll(async () => {
    t = await demoWarehouse();
    content = await buildReport(t.wh, spec('monthly-public', { period: 'week' }), { jurisdiction: 'Riverton (demo city)', timezone: NY, disclosure: policy });
    pdf = await render(content, 'demo-public');
  }, 180_000);
  afterAll(() => t.cleanup());

  it('holds only the published figures: suppressed cells read "suppressed", never 0', async () => {
    const k = await publicKpis(t.wh, ['service', 'week'], { period: 'week', policy, timezone: NY });
    const last = k.periods.at(-1)!;
    expect(content.from).toBe(last);
    const rows = k.tables.find((x) => x.by.join() === 'service,week')!.rows.filter((r) => r.week === last);
    const suppressed = rows.filter((r) => r.suppressed);
    expect(suppressed.length).toBeGreaterThan(0);
    for (const r of suppressed) expect(pdf.text).toMatch(new RegExp(`${esc(r.service!)}\\s+suppressed\\s+suppressed`));
    for (const r of rows.filter((x) => !x.suppressed)) expect(pdf.text).toMatch(new RegExp(`${esc(r.service!)}\\s+${r.opened!.toLocaleString('en-US')}\\s`));
    expect(pdf.text).toContain('Disclosure control');
    // Nothing case-level: no request ids, no addresses, no per-case times.
    expect(pdf.text).not.toMatch(/\b\d{1,5} [A-Z][a-z]+ (St|Ave|Rd)\b/);
    // No time of day (the as-of is a local day: its instant is one request's last event).
    expect(pdf.text).not.toMatch(/\b\d{2}:\d{2}\b/);
    pagesNumbered(pdf.pages);
    expect(await checkPdf(pdf.file)).toEqual([]);
  });

  it('refuses filters (a filtered public table could be subtracted from the published ones)', async () => {
    await expect(buildReport(t.wh, spec('monthly-public', { filter: { agency: 'Public Works' } }), { jurisdiction: 'x', timezone: NY })).rejects.toThrow(/cannot be filtered/);
  });
});

describe('long tables continue across pages', () => {
  const n = 212;
  const content: ReportContent = {
    id: 'long', title: 'A long table', subtitle: 'Synthetic rows', audience: 'staff', as_of: '2026-03-08T12:00:00Z', as_of_local: '2026-03-08 08:00 EDT', timezone: NY,
    from: '2026-03-02', to: '2026-03-08', period: '2026-03-02_2026-03-08', facts: [{ label: 'Period', value: 'one week' }], min_denominator: 20,
    sections: [{
      heading: 'Rows', level: 2, blocks: [{
        kind: 'table',
        table: {
          name: 'rows', caption: 'Every row',
          columns: [{ key: 'name', label: 'Name', row_header: true }, { key: 'opened', label: 'Opened', format: 'int' }, { key: 'rate', label: 'On time', format: 'percent', of: 'den' }],
          rows: Array.from({ length: n }, (_, i) => ({ name: `Row ${String(i + 1).padStart(3, '0')}${i % 37 === 5 ? ' with a long name that has to wrap onto a second line of the cell, and maybe a third one too' : ''}`, opened: i, rate: 0.5, den: i })),
        },
      }],
    }],
    csv: { columns: [], rows: [] },
  };

  it('splits by whole rows, repeats the header and says "rows x–y of n"; no row lost or cut', async () => {
    const pdf = await render(content, 'long');
    const parts = [...pdf.text.matchAll(/Every row(?: \(continued\))?: rows (\d+)–(\d+) of\s+212/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts[0][0]).toBe(1);
    expect(parts.at(-1)![1]).toBe(n);
    for (let i = 1; i < parts.length; i++) expect(parts[i][0]).toBe(parts[i - 1][1] + 1);
    // The header row on every page the table is on.
    expect((pdf.text.match(/Name\s+Opened\s+On time/g) ?? []).length).toBe(parts.length);
    for (let i = 1; i <= n; i++) expect(pdf.text.match(new RegExp(`Row ${String(i).padStart(3, '0')}\\b`, 'g')), `row ${i}`).toHaveLength(1);
    // The split rows' figures: "50.0% of 20" from 20 on, "too few cases" below.
    expect(pdf.text).toMatch(/Row 019\s+18\s+too few cases/);
    expect(pdf.text).toMatch(/Row 212\s+211\s+50\.0% of 211/);
    pagesNumbered(pdf.pages);
    expect(await checkPdf(pdf.file)).toEqual([]);
  });
});

describe('reports of the LA export (both boundary files)', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse();
    await ingestFile(t.wh, LA311_CSV, loadProfile('myla311'));
    await loadAreasGeoJson(t.wh, fixture('la311/la_council_districts_2012.geojson'), { kind: 'council_district', idProperty: 'external_id', nameProperty: 'name' });
    await loadAreasGeoJson(t.wh, fixture('la311/la_neighborhood_councils_2019.geojson'), { kind: 'neighborhood_council', idProperty: 'nc_id', nameProperty: 'name' });
    await assignPlaces(t.wh);
  }, 300_000);
  afterAll(() => t.cleanup());

  it('staff, council districts: headline figures, districts named, day points for a short export, checker clean', async () => {
    const c = await buildReport(t.wh, spec('weekly-summary', { timezone: LA }), { jurisdiction: 'City of Los Angeles', timezone: LA });
    expect(c.period).toBe('2017-12-25_2017-12-31');
    // As of months after the week: backlogs are taken at the week's end, everywhere.
    backlogsAddUp(c);
    const pdf = await render(c, 'la-weekly');
    const ov = await computeOverview(t.wh, { from: c.from, to: c.to, as_of: c.as_of, timezone: LA });
    const opened = ov.headline.find((h) => h.name === 'opened')!;
    expect(pdf.pages[0]).toMatch(new RegExp(`Opened\\s+${esc(opened.value!.toLocaleString('en-US'))}\\s`));
    expect(pdf.text).toContain('Council districts');
    expect(pdf.text).toMatch(/Council district 9/);
    denominatorsOk(pdf.text, 20);
    // LA sends no due times: no on-time rate, said in words.
    expect(pdf.pages[0]).toContain('No case of the period has a due time');
    // The export covers a few weeks: charts by day, not one dot a week.
    const spanDays = (Date.parse(c.to) - Date.parse((await t.wh.one<{ d: string }>("SELECT strftime(min(opened_at) AT TIME ZONE 'America/Los_Angeles', '%Y-%m-%d') AS d FROM cases"))!.d)) / 86_400_000 + 1;
    const trend = c.sections[0].blocks.find((b) => b.kind === 'chart')!;
    expect(trend.kind === 'chart' && trend.data!.csv_columns![0].label).toBe(spanDays <= 28 ? 'day' : 'week');
    pagesNumbered(pdf.pages);
    expect(await checkPdf(pdf.file)).toEqual([]);
  }, 180_000);

  it('staff, neighborhood councils: the long areas table splits across pages and loses no council', async () => {
    const c = await buildReport(t.wh, spec('weekly-summary', { timezone: LA, views: ['areas'], area_kind: 'neighborhood_council' }), { jurisdiction: 'City of Los Angeles', timezone: LA });
    const table = c.sections[0].blocks[0];
    if (table.kind !== 'table') throw new Error('areas table first');
    const n = table.table.rows.length;
    expect(n).toBeGreaterThan(60);
    const pdf = await render(c, 'la-councils');
    const parts = [...pdf.text.matchAll(/rows (\d+)–(\d+) of\s+(\d+)/g)].filter((m) => Number(m[3]) === n);
    expect(parts.length).toBeGreaterThan(1);
    expect(Number(parts.at(-1)![2])).toBe(n);
    for (let i = 1; i < parts.length; i++) expect(Number(parts[i][1])).toBe(Number(parts[i - 1][2]) + 1);
    // Each council on the table's pages (names may wrap inside their cell: the first word is checked).
    const tablePages = pdf.pages.filter((p) => /rows \d+–\d+ of/.test(p)).join('\n');
    for (const r of table.table.rows) expect(tablePages, String(r.area_label)).toContain(String(r.area_label).split(' ')[0]);
    expect(await checkPdf(pdf.file)).toEqual([]);
  }, 300_000);

  it('public: published figures only, checker clean', async () => {
    const c = await buildReport(t.wh, spec('monthly-public', { timezone: LA, period: 'week' }), { jurisdiction: 'City of Los Angeles', timezone: LA, disclosure: { ...DEFAULT_POLICY, sensitive_services: ['Homeless Encampment'] } });
    const pdf = await render(c, 'la-public');
    expect(pdf.text).toContain('Published figures only');
    // One whole week published: no chart of one dot.
    expect(pdf.text).toContain('Only one week is published: no chart of requests over time');
    expect(c.sections[0].blocks.some((b) => b.kind === 'chart')).toBe(false);
    expect(await checkPdf(pdf.file)).toEqual([]);
  }, 180_000);
});

describe('isoInZone and toCsv', () => {
  it('gives the offset of the zone at that instant (both sides of a DST change)', () => {
    expect(isoInZone('2026-03-08T06:59:00Z', NY)).toBe('2026-03-08T01:59:00-05:00');
    expect(isoInZone('2026-03-08T07:00:00Z', NY)).toBe('2026-03-08T03:00:00-04:00');
    expect(isoInZone('2026-11-15T12:00:00Z', 'Asia/Kolkata')).toBe('2026-11-15T17:30:00+05:30');
  });
  it('writes every instant as Intl reads it in the zone (days, leap years, centuries, DST, odd offsets), whole seconds, 1970–2100', () => {
    const rnd = seededRandom(20261201);
    const zones = ['UTC', NY, 'America/Los_Angeles', 'Europe/London', 'Asia/Kathmandu', 'America/St_Johns', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Kiritimati'];
    const parts = (ms: number, timeZone: string) => Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset' })
      .formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    // 1970 to 2100 (offsets of whole minutes: before, some zones' local mean times had seconds),
    // and the days around 2000-02-29 and 2100-02-28 (the century rules).
    const instants = [
      ...Array.from({ length: 3000 }, () => Date.UTC(1970, 0, 1) + Math.floor(rnd() * (Date.UTC(2100, 0, 1) - Date.UTC(1970, 0, 1)))),
      ...[Date.UTC(2000, 1, 28), Date.UTC(2100, 1, 27)].flatMap((d) => Array.from({ length: 96 }, (_, h) => d + h * 1_800_000 + 999)),
    ];
    for (const timeZone of zones) {
      for (const ms of instants) {
        const p = parts(ms, timeZone);
        const offset = p.timeZoneName === 'GMT' ? '+00:00' : p.timeZoneName.slice(3);
        const want = `${Number(p.year)}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`;
        const got = isoInZone(new Date(ms).toISOString(), timeZone);
        if (got !== want) expect(`${timeZone} ${new Date(ms).toISOString()}: ${got}`).toBe(`${timeZone} ${new Date(ms).toISOString()}: ${want}`);
      }
    }
  });
  it('writes every kind of cell: numbers as they are (never prefixed), other text defused and quoted as needed, nothing for null and non-finite numbers', async () => {
    const row = { a: -5, b: 10n, c: -10n, d: true, e: '', f: '-3', g: Number.NaN, h: Number.POSITIVE_INFINITY, i: -0, j: '@x', k: '\tt', l: 'a,b', m: '=,"x"', n: undefined, o: 'line\nbreak' };
    const want = `a,b,c,d,e,f,g,h,i,j,k,l,m,n,o\r\n-5,10,'-10,true,,'-3,,,0,'@x,'\tt,"a,b","'=,""x""",,"line\nbreak"\r\n`;
    expect(toCsv([row])).toBe(want);
    let streamed = '';
    for await (const part of csvChunks([row], Object.keys(row))) streamed += part;
    expect(streamed).toBe(want);
  });
  it('quotes what needs quoting and defuses spreadsheet formulas', () => {
    expect(toCsv([{ a: 'x,y', b: 'say "hi"', c: null, d: 1.5, e: '=SUM(A1)' }])).toBe('a,b,c,d,e\r\n"x,y","say ""hi""",,1.5,\'=SUM(A1)\r\n');
  });
});
