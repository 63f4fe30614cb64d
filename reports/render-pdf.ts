// Report → tagged PDF/UA: a structure tree of headings (H1–H3), paragraphs, lists, real tables
// (TH with Scope Column/Row, TD, a Caption) and figures (alt text, bounding box); everything
// else (rules, stripes, running headers, page numbers) is an Artifact. Fonts are embedded
// (DejaVu Sans from fonts-dejavu-core, else Liberation Sans): the standard Helvetica is not, and
// has no minus sign. Tables split across pages by whole rows, the header row repeated, each part
// captioned "rows 41–80 of 212" — never cut, never truncated. Charts are the dashboard's
// Vega-Lite specs drawn as vectors. reports/pdf-check.ts checks all of this offline.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { formatCell, type Block, type Column, type ReportContent, type Table } from './definitions.ts';

export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

interface Fonts { regular: string; bold: string; italic: string }

/** The first font family installed: DejaVu Sans (Debian fonts-dejavu-core), Liberation Sans. */
export function reportFonts(): Fonts {
  const candidates: Fonts[] = [
    { regular: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', italic: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf' },
    { regular: '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', bold: '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf', italic: '/usr/share/fonts/truetype/liberation/LiberationSans-Italic.ttf' },
  ];
  try {
    // pdfjs-dist ships Liberation Sans (installed with the test tools).
    const dir = join(dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts');
    candidates.push({ regular: join(dir, 'LiberationSans-Regular.ttf'), bold: join(dir, 'LiberationSans-Bold.ttf'), italic: join(dir, 'LiberationSans-Italic.ttf') });
  } catch { /* not installed */ }
  const found = candidates.find((c) => existsSync(c.regular) && existsSync(c.bold) && existsSync(c.italic));
  if (!found) throw new Error('no font to embed in PDF reports: install fonts-dejavu-core (Debian) or fonts-liberation');
  return found;
}

const PAGE = { width: 612, height: 792 }; // US Letter
const M = { left: 54, right: 54, top: 58, bottom: 62 };
const WIDTH = PAGE.width - M.left - M.right;
const BOTTOM = PAGE.height - M.bottom;
const PAD = { x: 4, y: 3 };
const TEXT = '#1a1a1a';
const MUTED = '#444';
const FONT_SIZE = 9;
/**
 * The regular face is the document's own font (the constructor's `font`), named by its path: a
 * second name for the same file would miss pdfkit's font cache and re-read the file each time.
 */
let REGULAR = '';
/** Chart pixels to points: the dashboard's 11 px labels print at about 8.8 pt, beside 9 pt text. */
const CHART_SCALE = 0.8;

type Doc = PDFKit.PDFDocument;
type Struct = PDFKit.PDFStructureElement;

export async function renderPdf(content: ReportContent): Promise<Buffer> {
  const svgs = new Map<Block, string>();
  for (const s of content.sections) for (const b of s.blocks) if (b.kind === 'chart') svgs.set(b, await specToSvg(b.spec));
  const fonts = reportFonts();
  REGULAR = fonts.regular;

  const doc = new PDFDocument({
    size: 'LETTER',
    margins: M,
    pdfVersion: '1.7',
    subset: 'PDF/UA',
    tagged: true,
    lang: 'en-US',
    displayTitle: true,
    bufferPages: true,
    font: fonts.regular,
    info: { Title: content.title, Subject: content.subtitle, Author: 'Civic Pulse', Creator: 'Civic Pulse reports', Keywords: `${content.id}; ${content.period}; ${content.timezone}` },
  } as unknown as PDFKit.PDFDocumentOptions);
  doc.registerFont('Sans-Bold', fonts.bold);
  doc.registerFont('Sans-Italic', fonts.italic);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((res, rej) => {
    doc.on('end', () => res(Buffer.concat(chunks)));
    doc.on('error', rej);
  });

  const root = doc.struct('Document');
  doc.addStructure(root);
  const r = new Renderer(doc, content);

  // First page: title, what the report covers, then the sections.
  r.text(root, 'H1', content.title, { font: 'Sans-Bold', size: 17, gap: 4 });
  r.text(root, 'P', content.subtitle, { size: 9.5, color: MUTED, gap: 8 });
  r.table(root, {
    name: 'about',
    caption: 'About this report',
    columns: [{ key: 'label', label: 'Item', row_header: true }, { key: 'value', label: 'Value' }],
    rows: content.facts,
  }, { headerRow: false, captionShown: false });
  for (const section of content.sections) {
    const sect = doc.struct('Sect');
    root.add(sect);
    if (section.new_page && !r.pageIsFresh()) r.newPage();
    r.ensure(section.level === 2 ? 80 : 60);
    r.rule();
    r.text(sect, section.level === 2 ? 'H2' : 'H3', section.heading, { font: 'Sans-Bold', size: section.level === 2 ? 14 : 12, gap: 5, keepWithNext: 60 });
    for (const b of section.blocks) {
      if (b.kind === 'table') {
        if (!b.csv_only) r.table(sect, b.table);
      } else if (b.kind === 'paragraphs') {
        for (const p of b.paragraphs) r.text(sect, 'P', p, { gap: 4 });
      } else if (b.kind === 'list') {
        r.list(sect, b.items);
      } else {
        r.chart(sect, b.caption, svgs.get(b)!, b.alt, fonts);
      }
    }
    sect.end();
  }
  root.end();
  r.pageFurniture();
  doc.end();
  return done;
}

/** Names (row headers) and sentences wrap at words; figures ("70.9% of 955", "too few cases") stay on one line. */
const wraps = (c: Column, text: string) => Boolean(c.row_header || (!c.format && text.length > 24 && /^\D/.test(text)));

class Renderer {
  constructor(private doc: Doc, private content: ReportContent) {
    doc.y = M.top;
  }

  private top = M.top;

  pageIsFresh(): boolean {
    return this.doc.y <= this.top + 1;
  }

  newPage() {
    this.doc.addPage();
    this.doc.x = M.left;
    this.doc.y = this.top;
  }

  /** Starts a new page unless `h` points fit below. */
  ensure(h: number) {
    if (this.doc.y + h > BOTTOM && !this.pageIsFresh()) this.newPage();
  }

  /** A thin rule above a section: decoration. */
  rule() {
    const d = this.doc;
    if (this.pageIsFresh()) return;
    d.y += 6;
    this.artifact(() => d.save().moveTo(M.left, d.y).lineTo(M.left + WIDTH, d.y).lineWidth(0.5).strokeColor('#999').stroke().restore());
    d.y += 8;
  }

  artifact(draw: () => void, type = 'Layout') {
    this.doc.markContent('Artifact', { type } as never);
    draw();
    this.doc.endMarkedContent();
  }

  text(parent: Struct, tag: string, s: string, o: { font?: string; size?: number; color?: string; gap?: number; keepWithNext?: number; x?: number; width?: number } = {}) {
    const d = this.doc;
    const width = o.width ?? WIDTH;
    d.font(o.font ?? REGULAR).fontSize(o.size ?? FONT_SIZE);
    const h = d.heightOfString(s, { width });
    this.ensure(h + (o.keepWithNext ?? 0));
    const y = d.y;
    parent.add(d.struct(tag, {}, () => {
      d.fillColor(o.color ?? TEXT).text(s, o.x ?? M.left, y, { width });
    }));
    d.y = y + h + (o.gap ?? 0);
  }

  list(parent: Struct, items: string[]) {
    const d = this.doc;
    const L = d.struct('L');
    parent.add(L);
    for (const item of items) {
      d.font(REGULAR).fontSize(FONT_SIZE);
      const h = d.heightOfString(item, { width: WIDTH - 14 });
      this.ensure(h);
      const y = d.y;
      const li = d.struct('LI');
      L.add(li);
      li.add(d.struct('Lbl', {}, () => d.fillColor(TEXT).text('•', M.left + 3, y, { width: 10, lineBreak: false })));
      li.add(d.struct('LBody', {}, () => d.fillColor(TEXT).text(item, M.left + 14, y, { width: WIDTH - 14 })));
      li.end();
      d.y = y + h + 3;
    }
    L.end();
    d.y += 3;
  }

  chart(parent: Struct, caption: string, svg: string, alt: string, fonts: Fonts) {
    const d = this.doc;
    const svgW = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? WIDTH);
    const svgH = Number(/height="([\d.]+)"/.exec(svg)?.[1] ?? 250);
    // The whole drawing (plot, axes, legend) scaled to the text width, keeping its proportions.
    const scale = Math.min(CHART_SCALE, WIDTH / svgW);
    const w = svgW * scale;
    const h = svgH * scale;
    d.font(REGULAR).fontSize(8.5);
    const altH = d.heightOfString(alt, { width: WIDTH });
    this.ensure(14 + h + altH + 10);
    this.text(parent, 'P', caption, { font: 'Sans-Bold', size: 9.5, gap: 4 });
    const top = d.y;
    parent.add(d.struct('Figure', { alt, bbox: [M.left, top, M.left + w, top + h], placement: 'Block' } as never, () => {
      SVGtoPDF(d, svg, M.left, top, {
        width: w, height: h, preserveAspectRatio: 'xMinYMin meet', assumePt: true,
        fontCallback: (_family: string, bold: boolean, italic: boolean) => (bold ? 'Sans-Bold' : italic ? 'Sans-Italic' : REGULAR),
      } as never);
    }));
    void fonts;
    d.y = top + h + 4;
    this.text(parent, 'P', alt, { font: 'Sans-Italic', size: 8.5, color: MUTED, gap: 8 });
  }

  /** Column widths: each column's widest cell (headers wrap by word), shrunk to the text width by wrapping the widest. */
  private widths(table: Table, cells: string[][], headers: string[]): number[] {
    const d = this.doc;
    const n = table.columns.length;
    const natural: number[] = [];
    const least: number[] = [];
    for (let c = 0; c < n; c++) {
      d.font('Sans-Bold').fontSize(FONT_SIZE);
      const headWords = Math.max(...headers[c].split(/\s+/).map((x) => d.widthOfString(x)));
      const head = d.widthOfString(headers[c]);
      d.font(table.columns[c].row_header ? 'Sans-Bold' : REGULAR).fontSize(FONT_SIZE);
      let cell = 0;
      let word = 0;
      for (const row of cells) {
        cell = Math.max(cell, d.widthOfString(row[c]));
        word = Math.max(word, wraps(table.columns[c], row[c]) ? Math.max(...row[c].split(/\s+/).map((x) => d.widthOfString(x))) : d.widthOfString(row[c]));
      }
      // A header wraps at words before any cell does (cells are the figures); a short one stays whole.
      natural.push(Math.max(cell, Math.min(head, 48), headWords) + 2 * PAD.x + 1);
      least.push(Math.max(word, headWords) + 2 * PAD.x + 1);
    }
    const w = [...natural];
    let total = w.reduce((a, b) => a + b, 0);
    // Too wide: take from the widest column that can still give, a little at a time.
    while (total > WIDTH) {
      let k = -1;
      for (let c = 0; c < n; c++) if (w[c] > least[c] + 0.5 && (k < 0 || w[c] > w[k])) k = c;
      if (k < 0) break;
      const cut = Math.min(total - WIDTH, w[k] - least[k], Math.max(1, w[k] * 0.1));
      w[k] -= cut;
      total -= cut;
    }
    if (total > WIDTH) {
      // Even wrapped the columns do not fit: scale all (text wraps inside each).
      const f = WIDTH / total;
      return w.map((x) => x * f);
    }
    // Room to spare: give it to the row-header column (names read on one line).
    const spare = WIDTH - total;
    const first = table.columns.findIndex((c) => c.row_header);
    w[first >= 0 ? first : 0] += Math.min(spare, 160);
    return w;
  }

  table(parent: Struct, table: Table, o: { headerRow?: boolean; captionShown?: boolean } = {}) {
    const d = this.doc;
    const headerRow = o.headerRow ?? true;
    const min = this.content.min_denominator;
    const numeric = (c: Column) => Boolean(c.format);
    const cells = table.rows.map((row) => table.columns.map((c) => formatCell(row, c, min)));
    const headers = table.columns.map((c) => c.label);
    const widths = this.widths(table, cells, headers);
    const xs = widths.reduce<number[]>((a, w, i) => [...a, i === 0 ? M.left : a[i - 1] + widths[i - 1]], []);
    // Each cell measured in the font it is drawn in (row headers bold), so no wrapped line runs into the next row.
    const cellFont = (c: Column) => (c.row_header && headerRow ? 'Sans-Bold' : REGULAR);
    const rowHeight = (texts: string[], head: boolean) =>
      Math.max(...texts.map((t, i) => d.font(head ? 'Sans-Bold' : cellFont(table.columns[i])).fontSize(FONT_SIZE).heightOfString(t, { width: widths[i] - 2 * PAD.x }))) + 2 * PAD.y;
    const headH = headerRow ? rowHeight(headers, true) : 0;
    const heights = cells.map((row) => rowHeight(row, false));
    const n = table.rows.length;
    const captionText = (i: number, j: number, part: number) => (i > 0 || j < n ? `${table.caption}${part > 0 ? ' (continued)' : ''}: rows ${i + 1}–${j} of ${n.toLocaleString('en-US')}` : table.caption);
    // The longest caption this table can have (a split one), measured: a caption wraps, never runs off the page.
    d.font('Sans-Bold').fontSize(9.5);
    const captionH = d.heightOfString(captionText(n, n, 1), { width: WIDTH }) + 4;
    let i = 0;
    let part = 0;
    do {
      // The rows that fit on this page below the caption and the header row (at least one).
      let avail = BOTTOM - d.y - captionH - headH - (table.note ? 14 : 0);
      if (n > 0 && avail < Math.min(heights[i] * 3, heights.slice(i).reduce((a, b) => a + b, 0)) && !this.pageIsFresh()) {
        this.newPage();
        avail = BOTTOM - d.y - captionH - headH;
      }
      let j = i;
      let used = 0;
      while (j < n && (j === i || used + heights[j] <= avail)) used += heights[j++];
      const split = i > 0 || j < n;
      const struct = d.struct('Table');
      parent.add(struct);
      if (o.captionShown !== false || split) {
        const caption = split ? captionText(i, j, part) : table.caption;
        const y = d.y;
        struct.add(d.struct('Caption', {}, () => d.font('Sans-Bold').fontSize(9.5).fillColor(TEXT).text(caption, M.left, y, { width: WIDTH })));
        d.y = y + d.font('Sans-Bold').fontSize(9.5).heightOfString(caption, { width: WIDTH }) + 4;
      }
      if (headerRow) {
        const y = d.y;
        this.artifact(() => d.save().rect(M.left, y, WIDTH, headH).fill('#e8ecf1').restore());
        const tr = d.struct('TR');
        struct.add(tr);
        table.columns.forEach((c, k) => {
          tr.add(d.struct('TH', { scope: 'Column' } as never, () => {
            d.font('Sans-Bold').fontSize(FONT_SIZE).fillColor(TEXT).text(headers[k], xs[k] + PAD.x, y + PAD.y, { width: widths[k] - 2 * PAD.x, align: numeric(c) ? 'right' : 'left' });
          }));
        });
        tr.end();
        d.y = y + headH;
        this.artifact(() => d.save().moveTo(M.left, d.y).lineTo(M.left + WIDTH, d.y).lineWidth(0.8).strokeColor('#666').stroke().restore());
      }
      for (let k = i; k < j; k++) {
        const y = d.y;
        if ((k - i) % 2 === 1) this.artifact(() => d.save().rect(M.left, y, WIDTH, heights[k]).fill('#f5f7f9').restore());
        const tr = d.struct('TR');
        struct.add(tr);
        table.columns.forEach((c, col) => {
          const tag = c.row_header ? 'TH' : 'TD';
          tr.add(d.struct(tag, (c.row_header ? { scope: 'Row' } : {}) as never, () => {
            d.font(cellFont(c)).fontSize(FONT_SIZE).fillColor(TEXT).text(cells[k][col], xs[col] + PAD.x, y + PAD.y, { width: widths[col] - 2 * PAD.x, align: numeric(c) ? 'right' : 'left' });
          }));
        });
        tr.end();
        d.y = y + heights[k];
      }
      this.artifact(() => d.save().moveTo(M.left, d.y).lineTo(M.left + WIDTH, d.y).lineWidth(0.5).strokeColor('#999').stroke().restore());
      struct.end();
      d.y += 4;
      if (j < n) this.newPage();
      i = j;
      part++;
    } while (i < n);
    if (n === 0) this.text(parent, 'P', 'No rows for this period.', { color: MUTED, gap: 4 });
    if (table.note) this.text(parent, 'P', table.note, { size: 8.5, color: MUTED, gap: 6 });
    d.y += 4;
  }

  /** Running header and footer on every page (artifacts): title, data as of and the zone, "Page 3 of 12". */
  pageFurniture() {
    const d = this.doc;
    const range = d.bufferedPageRange();
    const total = range.count;
    for (let p = range.start; p < range.start + total; p++) {
      d.switchToPage(p);
      // Drawing in the margins must not start a new page.
      const saved = d.page.margins.bottom;
      d.page.margins.bottom = 0;
      this.artifact(() => {
        d.font(REGULAR).fontSize(7.5).fillColor(MUTED);
        if (p > range.start) d.text(this.content.title, M.left, 30, { width: WIDTH, lineBreak: false, ellipsis: true });
        d.text(`Data as of ${this.content.as_of_local}. Dates and times in ${this.content.timezone}.`, M.left, PAGE.height - 40, { width: WIDTH - 80, lineBreak: false, ellipsis: true });
        d.text(`Page ${p - range.start + 1} of ${total}`, M.left + WIDTH - 80, PAGE.height - 40, { width: 80, align: 'right', lineBreak: false });
      }, 'Pagination');
      d.page.margins.bottom = saved;
    }
  }
}
