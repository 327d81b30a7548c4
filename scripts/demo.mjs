#!/usr/bin/env node
// `npm run demo` (`exec node scripts/demo.mjs`): set-up, then `shepherd demo` in this same process. npm runs a
// script through `sh -c`, and a
// SIGTERM that npm forwards to `sh -c "setup && shepherd demo"` ends the shell but not the demo under it (the demo,
// its worker and its dev server would run on, orphaned). As one process, the signal reaches the demo, which stops
// what it started.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const setup = spawnSync(process.execPath, [join(here, 'setup.mjs')], { stdio: 'inherit' });
if (setup.status !== 0) process.exit(setup.status ?? 1);
process.argv.splice(2, 0, 'demo');
await import('../bin/shepherd.js');
