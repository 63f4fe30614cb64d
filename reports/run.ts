// Renders one report now, to PDF and CSV, and delivers the files.
import type { Warehouse } from '../warehouse/db.ts';
import { getReport, type ReportContext } from './definitions.ts';
import { renderPdf } from './render-pdf.ts';
import { toCsv } from './render-csv.ts';
import { deliverToFolder } from './deliver.ts';

export interface ReportRun { id: string; title: string; as_of: string; files: string[] }

export async function runReport(wh: Warehouse, id: string, ctx: ReportContext, outDir: string): Promise<ReportRun> {
  const content = await getReport(id).build(wh, ctx);
  const pdf = await renderPdf(content);
  const csv = toCsv(
    content.csv.rows.map((r) => Object.fromEntries(content.csv.columns.map((c) => [c.key, r[c.key]]))),
    content.csv.columns.map((c) => c.key),
  );
  const base = `${id}_${content.period}`;
  const files = deliverToFolder(outDir, [
    { name: `${base}.pdf`, body: pdf },
    { name: `${base}.csv`, body: Buffer.from(csv, 'utf8') },
  ]);
  return { id, title: content.title, as_of: content.as_of, files };
}
