// An offline PDF/UA checker for the reports, built on poppler (pdfinfo -struct/-meta, pdffonts)
// and pdfjs-dist 4 (getStructTree, getMetadata, getViewerPreferences, getMarkInfo, operator
// lists). It checks the machine-checkable Matterhorn Protocol conditions a report could fail —
// see reports/README.md for which ones and which it cannot. Returns failures; [] = passes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PdfFailure {
  /** The Matterhorn Protocol 1.1 checkpoint (or "PDF/UA" for a clause it has no number for). */
  checkpoint: string;
  message: string;
  page?: number;
}

interface Node { tag: string; attrs: Record<string, string>; children: Node[]; parent: Node | null }

/** `pdfinfo -struct` as a tree: each line an element ("TH:" when attributes follow) or an attribute ("/Scope /Column"). */
export function parseStructure(text: string): Node {
  const root: Node = { tag: '#root', attrs: {}, children: [], parent: null };
  const stack: { indent: number; node: Node }[] = [{ indent: -1, node: root }];
  let last: Node | null = null;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const indent = line.length - line.trimStart().length;
    const attr = /^\s*\/(\w+)\s+(.*)$/.exec(line);
    if (attr && last) {
      last.attrs[attr[1]] = attr[2].trim();
      continue;
    }
    const el = /^\s*([A-Za-z][\w-]*)(?:\s*\(.*\))?:?\s*$/.exec(line);
    if (!el) continue;
    while (stack.length > 1 && stack[stack.length - 1].indent >= indent) stack.pop();
    const parent = stack[stack.length - 1].node;
    const node: Node = { tag: el[1], attrs: {}, children: [], parent };
    parent.children.push(node);
    stack.push({ indent, node });
    last = node;
  }
  return root;
}

const walk = (n: Node, f: (n: Node) => void) => { f(n); for (const c of n.children) walk(c, f); };

/** What Table 337 of ISO 32000-1 allows as a parent (Matterhorn 09-004, 09-005). */
const PARENTS: Record<string, string[]> = {
  TR: ['Table', 'THead', 'TBody', 'TFoot'],
  TH: ['TR'],
  TD: ['TR'],
  THead: ['Table'],
  TBody: ['Table'],
  TFoot: ['Table'],
  LI: ['L'],
  Lbl: ['LI', 'BibEntry', 'Note'],
  LBody: ['LI'],
};
const CHILDREN: Record<string, string[]> = {
  Table: ['TR', 'THead', 'TBody', 'TFoot', 'Caption'],
  TR: ['TH', 'TD'],
  L: ['LI', 'L', 'Caption'],
  LI: ['Lbl', 'LBody'],
};

/** Checks the structure tree as poppler reads it. */
export function checkStructure(tree: Node): PdfFailure[] {
  const out: PdfFailure[] = [];
  const all: Node[] = [];
  walk(tree, (n) => n !== tree && all.push(n));
  if (all.length === 0) return [{ checkpoint: '01-005', message: 'no structure tree: the content is not tagged' }];
  // Headings: the first is H1, and no level is skipped on the way down.
  const headings = all.filter((n) => /^H[1-6]$/.test(n.tag)).map((n) => Number(n.tag[1]));
  if (headings.length === 0) out.push({ checkpoint: '14-001', message: 'no heading (H1–H6) in the structure tree' });
  else {
    if (headings[0] !== 1) out.push({ checkpoint: '14-002', message: `the first heading is H${headings[0]}, not H1` });
    for (let i = 1; i < headings.length; i++) {
      if (headings[i] > headings[i - 1] + 1) out.push({ checkpoint: '14-003', message: `heading level skipped: H${headings[i - 1]} followed by H${headings[i]}` });
    }
  }
  for (const n of all) {
    const parents = PARENTS[n.tag];
    if (parents && !parents.includes(n.parent!.tag)) out.push({ checkpoint: n.tag.startsWith('L') ? '09-005' : '09-004', message: `${n.tag} inside ${n.parent!.tag} (allowed: ${parents.join(', ')})` });
    const kids = CHILDREN[n.tag];
    if (kids) for (const c of n.children) if (!kids.includes(c.tag)) out.push({ checkpoint: n.tag === 'L' || n.tag === 'LI' ? '09-005' : '09-004', message: `${c.tag} inside ${n.tag} (allowed: ${kids.join(', ')})` });
    if (n.tag === 'TH' && !n.attrs.Scope && !n.attrs.Headers) out.push({ checkpoint: '15-003', message: 'a TH cell has no Scope attribute (and the table no Headers/IDs)' });
    if (n.tag === 'TD' && n.attrs.Scope) out.push({ checkpoint: '15-003', message: 'a TD cell has a Scope: it should be a TH' });
    if (n.tag === 'Figure' && !n.attrs.BBox) out.push({ checkpoint: 'PDF/UA 7.3', message: 'a Figure has no bounding box (Layout BBox attribute)' });
    if (n.tag === 'Table') {
      const rows: Node[] = [];
      walk(n, (x) => x.tag === 'TR' && rows.push(x));
      if (rows.length === 0) out.push({ checkpoint: '09-004', message: 'a Table has no rows' });
      if (!rows.some((r) => r.children.some((c) => c.tag === 'TH'))) out.push({ checkpoint: '15-005', message: 'a Table has no header cell (TH): no cell\'s header can be determined' });
      const widths = new Set(rows.map((r) => r.children.length));
      if (widths.size > 1) out.push({ checkpoint: '15-001', message: `a Table's rows have ${[...widths].join(' and ')} cells (irregular; no RowSpan/ColSpan used)` });
    }
  }
  return out;
}

