#!/usr/bin/env node
// `npm run bench:startup`: how long `shepherd` takes to start, beside `node -e 0` measured in the same run (the
// floor no Node CLI beats on this machine). Each command runs RUNS times as a new process; the median counts.
//   shepherd --help   target ≤ 300 ms: loads no command module
//   shepherd status   target ≤ 1 s: connects and lists the running runs with one query, against a Temporal dev
//                     server this script starts on free ports in a temporary state folder (and stops)
// The CLI runs from dist/ when `npm run build` (or set-up) has built the current sources, else through tsx; both
// are measured when the build is fresh. Exit 0 either way: the figures are the result.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledIsFresh } from '../bin/compiled.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'shepherd.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function freePort() {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => res(port));
    });
  });
}

/** Median wall time in ms of RUNS runs of `node args`; fails loudly when a run does not exit 0. */
function median(args, env) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const stateDir = mkdtempSync(join(tmpdir(), 'shepherd-bench-'));
const env = {
  SHEPHERD_STATE_DIR: stateDir,
  SHEPHERD_TEMPORAL_PORT: String(await freePort()),
  SHEPHERD_UI_PORT: String(await freePort()),
  TEMPORAL_ADDRESS: '',
};
const server = spawn(process.execPath, [bin, 'dev-server', '--headless', '--json'], {
  env: { ...process.env, ...env },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let serverErr = '';
server.stderr.on('data', (b) => (serverErr += b));
try {
  await new Promise((res, rej) => {
    server.stdout.on('data', (b) => b.toString().includes('"address"') && res());
    server.once('exit', (code) => rej(new Error(`the dev server exited ${code} before it was ready:\n${serverErr}`)));
  });
  const rows = [['node -e 0', median(['-e', '0'], {}), undefined]];
  const modes = compiledIsFresh(root)
    ? [
        ['dist/', {}],
        ['tsx', { SHEPHERD_RUN_SOURCES: '1' }],
      ]
    : [['tsx (no fresh build: run npm run build)', {}]];
  for (const [mode, modeEnv] of modes) {
    rows.push([`shepherd --help (${mode})`, median([bin, '--help'], { ...env, ...modeEnv }), 300]);
    rows.push([`shepherd status (${mode})`, median([bin, 'status'], { ...env, ...modeEnv }), 1000]);
  }
  process.stdout.write(`Start-up, median of ${RUNS} runs each (${process.version}):\n`);
  for (const [name, ms, target] of rows) {
    const verdict = target === undefined ? '' : `target ≤ ${target} ms: ${ms <= target ? 'met' : 'missed'}`;
    process.stdout.write(`  ${name.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms  ${verdict}\n`);
  }
} finally {
  server.kill('SIGTERM');
  await new Promise((res) => (server.exitCode !== null ? res() : server.once('exit', res)));
  rmSync(stateDir, { recursive: true, force: true });
}
