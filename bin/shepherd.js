#!/usr/bin/env -S node --
// Runs the compiled CLI when dist/ holds a build of the current sources (`npm run build`, or set-up), and the
// TypeScript sources through tsx otherwise: a stale build never runs instead of newer sources.
// SHEPHERD_RUN_SOURCES=1 runs the sources even when a fresh build exists (the test tiers set it).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compiledIsFresh, COMPILED_ENTRY } from './compiled.js';

// A reader that goes away (`shepherd status | head`) is not an error of Shepherd's: stop quietly, as `cat` would,
// instead of crashing with an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let entry = join(root, COMPILED_ENTRY);
if (process.env.SHEPHERD_RUN_SOURCES === '1' || !compiledIsFresh(root)) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = join(root, 'src', 'cli', 'main.ts');
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));

// The command has its exit code and has closed its Temporal connection. A gRPC retry timer still armed for a call
// whose answer nobody waits for any more then fails with "Channel has been shut down" (seen once under load after
// `promote --follow` printed its result); it cannot change the outcome, so it must not turn exit 0 into a crash.
// Anything else still crashes as Node would (message on stderr, exit 1).
process.on('uncaughtException', (err) => {
  if (err instanceof Error && err.message === 'Channel has been shut down') return;
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