const PAINT_OPS = ['showText', 'showSpacedText', 'nextLineShowText', 'nextLineSetSpacingShowText', 'fill', 'eoFill', 'stroke', 'fillStroke', 'eoFillStroke', 'closeStroke', 'closeFillStroke', 'closeEOFillStroke', 'paintImageXObject', 'paintInlineImageXObject', 'paintImageMaskXObject', 'shadingFill'] as const;

/** Runs the whole check on a PDF (a path or its bytes). */
export async function checkPdf(input: string | Buffer): Promise<PdfFailure[]> {
  const dir = typeof input === 'string' ? null : mkdtempSync(join(tmpdir(), 'pdf-check-'));
  const file = typeof input === 'string' ? input : join(dir!, 'in.pdf');
  if (dir) writeFileSync(file, input as Buffer);
  try {
    return [...checkPoppler(file), ...(await checkPdfjs(readFileSync(file)))];
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function checkPoppler(file: string): PdfFailure[] {
  const out: PdfFailure[] = [];
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
  if (field('Tagged') !== 'yes') out.push({ checkpoint: '01-005', message: 'the document is not tagged (MarkInfo Marked is not true)' });
  if (field('Suspects') === 'yes') out.push({ checkpoint: '01-007', message: 'MarkInfo Suspects is true' });
  if (field('Encrypted') !== 'no') out.push({ checkpoint: '26-001', message: 'the file is encrypted (assistive technology may be denied access)' });
  if (!field('Title')) out.push({ checkpoint: '06-003', message: 'no document title (Info Title)' });
  const meta = execFileSync('pdfinfo', ['-meta', file], { encoding: 'utf8' });
  if (!meta.includes('x:xmpmeta')) out.push({ checkpoint: '06-001', message: 'no XMP metadata stream' });
  if (!/<pdfuaid:part>1<\/pdfuaid:part>|pdfuaid:part="1"/.test(meta)) out.push({ checkpoint: '06-002', message: 'the XMP metadata has no PDF/UA identifier (pdfuaid:part 1)' });
  if (!/<dc:title>[\s\S]*?<rdf:li[^>]*>\s*\S[\s\S]*?<\/rdf:li>[\s\S]*?<\/dc:title>/.test(meta)) out.push({ checkpoint: '06-003', message: 'the XMP metadata has no dc:title' });
  out.push(...checkStructure(parseStructure(execFileSync('pdfinfo', ['-struct', file], { encoding: 'utf8', maxBuffer: 1 << 28 }))));
  // pdffonts: name type encoding emb sub uni object ID — every font embedded and mapped to Unicode.
  const fonts = execFileSync('pdffonts', [file], { encoding: 'utf8' }).split('\n').slice(2).filter((l) => l.trim());
  for (const l of fonts) {
    const cols = l.trim().split(/\s+/);
    const [emb, , uni] = cols.slice(-5, -2);
    const name = cols[0];
    if (emb !== 'yes') out.push({ checkpoint: '31-009', message: `font ${name} is not embedded` });
    if (uni !== 'yes') out.push({ checkpoint: '10-001', message: `font ${name} has no ToUnicode map: its text cannot be mapped to Unicode` });
  }
  return out;
}

async function checkPdfjs(bytes: Buffer): Promise<PdfFailure[]> {
  const { getDocument, OPS } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const out: PdfFailure[] = [];
  const pdf = await getDocument({ data: new Uint8Array(bytes), verbosity: 0, isEvalSupported: false }).promise;
  try {
    const meta = await pdf.getMetadata();
    const info = meta.info as Record<string, unknown>;
    if (!info.Language) out.push({ checkpoint: '11-001', message: 'no document language (Catalog Lang)' });
    const xmpTitle = meta.metadata?.get('dc:title');
    if (!xmpTitle) out.push({ checkpoint: '06-003', message: 'pdfjs reads no dc:title in the XMP metadata' });
    const prefs = (await pdf.getViewerPreferences()) as Record<string, unknown> | null;
    if (!prefs || !('DisplayDocTitle' in prefs)) out.push({ checkpoint: '07-001', message: 'ViewerPreferences has no DisplayDocTitle' });
    else if (prefs.DisplayDocTitle !== true) out.push({ checkpoint: '07-002', message: 'DisplayDocTitle is false' });
    const mark = (await pdf.getMarkInfo()) as { Marked?: boolean } | null;
    if (!mark?.Marked) out.push({ checkpoint: '01-005', message: 'MarkInfo Marked is not true' });

    const paint = new Set<number>(PAINT_OPS.map((n) => (OPS as Record<string, number>)[n]).filter((x) => x !== undefined));
    for (let p = 1; p <= pdf.numPages; p++) {
      const page = await pdf.getPage(p);
      const tree = await page.getStructTree();
      const ids = new Set<string>();
      const figures: { alt?: string }[] = [];
      const visit = (n: { role?: string; type?: string; id?: string; alt?: string; children?: unknown[] }) => {
        if (n.type === 'content' && n.id) ids.add(n.id);
        if (n.role === 'Figure') figures.push(n);
        for (const c of (n.children ?? []) as typeof n[]) visit(c);
      };
      if (tree) visit(tree as never);
      for (const f of figures) if (!f.alt || !f.alt.trim()) out.push({ checkpoint: '13-004', message: 'a Figure has no alternative text', page: p });

      // Every painting operator inside marked content (tagged or Artifact), no Artifact inside
      // tagged content nor tagged content inside an Artifact.
      const ops = await page.getOperatorList();
      const stack: ('artifact' | 'tagged' | 'other')[] = [];
      let untagged = 0;
      let nested = 0;
      for (let i = 0; i < ops.fnArray.length; i++) {
        const fn = ops.fnArray[i];
        if (fn === OPS.beginMarkedContent || fn === OPS.beginMarkedContentProps) {
          // pdfjs gives BDC as [tag, MCID or null] and BMC as [tag] (a name).
          const [t, mcid] = ops.argsArray[i] as [string | { name: string }, unknown];
          const tag = typeof t === 'string' ? t : t?.name;
          const kind = tag === 'Artifact' ? 'artifact' : Number.isInteger(mcid) ? 'tagged' : 'other';
          if ((kind === 'artifact' && stack.includes('tagged')) || (kind === 'tagged' && stack.includes('artifact'))) nested++;
          stack.push(kind);
        } else if (fn === OPS.endMarkedContent) {
          stack.pop();
        } else if (paint.has(fn) && !stack.some((k) => k === 'artifact' || k === 'tagged')) {
          untagged++;
        }
      }
      if (untagged) out.push({ checkpoint: '01-005', message: `${untagged} painting operation(s) neither tagged nor marked as Artifact`, page: p });
      if (nested) out.push({ checkpoint: '01-003', message: `${nested} Artifact/tagged content sequence(s) nested inside the other kind`, page: p });

      // Tagged text belongs to the structure tree.
      const text = await page.getTextContent({ includeMarkedContent: true });
      let orphan = 0;
      for (const item of text.items as { type?: string; id?: string | null; tag?: string }[]) {
        if (item.type === 'beginMarkedContentProps' && item.tag !== 'Artifact' && item.id && !ids.has(item.id)) orphan++;
      }
      if (orphan) out.push({ checkpoint: '01-005', message: `${orphan} marked-content sequence(s) with an MCID that no structure element refers to`, page: p });
      page.cleanup();
    }
  } finally {
    await pdf.destroy();
  }
  return out;
}
