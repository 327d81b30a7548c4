import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../src/temporal/dev-server.js';
import { runCli, startCli, type RunningCli } from '../support/cli.js';

describe('shepherd dev-server', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'shepherd-state-'));
  const started: RunningCli[] = [];
  afterAll(() => {
    for (const cli of started) cli.child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function start(
    env: Record<string, string>,
  ): Promise<{ cli: RunningCli; info: { address: string; uiUrl: string; dbFile: string } }> {
    const cli = startCli(['dev-server', '--json'], env);
    started.push(cli);
    const info = JSON.parse(await cli.waitForLine(/^\{/, 60_000)) as { address: string; uiUrl: string; dbFile: string };
    return { cli, info };
  }

  it('prints the Web UI address, keeps earlier runs across a restart on the same state folder, and stops cleanly on Ctrl-C', async () => {
    const env = {
      SHEPHERD_STATE_DIR: stateDir,
      SHEPHERD_TEMPORAL_PORT: String(await freePort()),
      SHEPHERD_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: '',
    };
    const first = await start(env);
    expect(first.info.dbFile).toBe(join(stateDir, 'temporal.db'));
    expect((await fetch(first.info.uiUrl)).status).toBe(200);

    const second = await runCli(['dev-server'], env);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`A Temporal dev server already runs on ${stateDir}`);

    let connection = await Connection.connect({ address: first.info.address });
    // Runs are filtered by these (status --app, the schedule's runs), so the dev server registers them at start.
    const attrs = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(attrs.customAttributes ?? {})).toEqual(
      expect.arrayContaining(['ShepherdApp', 'ShepherdEnvironment', 'ShepherdImageTag', 'ShepherdStatus']),
    );
    await new Client({ connection }).workflow.start('shepherdPersistenceProbe', {
      taskQueue: 'nobody-polls',
      workflowId: 'persistence-probe',
      args: [{}],
    });
    await connection.close();

    first.cli.child.kill('SIGINT');
    expect(await first.cli.exited).toBe(0);
    expect(existsSync(join(stateDir, 'dev-server.json'))).toBe(false);

    const again = await start(env);
    connection = await Connection.connect({ address: again.info.address });
    const described = await new Client({ connection }).workflow.getHandle('persistence-probe').describe();
    expect(described.type).toBe('shepherdPersistenceProbe');
    expect(described.status.name).toBe('RUNNING');
    await connection.close();
    // SIGTERM to the process the README starts ends its `temporal` child too, not only the Node process.
    const { pid: temporalPid } = JSON.parse(readFileSync(join(stateDir, 'dev-server.json'), 'utf8')) as { pid: number };
    again.cli.child.kill('SIGTERM');
    expect(await again.cli.exited).toBe(0);
    expect(() => process.kill(temporalPid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('refuses to start when TEMPORAL_ADDRESS points elsewhere, with exit code 2', async () => {
    const result = await runCli(['dev-server'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TEMPORAL_ADDRESS is set (127.0.0.1:1)');
  });
});
