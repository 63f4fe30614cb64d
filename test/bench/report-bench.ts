// Reports (issue 14, item 9): the demo city's full staff report (summary, every service, every
// district, methodology: about 20 pages) built and rendered to a tagged PDF, and a 1,000,000-row
// CSV through the reports' streamed writer (csvFiles) beside DuckDB's own COPY … TO of the same
// rows in the same run.
//
//   node --import tsx test/bench/report-bench.ts [--rows 1000000]     # this part alone
//   npm run bench                                                      # with the others
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { Warehouse } from '../../warehouse/db.ts';
import { seedDemoCity, DEMO_JURISDICTION, DEMO_TIMEZONE } from '../../ingest/demo-city.ts';
import { buildReport, BUILT_IN_REPORTS, type ReportContent } from '../../reports/definitions.ts';
import { renderPdf } from '../../reports/render-pdf.ts';
import { csvFiles } from '../../reports/render-csv.ts';

export interface ReportBench {
  pdf: { pages: number; bytes: number; build_s: number; render_s: number; runs: number };
  csv: { rows: number; ours_s: number; ours_read_s: number; ours_write_s: number; ours_bytes: number; duckdb_s: number; duckdb_bytes: number; ratio: number };
}

const secs = (t0: number) => (performance.now() - t0) / 1000;

export async function runReportBench(o: { rows?: number; log?: (l: string) => void } = {}): Promise<ReportBench> {
  const log = o.log ?? (() => {});
  const rows = o.rows ?? 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'civic-report-bench-'));
  try {
    log('seeding the demo city…');
    const wh = await Warehouse.open(join(dir, 'civic.duckdb'));
    let pdf: ReportBench['pdf'];
    try {
      await seedDemoCity(wh);
      const spec = { ...BUILT_IN_REPORTS['weekly-summary'], timezone: DEMO_TIMEZONE };
      const ctx = { jurisdiction: DEMO_JURISDICTION, timezone: DEMO_TIMEZONE };
      let t = performance.now();
      const content = await buildReport(wh, spec, ctx);
      const build = secs(t);
      // The render alone, best of three (the first also loads vega and the fonts).
      let best = Infinity;
      let bytes: Buffer = Buffer.alloc(0);
      for (let i = 0; i < 3; i++) {
        t = performance.now();
        bytes = await renderPdf(content);
        best = Math.min(best, secs(t));
      }
      const file = join(dir, 'report.pdf');
      await import('node:fs').then((fs) => fs.writeFileSync(file, bytes));
      const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))![1]);
      pdf = { pages, bytes: bytes.length, build_s: build, render_s: best, runs: 3 };
      log(`PDF: ${pages} pages built in ${build.toFixed(2)} s, rendered in ${best.toFixed(2)} s`);
    } finally {
      wh.close();
    }

    // 1M rows like a cases export: ids, labels, an instant, a share and a count.
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(`SET TimeZone = 'UTC'`);
    await conn.run(`CREATE TABLE t AS SELECT i AS id, 'Service ' || (i % 40) AS service, 'District ' || (i % 12) AS area,
      TIMESTAMPTZ '2026-01-01 00:00:00+00' + i * INTERVAL 37 SECOND AS opened_at, round((i % 97) / 97.0, 4) AS on_time_rate, (i % 500)::INTEGER AS opened
      FROM range(${Number(rows)}) r(i)`);
    const duckFile = join(dir, 'duckdb.csv');
    let t = performance.now();
    await conn.run(`COPY (SELECT id, service, area, strftime(opened_at, '%Y-%m-%dT%H:%M:%SZ') AS opened_at, on_time_rate, opened FROM t ORDER BY id) TO '${duckFile}' (HEADER, DELIMITER ',')`);
    const duckdb = secs(t);

    t = performance.now();
    const data = (await conn.runAndReadAll(`SELECT id::INTEGER AS id, service, area, strftime(opened_at, '%Y-%m-%dT%H:%M:%SZ') AS opened_at, on_time_rate::DOUBLE AS on_time_rate, opened FROM t ORDER BY id`)).getRowObjectsJson() as Record<string, unknown>[];
    const read = secs(t);
    conn.closeSync();
    const content: ReportContent = {
      id: 'bench', title: 'bench', subtitle: '', audience: 'staff', as_of: '2026-01-01T00:00:00Z', as_of_local: '', timezone: DEMO_TIMEZONE, from: '2026-01-01', to: '2026-12-31', period: 'bench', facts: [], min_denominator: 20, csv: { columns: [], rows: [] },
      sections: [{ heading: 'rows', level: 2, blocks: [{ kind: 'table', csv_only: true, table: { name: 'cases', caption: 'cases', rows: data, columns: [
        { key: 'id', label: 'id' }, { key: 'service', label: 'service' }, { key: 'area', label: 'area' }, { key: 'opened_at', label: 'opened_at', format: 'instant' }, { key: 'on_time_rate', label: 'on_time_rate' }, { key: 'opened', label: 'opened' },
      ] } }] }],
    };
    const file = csvFiles(content).find((f) => f.name.endsWith('_cases.csv'))!;
    const ours = join(dir, 'ours.csv');
    t = performance.now();
    const out = createWriteStream(ours);
    for await (const chunk of file.chunks()) if (!out.write(chunk)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    const write = secs(t);
    const csv = { rows, ours_s: read + write, ours_read_s: read, ours_write_s: write, ours_bytes: statSync(ours).size, duckdb_s: duckdb, duckdb_bytes: statSync(duckFile).size, ratio: (read + write) / duckdb };
    log(`CSV: ${rows.toLocaleString('en-US')} rows: ours ${csv.ours_s.toFixed(2)} s (read ${read.toFixed(2)} s + write ${write.toFixed(2)} s), DuckDB COPY ${duckdb.toFixed(2)} s: ${csv.ratio.toFixed(1)}× COPY's time`);
    return { pdf, csv };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatReportBench(b: ReportBench): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  return [
    `PDF report (demo city, weekly summary: summary, every service, every district, methodology)`,
    `  ${b.pdf.pages} pages, ${mb(b.pdf.bytes)}: content built in ${b.pdf.build_s.toFixed(2)} s, rendered in ${b.pdf.render_s.toFixed(2)} s (best of ${b.pdf.runs}; ${((b.pdf.render_s / b.pdf.pages) * 1000).toFixed(0)} ms a page)`,
    `CSV export, ${b.csv.rows.toLocaleString('en-US')} rows (id, service, area, an instant in the report's zone with its offset, a share, a count)`,
    `  ours (csvFiles, streamed to a file)   ${b.csv.ours_s.toFixed(2)} s  (reading the rows ${b.csv.ours_read_s.toFixed(2)} s + writing ${b.csv.ours_write_s.toFixed(2)} s), ${mb(b.csv.ours_bytes)}`,
    `  DuckDB COPY (SELECT …) TO '…csv'       ${b.csv.duckdb_s.toFixed(2)} s, ${mb(b.csv.duckdb_bytes)}`,
    `  ratio                                  ${b.csv.ratio.toFixed(1)}× COPY's time`,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--rows');
  const b = await runReportBench({ rows: i > 0 ? Number(process.argv[i + 1]) : undefined, log: console.log });
  console.log('\n' + formatReportBench(b));
}
