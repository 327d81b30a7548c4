/**
 * P4's world host, run as its own process (`node --import tsx src/bench/world-host.ts N TIME_SCALE`): starts N
 * sandbox worlds in this one process, prints one line of JSON (the WorldInfo of each), and stops them all on
 * SIGINT/SIGTERM. The worlds are kept out of the worker process, so that the worker's RSS is the worker's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorld, type World } from '../sandbox/world/world.js';

const count = Number(process.argv[2]);
const timeScale = Number(process.argv[3]);
if (!(count >= 1) || !(timeScale > 0)) {
  process.stderr.write('usage: world-host.ts COUNT TIME_SCALE\n');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'shepherd-bench-worlds-'));
const worlds: World[] = [];
let stopping = false;
const stop = async (code: number): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await Promise.all(worlds.map((w) => w.stop().catch(() => {})));
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
try {
  for (let i = 0; i < count; i++) worlds.push(await startWorld({ dir: join(dir, `world-${i}`), timeScale }));
  process.stdout.write(`${JSON.stringify(worlds.map((w) => w.info))}\n`);
} catch (err) {
  process.stderr.write(`could not start world ${worlds.length + 1} of ${count}: ${(err as Error).message}\n`);
  await stop(1);
}
