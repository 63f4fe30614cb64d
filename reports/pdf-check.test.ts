// The checker has teeth: PDFs missing each thing it checks fail with the checkpoint named.
import { describe, expect, it } from 'vitest';
import PDFDocument from 'pdfkit';
import { checkPdf, checkStructure, parseStructure } from './pdf-check.ts';
import { reportFonts } from './render-pdf.ts';

function pdf(opts: PDFKit.PDFDocumentOptions, draw: (doc: PDFKit.PDFDocument) => void): Promise<Buffer> {
  const doc = new PDFDocument(opts);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((res) => doc.on('end', () => res(Buffer.concat(chunks))));
  draw(doc);
  doc.end();
  return done;
}

const checkpoints = (f: { checkpoint: string }[]) => [...new Set(f.map((x) => x.checkpoint))].sort();

describe('PDF/UA checker', () => {
  it('fails an untagged PDF with the standard Helvetica on every count it can see', async () => {
    const bad = await pdf({ size: 'LETTER' }, (d) => d.text('Hello').moveTo(50, 200).lineTo(200, 200).stroke());
    const f = await checkPdf(bad);
    expect(checkpoints(f)).toEqual(expect.arrayContaining(['01-005', '06-002', '06-003', '07-001', '11-001', '31-009']));
  });

  it('fails a tagged PDF whose figure has no alt text, whose TH has no scope, and whose first heading is H2', async () => {
    const font = reportFonts().regular;
    const bad = await pdf({ size: 'LETTER', tagged: true, subset: 'PDF/UA', lang: 'en-US', displayTitle: true, font, info: { Title: 'Bad' } } as unknown as PDFKit.PDFDocumentOptions, (d) => {
      const root = d.struct('Document');
      d.addStructure(root);
      root.add(d.struct('H2', {}, () => d.text('Second level first', 50, 50)));
      root.add(d.struct('H4', {}, () => d.text('Skips H3', 50, 70)));
      root.add(d.struct('Figure', {}, () => d.rect(50, 100, 40, 40).fill('#000')));
      const table = d.struct('Table');
      root.add(table);
      const tr = d.struct('TR');
      table.add(tr);
      tr.add(d.struct('TH', {}, () => d.text('Head', 50, 200)));
      tr.end();
      table.end();
      // Drawn outside any marked content: neither tagged nor an artifact.
      d.moveTo(50, 300).lineTo(200, 300).stroke();
      root.end();
    });
    const f = await checkPdf(bad);
    expect(checkpoints(f)).toEqual(expect.arrayContaining(['01-005', '13-004', '14-002', '14-003', '15-003', 'PDF/UA 7.3']));
    expect(f.find((x) => x.checkpoint === '13-004')!.page).toBe(1);
  });

  it('reads the structure poppler prints: tags, nesting and attributes', () => {
    const tree = parseStructure('Document\n  Table (block)\n    TR\n      TH:\n         /Scope /Column\n      TD\n    TD\n  L (block)\n    P (block)\n');
    expect(tree.children[0].children[0].children[0].children[0].attrs).toEqual({ Scope: '/Column' });
    const f = checkStructure(tree);
    expect(f.map((x) => x.message)).toEqual(expect.arrayContaining(['TD inside Table (allowed: TR)', 'TD inside Table (allowed: TR, THead, TBody, TFoot, Caption)', 'P inside L (allowed: LI, L, Caption)', 'no heading (H1–H6) in the structure tree']));
  });
});
