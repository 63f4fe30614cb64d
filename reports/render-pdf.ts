// Report → tagged, accessible PDF (PDF/UA-style structure: headings, paragraphs, real tables,
// figures with alternative text). Charts are the dashboard's Vega-Lite specs drawn as vectors.
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { formatCell, type Column, type ReportContent } from './definitions.ts';

export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const MARGIN = 54;

export async function renderPdf(content: ReportContent): Promise<Buffer> {
  // Helvetica, a standard PDF font, has no minus sign (U+2212): it would print as a stray quote.
  // Draw it as a hyphen-minus, everywhere in the report (text, tables, chart labels).
  const report = JSON.parse(JSON.stringify(content).replaceAll('\u2212', '-')) as ReportContent;
  const svgs = new Map<number, string>();
  for (const [i, s] of report.sections.entries()) if (s.kind === 'chart') svgs.set(i, await specToSvg(s.spec));

  const doc = new PDFDocument({
    size: 'LETTER',
    margin: MARGIN,
    tagged: true,
    pdfVersion: '1.7',
    lang: 'en-US',
    displayTitle: true,
    info: { Title: report.title, Subject: report.subtitle, Author: 'Civic Pulse', Creator: 'Civic Pulse reports' },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((res, rej) => {
    doc.on('end', () => res(Buffer.concat(chunks)));
    doc.on('error', rej);
  });

  const root = doc.struct('Document');
  doc.addStructure(root);
  const width = doc.page.width - 2 * MARGIN;
  const add = (tag: string, draw: () => void) => root.add(doc.struct(tag, {}, draw));

  add('H1', () => doc.font('Helvetica-Bold').fontSize(18).fillColor('#111').text(report.title, { width }));
  add('P', () => doc.moveDown(0.3).font('Helvetica').fontSize(10).fillColor('#333').text(report.subtitle, { width }));

  for (const [i, section] of report.sections.entries()) {
    if (doc.y > doc.page.height - 200) doc.addPage();
    add('H2', () => doc.moveDown(1).font('Helvetica-Bold').fontSize(13).fillColor('#111').text(section.heading, MARGIN, doc.y, { width }));
    doc.moveDown(0.4);
    if (section.kind === 'table') {
      drawTable(doc, root, section.columns, section.rows, width);
      if (section.note) add('P', () => doc.moveDown(0.4).font('Helvetica').fontSize(9).fillColor('#333').text(section.note!, MARGIN, doc.y, { width }));
    } else if (section.kind === 'chart') {
      const svg = svgs.get(i)!;
      const top = doc.y;
      // Scale the whole drawing (plot, axes and legend) to the text width, keeping its proportions.
      const svgW = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? width);
      const svgH = Number(/height="([\d.]+)"/.exec(svg)?.[1] ?? 250);
      const scale = Math.min(1, width / svgW);
      root.add(doc.struct('Figure', { alt: section.summary }, () =>
        SVGtoPDF(doc, svg, MARGIN, top, { width: svgW * scale, height: svgH * scale, preserveAspectRatio: 'xMinYMin meet', assumePt: true })));
      doc.y = top + svgH * scale + 8;
      add('P', () => doc.font('Helvetica-Oblique').fontSize(9).fillColor('#333').text(section.summary, MARGIN, doc.y, { width }));
    } else {
      for (const p of section.paragraphs) add('P', () => doc.font('Helvetica').fontSize(9.5).fillColor('#222').text(p, MARGIN, doc.y, { width }).moveDown(0.3));
    }
  }
  root.end();
  doc.end();
  return done;
}

function drawTable(doc: PDFKit.PDFDocument, parent: PDFKit.PDFStructureElement, columns: Column[], rows: Record<string, unknown>[], width: number) {
  const numeric = (c: Column) => Boolean(c.format);
  const header = columns.map((c) => ({ text: c.label, type: 'TH' as const, font: { src: 'Helvetica-Bold' }, align: { x: numeric(c) ? ('right' as const) : ('left' as const), y: 'bottom' as const } }));
  const body = rows.map((r) => columns.map((c) => ({ text: formatCell(r[c.key], c.format, c.of ? r[c.of] : undefined), align: { x: numeric(c) ? ('right' as const) : ('left' as const) } })));
  doc.font('Helvetica').fontSize(9).fillColor('#111');
  const first = Math.max(130, width - (columns.length - 1) * 68);
  // structParent makes pdfkit tag the grid as Table/TR/TH/TD (the option exists; the types lag).
  doc.table({
    position: { x: MARGIN, y: doc.y },
    maxWidth: width,
    columnStyles: columns.map((_, i) => (i === 0 ? first : '*')),
    defaultStyle: { padding: [3, 4], border: [0, 0, 0.5, 0], borderColor: '#bbb' },
    data: [header, ...body],
    structParent: parent,
  } as PDFKit.Mixins.TableOptionsWithData);
}
