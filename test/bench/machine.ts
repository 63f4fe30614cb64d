// What a bench ran on and from: the same figures mean little without the machine, the Node
// version and the exact code (a dirty tree is said, since uncommitted changes were measured too).
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

export interface BenchContext {
  date: string;
  cores: number;
  cpu_model: string;
  memory_gib: number;
  node: string;
  platform: string;
  commit: string | null;
  /** Paths with uncommitted changes when the bench started (other work in the tree was measured with it). */
  dirty_paths: string[];
  command: string;
  load_average_1m: number;
  /** glibc's malloc settings the bench ran under (`npm run bench` sets those `npm start` sets): null when none. */
  glibc_tunables?: string | null;
}

function git(args: string[], cwd: string): string | null {
  try {
    // trimEnd only: `git status --porcelain` lines start with a space when only the work tree changed.
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
  } catch {
    return null;
  }
}

export function benchContext(root: string, command: string): BenchContext {
  const status = git(['status', '--porcelain', '--untracked-files=normal'], root);
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpu_model: cpus()[0]?.model?.trim() ?? 'unknown',
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    commit: git(['rev-parse', '--short=12', 'HEAD'], root)?.trim() ?? null,
    dirty_paths: status ? status.split('\n').map((l) => l.slice(3)).filter(Boolean) : [],
    command,
    load_average_1m: Math.round(loadavg()[0] * 100) / 100,
    glibc_tunables: process.env.GLIBC_TUNABLES ?? null,
  };
}
