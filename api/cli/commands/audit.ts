// civic audit: who read staff data (principal, route, parameters, rows, time), newest first —
// through the running server when there is one, else from the warehouse file.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';

const USAGE = 'usage: civic audit [--since D] [--until D] [--principal ID|NAME] [--route /api/kpis] [--limit N] [--offset N] [--json|--csv]';

function count(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: "${value}" is not a whole number from ${min} to ${max}`);
  return n;
}

const dateish = (name: string, v: string | undefined) => {
  if (v !== undefined && !/^\d{4}-\d{2}-\d{2}(T.*)?$/.test(v)) throw new UsageError(`--${name}: "${v}" is not a date (2026-11-01) or a date-time (2026-11-01T08:00:00Z)`);
  return v;
};

export const run: Command = async (argv) => {
  const { values, positionals } = parseCommandArgs(argv, {
    since: { type: 'string' },
    until: { type: 'string' },
    principal: { type: 'string' },
    route: { type: 'string' },
    limit: { type: 'string' },
    offset: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
  });
  if (positionals.length) throw new UsageError(USAGE);
  const query = {
    since: dateish('since', values.since),
    until: dateish('until', values.until),
    principal: values.principal,
    route: values.route,
    limit: count('limit', values.limit, 100, 1, 10_000),
    offset: count('offset', values.offset, 0, 0, Number.MAX_SAFE_INTEGER),
  };
  const { withAdmin } = await import('../admin.ts');
  if (values.csv) {
    process.stdout.write(await withAdmin(values, (admin) => admin.auditCsv(query)));
    return 0;
  }
  const r = await withAdmin(values, (admin) => admin.audit(query));
  if (values.json) {
    process.stdout.write(JSON.stringify({ total: r.total, limit: query.limit, offset: query.offset, entries: r.entries }, null, 2) + '\n');
    return 0;
  }
  if (r.total === 0) {
    process.stdout.write('no audit rows match\n');
    return 0;
  }
  console.table(
    r.entries.map((e) => ({
      at: e.at.replace('T', ' ').slice(0, 19),
      principal: `${e.principal_name} (${e.role}${e.agencies ? `: ${e.agencies.join(', ')}` : ''})`,
      via: e.via,
      request: `${e.method} ${e.route}`,
      parameters: Object.entries(e.parameters).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('&'),
      status: e.status,
      rows: e.rows_returned ?? '',
    })),
  );
  const last = query.offset + r.entries.length;
  if (query.offset > 0 || last < r.total) process.stdout.write(`rows ${r.entries.length ? `${query.offset + 1}–${last}` : 'none'} of ${r.total} shown; --limit N and --offset N for others\n`);
  return 0;
};
