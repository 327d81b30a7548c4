/**
 * Where Shepherd keeps its project-local files. Everything lives under `.shepherd/` in the project root
 * (git-ignored): the virtualenv with the Temporal binaries, and the state folder of the embedded dev server.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return start;
    dir = up;
  }
}

/** The folder holding Shepherd's package.json (works from sources and from the compiled `dist/`). */
export const PROJECT_ROOT = findRoot(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'));

export const SHEPHERD_DIR = join(PROJECT_ROOT, '.shepherd');
export const DEFAULT_STATE_DIR = join(SHEPHERD_DIR, 'state');
export const VENV_BIN = join(SHEPHERD_DIR, 'venv', 'bin');
