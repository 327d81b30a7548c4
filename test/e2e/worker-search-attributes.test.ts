/**
 * A worker on a namespace where Shepherd's search attributes are missing and the server refuses to add them (as on
 * Temporal Cloud or a restricted namespace) refuses to start, naming the command an admin must run for each missing
 * one, instead of starting and letting every run fail its first workflow task on them.
 *
 * The refusal is the server's own: a dev server whose namespace already has ten custom Keyword attributes (the most
 * its SQL visibility store holds), one of them ShepherdApp, answers `cannot have more than 10 search attribute of
 * type Keyword` to the worker's registration of the other three.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWorldFile } from '../../src/sandbox/world/world-file.js';
import { temporalCliPath } from '../../src/temporal/binaries.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { runCli } from '../support/cli.js';
import { until } from '../support/eventually.js';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';

const NAMESPACE = 'restricted';
const FILLERS = Array.from({ length: 9 }, (_, i) => `OtherTeamKeyword${i + 1}`);

describe('a worker on a namespace without Shepherd’s search attributes that it may not add', () => {
  let server: ChildProcess;
  let address: string;
  let sandbox: TestSandbox;
  let stateDir: string;

  beforeAll(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    const attributes = [...FILLERS, 'ShepherdApp'].flatMap((name) => ['--search-attribute', `${name}=Keyword`]);
    server = spawn(
      temporalCliPath(),
      ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port)]
        .concat(['--namespace', NAMESPACE, '--log-level', 'error'])
        .concat(attributes),
      { stdio: 'ignore' },
    );
    await until(
      async () => {
        const connection = await Connection.connect({ address, connectTimeout: 1_000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: NAMESPACE });
          return true;
        } finally {
          await connection.close();
        }
      },
      `the dev server on ${address}`,
      { timeoutMs: 60_000, everyMs: 250 },
    );
    sandbox = await startSandbox();
    stateDir = mkdtempSync(join(tmpdir(), 'shepherd-restricted-'));
    writeWorldFile(stateDir, sandbox.world.info);
  }, 120_000);

  afterAll(async () => {
    await sandbox?.stop();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('exits non-zero with the command to create each missing attribute, before polling', async () => {
    const { code, stderr } = await runCli(['worker'], {
      SHEPHERD_STATE_DIR: stateDir,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TASK_QUEUE: 'restricted-namespace',
    });

    expect(code).toBe(1);
    expect(stderr).toContain(
      `Shepherd's search attributes ShepherdEnvironment, ShepherdImageTag, ShepherdStatus are missing on namespace ${NAMESPACE}, and adding them was refused`,
    );
    expect(stderr).toContain('cannot have more than 10 search attribute of type Keyword');
    for (const name of ['ShepherdEnvironment', 'ShepherdImageTag', 'ShepherdStatus'])
      expect(stderr).toContain(
        `temporal operator search-attribute create --namespace ${NAMESPACE} --name ${name} --type Keyword`,
      );
    expect(stderr).not.toContain('--name ShepherdApp');
    expect(stderr).toContain('The worker does not start until they exist.');
    expect(stderr).not.toContain('warning: could not register');
    expect(stderr).not.toContain('Worker polling');
  }, 120_000);
});
