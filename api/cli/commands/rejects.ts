// civic rejects <batch_id>: the rows a batch did not load, and why — through the running server
// when there is one.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';

const USAGE = 'usage: civic rejects <batch_id> [--json|--csv] [--limit N] [--offset N]';

function count(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 100_000) throw new UsageError(`--${name}: "${value}" is not a whole number from ${min} to 100000`);
  return n;
}

export const run: Command = async (argv) => {
  const { values, positionals } = parseCommandArgs(argv, {
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
    limit: { type: 'string' },
    offset: { type: 'string' },
  });
  const [batch, ...extra] = positionals;
  if (!batch || extra.length) throw new UsageError(USAGE);
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(batch)) throw new UsageError(`"${batch}" is not a batch id (each ingest prints its batch id, e.g. b_20250101120000_1a2b3c4d)`);
  const page = { limit: count('limit', values.limit, 1000, 1), offset: count('offset', values.offset, 0, 0) };
  const { withAdmin } = await import('../admin.ts');
  if (values.csv) {
    process.stdout.write(await withAdmin(values, (admin) => admin.rejectsCsv(batch, page)));
    return 0;
  }
  const r = await withAdmin(values, (admin) => admin.rejects(batch, page));
  if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else if (r.total === 0) process.stdout.write(`no rejects in batch ${batch}\n`);
  else {
    process.stdout.write(`batch ${r.batch_id}${r.file_name ? ` (${r.file_name})` : ''}: ${r.total} of ${r.rows_read ?? '?'} rows rejected\n`);
    if (r.rows.length) console.table(r.rows.map((x) => ({ row: x.row_number, field: x.field, reason: x.reason })));
    const last = r.offset + r.rows.length;
    if (r.offset > 0 || last < r.total) process.stdout.write(`rows ${r.rows.length ? `${r.offset + 1}–${last}` : 'none'} of ${r.total} shown; --limit N and --offset N for others\n`);
  }
  return 0;
};
