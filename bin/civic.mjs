#!/usr/bin/env node
// The `civic` command. The code is TypeScript run through tsx, so there is no separate compile step.
//
// Kept light on purpose. Node 20 runs a loader's hooks on a thread of their own, and every module
// imported after register() makes the round trip: TypeBox, some 700 files, then loads two to three
// times slower. Commands that read civic.config.json (validated with TypeBox) get it loaded
// natively first, which only saves time: the modules are the same either way. `--help`, usage
// errors and `token`/`rejects` through a running server never need it.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
const WITHOUT_CONFIG = new Set(['token', 'rejects']);
if (command && /^[a-z]+$/.test(command) && !WITHOUT_CONFIG.has(command) && !process.argv.includes('--help') && !process.argv.includes('-h') &&
    existsSync(new URL(`../api/cli/commands/${command}.ts`, import.meta.url))) {
  await Promise.all([import('typebox'), import('typebox/value')]);
}
register();
await import('../api/cli/index.ts');
