#!/usr/bin/env node
// The `civic` command. The code is TypeScript run through tsx, so there is no separate compile step.
import { register } from 'tsx/esm/api';

register();
await import('../api/cli.ts');
