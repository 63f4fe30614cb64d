// `npm start` and `npm run bench` run Node under the same glibc malloc settings (README,
// Performance; PERFORMANCE.md, *Node's malloc keeps blocks up to 32 MiB*): the bench measures what the server does only if
// both carry the same string. glibc ignores a misspelt tunable or a bad value without a word, so
// the setting is tested by its effect: memory a Node process frees (here 100 MiB of buffers, each
// under the 32 MiB at which the setting still maps a block of its own) stays with the process for
// its next read with the setting, and goes back to the system without it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;
const tunablesOf = (script: string) => /^GLIBC_TUNABLES=(\S+) /.exec(script)?.[1] ?? null;

// RSS in MiB before, at the peak and after freeing buffers of the given sizes in MiB, allocated and touched.
const PROBE = (mib: number[]) => `
const rss = () => process.memoryUsage().rss / 2 ** 20;
const before = rss();
let held = ${JSON.stringify(mib)}.map((m) => new Uint8Array(m * 2 ** 20).fill(1));
const peak = rss();
held = null;
globalThis.gc(); globalThis.gc();
setTimeout(() => { globalThis.gc(); console.log(JSON.stringify({ before, peak, after: rss() })); }, 100);`;

function probe(tunables: string | null, mib: number[]): { before: number; peak: number; after: number } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.GLIBC_TUNABLES;
  if (tunables) env.GLIBC_TUNABLES = tunables;
  return JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', PROBE(mib)], { env, encoding: 'utf8' })) as { before: number; peak: number; after: number };
}

const glibc = process.platform === 'linux' && Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime);

describe('glibc malloc tunables of the server and the bench', () => {
  it('are set, and the same, in `npm start` and `npm run bench`', () => {
    const start = tunablesOf(scripts.start);
    expect(start).toMatch(/^glibc\.malloc\./);
    expect(tunablesOf(scripts.bench)).toBe(start);
  });

  it.runIf(glibc)('keep freed buffers with the process, where glibc\'s defaults give them back', () => {
    const without = probe(null, [20, 20, 20, 20, 20]);
    const withSetting = probe(tunablesOf(scripts.start), [20, 20, 20, 20, 20]);
    // 100 MiB were resident at the peak either way.
    expect(without.peak - without.before).toBeGreaterThan(90);
    expect(withSetting.peak - withSetting.before).toBeGreaterThan(90);
    // Given back without the setting; kept with it.
    expect(without.peak - without.after).toBeGreaterThan(80);
    expect(withSetting.peak - withSetting.after).toBeLessThan(20);
  });

  it.runIf(glibc)('still give a block over 32 MiB back to the system: what a process keeps is bounded', () => {
    const big = probe(tunablesOf(scripts.start), [64]);
    expect(big.peak - big.before).toBeGreaterThan(60);
    expect(big.peak - big.after).toBeGreaterThan(55);
  });
});
