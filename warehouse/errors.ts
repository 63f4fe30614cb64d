// One error type for everything a caller got wrong (or a resource that is busy): it carries the
// HTTP status the API answers with, the exit code the CLI ends with, and where the problem is
// (`querystring/from`, `body`, `--by`), so every surface reports it the same way. Anything that is
// not a CivicError is our fault: the API answers 500 without details, the CLI prints the stack.

export interface CivicErrorOptions {
  /** HTTP status; 400 by default. */
  status?: number;
  /** Process exit code for the CLI; 1 by default (2 is kept for usage errors). */
  exitCode?: number;
  /** Where the bad value is: an API location such as `querystring/from`, or a parameter name. */
  parameter?: string;
  cause?: unknown;
}

export class CivicError extends Error {
  readonly status: number;
  readonly exitCode: number;
  readonly parameter: string | undefined;
  constructor(message: string, opts: CivicErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.status = opts.status ?? 400;
    this.exitCode = opts.exitCode ?? 1;
    this.parameter = opts.parameter;
  }
  /** Fastify reads `statusCode`; keep the two in step. */
  get statusCode(): number {
    return this.status;
  }
}

/** A bad analysis parameter (window, filter, area kind…): 400, naming the query parameter. */
export class ParameterError extends CivicError {
  constructor(parameter: string, message: string) {
    super(message, { status: 400, parameter: `querystring/${parameter}` });
  }
}

/**
 * The closest few of `valid` to `value` (Levenshtein, case-insensitive), for "did you mean".
 * `maxDistance` leaves out values too far off to be a typo.
 */
export function closest(value: string, valid: readonly string[], n = 3, maxDistance = Infinity): string[] {
  const a = value.toLowerCase();
  const dist = (b: string) => {
    b = b.toLowerCase();
    if (b.includes(a) || a.includes(b)) return Math.abs(a.length - b.length) / 10;
    const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let diag = prev[0];
      prev[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const tmp = prev[j];
        prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
        diag = tmp;
      }
    }
    return prev[b.length];
  };
  return [...valid].map((v) => ({ v, d: dist(v) })).filter((x) => x.d <= maxDistance).sort((x, y) => x.d - y.d || x.v.localeCompare(y.v)).slice(0, n).map((x) => x.v);
}

/** One suggestion, only when it is plausibly a typo (at most a third of the letters off). */
export function didYouMean(value: string, valid: readonly string[]): string | undefined {
  return closest(value, valid, 1, Math.max(1, Math.floor(value.length / 3)))[0];
}
