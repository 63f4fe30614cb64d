// Open311 GeoReport v2 XML (`<service_requests><request>…`), and any XML list of flat records.
import { readFileSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { flattenRecord, SourceFormatError, type ChildRecord, type ReadResult } from './records.ts';

export function readXmlRecords(file: string, recordElement = 'request'): ReadResult {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new SourceFormatError(`${file} is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  }
  const parser = new XMLParser({
    ignoreAttributes: true,
    // Keep every value as text: "006" is a service code, not the number 6.
    parseTagValue: false,
    trimValues: true,
    isArray: (name) => name === recordElement || name === 'note',
  });
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch (err) {
    // e.g. a DOCTYPE declaring external entities (XXE): refused by the parser, and so by us.
    throw new SourceFormatError(`${file} cannot be read as XML: ${(err as Error).message}`);
  }
  const root = Object.values(doc).find((v) => v && typeof v === 'object') as Record<string, unknown> | undefined;
  const list = root?.[recordElement];
  if (root && 'error' in root) throw new SourceFormatError(`${file} is an Open311 error response, not data: ${JSON.stringify(root.error)}`);
  if (!Array.isArray(list)) throw new SourceFormatError(`${file}: no <${recordElement}> elements under the root element`);
  const children: Record<string, ChildRecord[]> = {};
  const result: ReadResult = { records: [], children, unreadable: [] };
  list.forEach((item, i) => {
    const obj = item && typeof item === 'object' ? (item as Record<string, unknown>) : {};
    // <notes><note>…</note></notes> → an array under "notes", as in the JSON form.
    if (obj.notes && typeof obj.notes === 'object' && Array.isArray((obj.notes as Record<string, unknown>).note)) obj.notes = (obj.notes as Record<string, unknown>).note;
    for (const [k, v] of Object.entries(obj)) if (v === '') obj[k] = null;
    result.records.push({ row_number: i + 1, values: flattenRecord(obj, i + 1, children) });
  });
  return result;
}
