#!/usr/bin/env node
// `npm run build`: compiles src/, workflows/ and activities/ into dist/ and, once tsc has succeeded, records the
// time the build started in dist/.built-from-sources. bin/shepherd.js runs dist/ only when every source is older
// than that time, so a file edited while tsc ran makes the build count as stale.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_STAMP } from '../bin/compiled.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, BUILD_STAMP);
const startedAt = Date.now();
rmSync(stamp, { force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  process.stderr.write(
    `[build] tsc failed (${result.error?.message ?? `exit code ${result.status}`}); the CLI keeps running the sources through tsx. Fix the errors above (npm run typecheck) and run npm run build again.\n`,
  );
  process.exit(1);
}
mkdirSync(dirname(stamp), { recursive: true });
writeFileSync(stamp, `${startedAt}\n`);
