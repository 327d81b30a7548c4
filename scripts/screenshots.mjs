#!/usr/bin/env node
// Screenshots of the Temporal Web UI for the README (docs/images/): the workflow list after a rolled-back
// validation, and the Timeline of the validation and of its stage promotion.
//
//   node scripts/screenshots.mjs [--scenario stage-degraded] [--out docs/images]
//
// Runs `shepherd demo --scenario <name> --keep` on its own state folder and free server and UI ports (so it never touches a
// dev server you already run), waits until the demo keeps everything running, photographs the pages with
// headless Chromium (Debian: `apt-get install -y chromium`; CHROMIUM=/path overrides), then stops the demo with
// SIGTERM and removes its state folder. The UI is a single-page app: Chromium gets a virtual-time budget to render.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { scenario: { type: 'string', default: 'stage-degraded' }, out: { type: 'string', default: 'docs/images' } },
});
const outDir = resolve(root, values.out);
const chromium = process.env.CHROMIUM ?? 'chromium';
const app = 'example-app';

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Runs the demo; resolves to the Web UI's URL once the demo says it keeps everything running. */
function startDemo(stateDir, uiPort, temporalPort) {
  const demo = spawn(
    process.execPath,
    [join(root, 'bin', 'shepherd.js'), 'demo', '--scenario', values.scenario, '--keep'],
    {
      cwd: root,
      env: {
        ...process.env,
        SHEPHERD_STATE_DIR: stateDir,
        SHEPHERD_UI_PORT: String(uiPort),
        SHEPHERD_TEMPORAL_PORT: String(temporalPort),
        TEMPORAL_ADDRESS: '',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const ready = new Promise((ok, fail) => {
    let text = '';
    demo.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      text += chunk;
      const ui = text.match(/Keeping everything running: Web UI (\S+?);/);
      if (ui) ok(ui[1]);
    });
    demo.on('exit', (code) => fail(new Error(`the demo ended (exit ${code}) before keeping the Web UI running`)));
  });
  return { demo, ready };
}

function shoot(url, file) {
  const profile = mkdtempSync(join(tmpdir(), 'shepherd-chromium-'));
  try {
    const result = spawnSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--hide-scrollbars',
        '--virtual-time-budget=15000',
        `--screenshot=${file}`,
        '--window-size=1600,1000',
        url,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (result.error)
      throw new Error(`could not run ${chromium} (${result.error.message}); install it: apt-get install -y chromium`);
    if (result.status !== 0) throw new Error(`${chromium} exited ${result.status}: ${result.stderr}`);
    console.log(`wrote ${file}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

const stateDir = mkdtempSync(join(tmpdir(), 'shepherd-screenshots-'));
const { demo, ready } = startDemo(stateDir, await freePort(), await freePort());
try {
  const ui = await ready;
  mkdirSync(outDir, { recursive: true });
  const ns = `${ui}/namespaces/default`;
  shoot(`${ns}/workflows`, join(outDir, 'ui-workflow-list.png'));
  shoot(`${ns}/workflows/validate-${app}`, join(outDir, 'ui-validation-timeline.png'));
  shoot(`${ns}/workflows/promote-${app}-stage`, join(outDir, 'ui-promotion-timeline.png'));
} finally {
  const ended = new Promise((ok) => demo.once('exit', ok));
  if (demo.exitCode === null) demo.kill('SIGTERM');
  await ended;
  rmSync(stateDir, { recursive: true, force: true });
}
