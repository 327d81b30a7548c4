#!/usr/bin/env node
// `npm run bench`: issue 14's benchmark (src/bench/main.ts), run from the TypeScript sources through tsx; `--help`
// lists the options. One process, so that a SIGINT/SIGTERM from npm reaches the bench, which stops what it started.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { register } = await import('tsx/esm/api');
register();
const { main } = await import(pathToFileURL(join(root, 'src', 'bench', 'main.ts')).href);
process.exitCode = await main(process.argv.slice(2));
