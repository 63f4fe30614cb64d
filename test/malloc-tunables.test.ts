// `npm start` and `npm run bench` run Node under the same glibc malloc settings (README,
// Performance: *Node's malloc keeps its memory*): the bench measures what the server does only if
// both carry the same string, and glibc ignores a misspelt tunable without a word, so each name is
// checked against the tunables this machine's glibc lists, with the value it took.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;
const tunablesOf = (script: string) => /^GLIBC_TUNABLES=(\S+) /.exec(script)?.[1] ?? null;
const LD_SO = '/lib64/ld-linux-x86-64.so.2';

describe('glibc malloc tunables of the server and the bench', () => {
  it('are set, and the same, in `npm start` and `npm run bench`', () => {
    const start = tunablesOf(scripts.start);
    expect(start).toMatch(/^glibc\.malloc\./);
    expect(tunablesOf(scripts.bench)).toBe(start);
  });

  it.runIf(existsSync(LD_SO))('name tunables this glibc knows, which take the values given', () => {
    const given = tunablesOf(scripts.start)!.split(':').map((kv) => kv.split('='));
    const listed = execFileSync(LD_SO, ['--list-tunables'], { env: { GLIBC_TUNABLES: tunablesOf(scripts.start)! }, encoding: 'utf8' });
    const values = new Map(listed.split('\n').map((l) => /^(\S+): (\S+)/.exec(l)).filter((m) => m !== null).map((m) => [m![1], m![2]]));
    for (const [name, value] of given) {
      expect(values.has(name), `${name} is a tunable of this glibc`).toBe(true);
      expect(Number(values.get(name)), `${name} took ${value}`).toBe(Number(value));
    }
  });
});
