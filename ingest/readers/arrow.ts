// Arrow IPC (stream or file format), as written by pandas/pyarrow, Polars, DuckDB or Spark.
import { readFileSync } from 'node:fs';
import { RecordBatchReader, Type } from 'apache-arrow';
import { SourceFormatError, type ReadResult, type Values } from './records.ts';

export function readArrow(file: string): ReadResult {
  let reader: RecordBatchReader;
  try {
    reader = RecordBatchReader.from(readFileSync(file));
    reader.open();
  } catch (err) {
    throw new SourceFormatError(`${file} is not an Arrow IPC stream or file: ${(err as Error).message}`);
  }
  const result: ReadResult = { records: [], children: {}, unreadable: [] };
  try {
    readBatches(reader, result);
  } catch (err) {
    if (err instanceof SourceFormatError) throw err;
    throw new SourceFormatError(`${file} is not a readable Arrow IPC stream or file: ${(err as Error).message}`);
  }
  if (result.records.length === 0) throw new SourceFormatError(`${file} holds no rows: there is nothing to load`);
  return result;
}

function readBatches(reader: RecordBatchReader, result: ReadResult): void {
  let row = 0;
  for (const batch of reader) {
    const fields = batch.schema.fields;
    const cols = fields.map((f) => batch.getChild(f.name)!);
    for (let i = 0; i < batch.numRows; i++) {
      row += 1;
      const values: Values = {};
      fields.forEach((f, c) => {
        const v = cols[c].get(i);
        if (v === null || v === undefined) values[f.name] = null;
        // A timestamp with a zone is an instant (kept with its Z); one without (pandas' default) is
        // a wall-clock time, read in the profile's zone like a CSV's; a date is just a date.
        else if (f.type.typeId === Type.Timestamp) {
          const iso = new Date(Number(v)).toISOString();
          values[f.name] = (f.type as { timezone?: string | null }).timezone ? iso : iso.slice(0, -1);
        } else if (f.type.typeId === Type.Date) values[f.name] = new Date(Number(v)).toISOString().slice(0, 10);
        else if (typeof v === 'object') values[f.name] = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
        else values[f.name] = String(v);
      });
      result.records.push({ row_number: row, values });
    }
  }
}
