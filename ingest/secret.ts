// The key for hashing citizen identifiers. Keyed, so someone holding the warehouse cannot hash a
// phone number and look it up; kept beside the warehouse file (not in it), or given by the
// operator as CIVIC_HASH_KEY.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const perProcess = randomBytes(32).toString('hex');

export function citizenHashKey(databasePath: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.CIVIC_HASH_KEY) return env.CIVIC_HASH_KEY;
  if (databasePath === ':memory:') return perProcess;
  const file = join(dirname(databasePath), '.civic-hash-key');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}
