/** `shepherd webhooks` as a process: it serves deliveries until SIGTERM, then stops cleanly. */
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startCli, type RunningCli } from '../support/cli.js';
import { uniqueTaskQueue } from '../support/temporal.js';
import { post } from './support/http.js';

let cli: RunningCli | undefined;

/** The first match of `pattern` in what the process wrote to stderr (where a server command says it listens). */
function stderrMatch(running: RunningCli, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const match = pattern.exec(running.stderr);
      if (!match) return;
      running.child.stderr?.off('data', check);
      resolve(match);
    };
    running.child.stderr?.on('data', check);
    void running.exited.then(() => reject(new Error(`exited before ${pattern}; stderr:\n${running.stderr}`)));
    check();
  });
}

afterAll(async () => {
  if (cli && cli.child.exitCode === null) {
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
});

describe('shepherd webhooks', () => {
  it('receives deliveries on its address and stops on SIGTERM with exit code 0', async () => {
    cli = startCli(['webhooks', '--address', '127.0.0.1:0', '--task-queue', uniqueTaskQueue(import.meta.filename)], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      SHEPHERD_WEBHOOK_GITLAB_TOKEN: 'cli-gitlab-secret',
      SHEPHERD_WEBHOOK_JENKINS_TOKEN: 'cli-jenkins-secret',
    });
    const listening = await stderrMatch(cli, /Webhook receiver on (http:\/\/127\.0\.0\.1:\d+)/);
    const url = listening[1]!;
    const refused = await post(`${url}/webhooks/gitlab`, { 'x-gitlab-event': 'Push Hook' }, ['{}']);
    expect(refused.status).toBe(401);
    const ignored = await post(
      `${url}/webhooks/gitlab`,
      { 'x-gitlab-event': 'Note Hook', 'x-gitlab-token': 'cli-gitlab-secret' },
      ['{}'],
    );
    expect(ignored.status).toBe(204);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(
      'shepherd_webhook_deliveries_total{source="gitlab",event="push",outcome="unauthenticated"} 1',
    );
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.stderr).toContain('SIGTERM: stopping the receiver');
    expect(cli.stderr).not.toContain('cli-gitlab-secret');
  });
});
