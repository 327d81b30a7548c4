/**
 * `shepherd sandbox --pipeline FILE`: the world of a pipeline file, its layout in `--json`, and the mistakes a user
 * can make with it (a malformed file, a scenario for an app the pipeline does not have).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess, startCli, type RunningCli } from '../support/cli.js';
import { TWO_APPS } from './world-pipeline-files.js';

describe('shepherd sandbox --pipeline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-pipeline-cli-'));
  const running: RunningCli[] = [];
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const env = { SHEPHERD_STATE_DIR: join(dir, 'state') };
  afterAll(async () => {
    for (const cli of running) {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the world the file declares and prints its layout with every app', async () => {
    const cli = startCli(['sandbox', '--pipeline', file('two-apps.yaml', TWO_APPS), '--json'], env);
    running.push(cli);
    const info = JSON.parse(await cli.waitForLine(/^\{/, 60_000)) as {
      app: string;
      environments: Record<string, { branch: string; argoApp: string }>;
      apps: { name: string; appProject: string; ciJob: string; environments: Record<string, { argoApp: string }> }[];
      layout: { environmentOrder: string[]; apps: { app: string; versionFormat: string }[] };
    };
    expect(info.app).toBe('orders');
    expect(Object.keys(info.environments)).toEqual(['dev', 'test', 'prod']);
    expect(info.apps.map((a) => [a.name, a.appProject, a.ciJob, a.environments.test!.argoApp])).toEqual([
      ['orders', 'p2c/orders', 'orders/job/main', 'orders-test'],
      ['web', 'p2c/web', 'web/job/main', 'web-test'],
    ]);
    expect(info.layout.environmentOrder).toEqual(['dev', 'test', 'prod']);
    expect(info.layout.apps.map((a) => a.versionFormat)).toEqual(['maven', 'npm']);
  });

  it('refuses a scenario for an app the pipeline does not have, naming its apps', async () => {
    const r = await runInProcess(
      ['sandbox', '--pipeline', file('two-apps-2.yaml', TWO_APPS), '--scenario', 'stage-degraded@billing'],
      env,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Scenario "stage-degraded" names app "billing"');
    expect(r.stderr).toContain('it has orders, web');
  });

  it('lists every problem of a malformed pipeline file with its path, and starts nothing', async () => {
    const r = await runInProcess(
      [
        'sandbox',
        '--pipeline',
        file('bad.yaml', 'environments:\n  - { name: dev }\napps:\n  - { name: web, version: { format: ant } }\n'),
      ],
      env,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('environments');
    expect(r.stderr).toContain('apps[0].version.format');
    expect(r.stdout).toBe('');
  });
});
