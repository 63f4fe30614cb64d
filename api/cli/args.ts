// What every command module shares, kept free of heavy imports: the CLI's entry point loads it
// before it knows which command runs.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CivicError } from '../../warehouse/errors.ts';

/** A command used wrongly: exit code 2, and the usage is printed after the message. */
export class UsageError extends CivicError {
  constructor(message: string) {
    super(message, { exitCode: 2 });
  }
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS = {
  database: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

type Options = NonNullable<ParseArgsConfig['options']>;

/** A command's own options plus the global ones; an unknown option is a usage error (ERR_PARSE_ARGS_*). */
export function parseCommandArgs<O extends Options>(args: string[], options: O) {
  return parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options } as O & typeof GLOBAL_OPTIONS, allowPositionals: true, strict: true });
}

/** A command module: its arguments (without the command's name) → the exit code; -1 keeps the process running. */
export type Command = (args: string[]) => Promise<number>;
