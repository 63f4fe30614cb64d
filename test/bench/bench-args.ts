// The bench's command line. A bad value stops the run before anything is built, naming the flag
// (a 20-minute run that fails at its last step on a typo is the cost otherwise).

export type BenchPart = 'ingest' | 'analytics' | 'http';
export const PARTS: readonly BenchPart[] = ['ingest', 'analytics', 'http'];

export interface BenchArgs {
  quick: boolean;
  only: BenchPart | null;
  /** Ingest: rows in the largest file. */
  rows?: number;
  /** Analytics: the warehouse sizes, in cases. */
  cases?: number[];
  /** HTTP: seconds a run and connections. */
  seconds?: number;
  connections?: number;
}

export const USAGE = `npm run bench [-- --quick] [--only ingest|analytics|http] [--rows N] [--cases N[,N…]] [--seconds S] [--connections C]`;

export class BenchArgError extends Error {}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new BenchArgError(`${name} needs a value`);
    return v;
  };
  const whole = (name: string, v: string | undefined, ok: (n: number) => boolean, what: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || !ok(n)) throw new BenchArgError(`${name} must be ${what} (got "${v}")`);
    return n;
  };
  const known = new Set(['--quick', '--only', '--rows', '--cases', '--seconds', '--connections']);
  argv.forEach((a, i) => {
    if (a.startsWith('--') && !known.has(a)) throw new BenchArgError(`unknown option ${a}`);
    if (!a.startsWith('--') && (i === 0 || !known.has(argv[i - 1]) || argv[i - 1] === '--quick')) throw new BenchArgError(`unexpected argument "${a}"`);
  });
  const only = value('--only');
  if (only !== undefined && !PARTS.includes(only as BenchPart)) throw new BenchArgError('--only takes ingest, analytics or http');
  const cases = value('--cases')?.split(',').map((c) => whole('--cases', c, (n) => n >= 1000, 'whole numbers of at least 1000, separated by commas')!);
  return {
    quick: argv.includes('--quick'),
    only: (only as BenchPart | undefined) ?? null,
    rows: whole('--rows', value('--rows'), (n) => n >= 4 && n % 4 === 0, 'a whole number divisible by 4'),
    cases,
    seconds: whole('--seconds', value('--seconds'), (n) => n >= 1, 'a whole number of seconds, at least 1'),
    connections: whole('--connections', value('--connections'), (n) => n >= 1, 'a whole number, at least 1'),
  };
}
