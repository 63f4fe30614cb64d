// BENCHMARKS.md: one run's figures with what they were measured on and from, so a reader can
// tell whether two sets of figures are comparable (same machine, same code, same load).
import type { BenchContext } from './machine.ts';

export interface BenchSection { title: string; seconds: number; intro: string; body: string }

export function renderBenchmarksMd(ctx: BenchContext, sections: BenchSection[], totalSeconds: number, loadAfter: number): string {
  const minutes = (s: number) => (s < 120 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`);
  const dirty = ctx.dirty_paths.length
    ? `, **dirty tree**: ${ctx.dirty_paths.length} uncommitted path${ctx.dirty_paths.length > 1 ? 's' : ''} measured with it (${ctx.dirty_paths.slice(0, 8).map((p) => `\`${p}\``).join(', ')}${ctx.dirty_paths.length > 8 ? ', …' : ''})`
    : ', clean tree';
  return [
    '# Benchmarks',
    '',
    `Written by \`${ctx.command}\` (test/bench/run.ts); the figures are also in \`data/bench/*.json\`. ` +
      'Each figure stands beside its limit measured in the same run on the same machine, with the ratio: ' +
      'absolute times move with the machine and its load, the ratios much less.',
    '',
    '| | |',
    '|---|---|',
    `| date | ${ctx.date.slice(0, 16).replace('T', ' ')} UTC |`,
    `| machine | ${ctx.cores} cores (${ctx.cpu_model}), ${ctx.memory_gib} GiB RAM, ${ctx.platform} |`,
    `| Node | ${ctx.node} |`,
    `| code | commit \`${ctx.commit ?? 'unknown'}\`${dirty} |`,
    `| command | \`${ctx.command}\` |`,
    `| malloc (GLIBC_TUNABLES) | ${ctx.glibc_tunables ? `\`${ctx.glibc_tunables}\`` : 'glibc defaults'} |`,
    `| load average (1 min) | ${ctx.load_average_1m.toFixed(2)} at the start, ${loadAfter.toFixed(2)} at the end (on ${ctx.cores} cores, above ${ctx.cores} means work was waiting for a CPU: other sessions' too) |`,
    `| whole run | ${minutes(totalSeconds)} (${sections.map((s) => `${s.title.toLowerCase()} ${minutes(s.seconds)}`).join(', ')}) |`,
    '',
    ...sections.flatMap((s) => [`## ${s.title}`, '', s.intro, '', s.body, '']),
  ].join('\n');
}
