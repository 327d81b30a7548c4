// Whether the compiled CLI in dist/ may run: only when it was built from the sources as they are now. A stale
// dist/ (a source edited, added or removed after the build started) must never run instead of newer sources, so
// the build records when it started (dist/.built-from-sources, written by scripts/build.mjs after tsc succeeds) and
// every source file and folder must be older than that. Checking ~200 files costs a few milliseconds.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The folders tsconfig.build.json compiles, and the files that change how they compile. */
const SOURCE_DIRS = ['src', 'workflows', 'activities'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

/** Where the build records the time it started, in milliseconds since the epoch. */
export const BUILD_STAMP = join('dist', '.built-from-sources');
export const COMPILED_ENTRY = join('dist', 'src', 'cli', 'main.js');

/** The newest modification time among the sources and their folders (a deleted file changes its folder's). */
export function newestSourceMtime(root) {
  let newest = 0;
  const visit = (path) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    newest = Math.max(newest, stat.mtimeMs);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  for (const dir of SOURCE_DIRS) visit(join(root, dir));
  for (const file of SOURCE_FILES) visit(join(root, file));
  return newest;
}

/** When dist/ was built, or undefined when it was not built by scripts/build.mjs or the build did not finish. */
export function builtAt(root) {
  try {
    const ms = Number(readFileSync(join(root, BUILD_STAMP), 'utf8').trim());
    return Number.isFinite(ms) && statSync(join(root, COMPILED_ENTRY), { throwIfNoEntry: false }) ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** True when dist/ holds a complete build of the current sources. */
export function compiledIsFresh(root) {
  const at = builtAt(root);
  return at !== undefined && newestSourceMtime(root) < at;
}
