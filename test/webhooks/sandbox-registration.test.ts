/**
 * Registering the receiver with the sandbox world (src/webhooks/sandbox-registration.ts), against a scripted
 * stand-in of the world's two endpoints: the GitLab hooks API and the admin's `PUT /jenkins/notifications`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { defaultLayout } from '../../src/sandbox/world/layout.js';
import { layoutForWorld } from '../../src/worker/activities.js';
import { startSandboxWebhooks } from '../../src/webhooks/sandbox-registration.js';
import { devServerEnv, uniqueTaskQueue } from '../support/temporal.js';
import { post } from './support/http.js';

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: unknown;
}

/** A stand-in world that answers every request with `status` and records it. */
async function standInWorld(status: number): Promise<{ url: string; requests: Recorded[]; server: Server }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
      });
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(status < 300 ? '{"id":1}' : '{"message":"404 Not Found"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

const layout = layoutForWorld({ layout: defaultLayout() });
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await devServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe('startSandboxWebhooks', () => {
  it('registers a project hook on both projects and the Jenkins endpoint, with secrets the receiver accepts', async () => {
    const world = await standInWorld(201);
    const started = await startSandboxWebhooks({
      world: { gitlab: { url: world.url, token: 'sandbox-gitlab-token' }, admin: { url: world.url } },
      layouts: [layout],
      client: env.client,
      taskQueue: uniqueTaskQueue(import.meta.filename),
      logger: new DefaultLogger('WARN'),
    });
    try {
      expect(started.registered).toEqual({ gitlab: true, jenkins: true });
      const hooks = world.requests.filter((r) => r.path.endsWith('/hooks'));
      expect(hooks.map((r) => [r.method, r.path])).toEqual([
        ['POST', `/api/v4/projects/${encodeURIComponent(layout.gitlab.appProject)}/hooks`],
        ['POST', `/api/v4/projects/${encodeURIComponent(layout.gitlab.deploymentsProject)}/hooks`],
      ]);
      expect(hooks[0]!.headers['private-token']).toBe('sandbox-gitlab-token');
      const hook = hooks[0]!.body as Record<string, unknown>;
      expect(hook).toMatchObject({
        url: `${started.receiver.url}/webhooks/gitlab`,
        push_events: true,
        merge_requests_events: true,
        pipeline_events: true,
      });
      const jenkins = world.requests.find((r) => r.path === '/jenkins/notifications')!;
      expect(jenkins.method).toBe('PUT');
      const [endpoint] = (jenkins.body as { endpoints: { url: string; jobs: string[] }[] }).endpoints;
      expect(endpoint!.jobs).toEqual([layout.jenkins.appJob.join('/'), layout.jenkins.promoteJob.join('/')]);

      // The registered secrets open the receiver; a guess does not.
      const gitlab = await post(
        `${started.receiver.url}/webhooks/gitlab`,
        { 'x-gitlab-event': 'Note Hook', 'x-gitlab-token': String(hook.token) },
        ['{}'],
      );
      expect(gitlab.status).toBe(204);
      const notify = new URL(endpoint!.url);
      const basic = Buffer.from(`${notify.username}:${decodeURIComponent(notify.password)}`).toString('base64');
      const ok = await post(`${started.receiver.url}/webhooks/jenkins`, { authorization: `Basic ${basic}` }, [
        '{"url":"job/unrelated/","build":{"number":1,"phase":"STARTED"}}',
      ]);
      expect(ok.status).toBe(200);
      const guess = await post(
        `${started.receiver.url}/webhooks/gitlab`,
        { 'x-gitlab-event': 'Note Hook', 'x-gitlab-token': 'guess' },
        ['{}'],
      );
      expect(guess.status).toBe(401);
    } finally {
      await started.receiver.close();
      world.server.close();
    }
  });

  it('carries on with the receiver running when the world offers neither registration', async () => {
    const world = await standInWorld(404);
    const logs: LogEntry[] = [];
    const started = await startSandboxWebhooks({
      world: { gitlab: { url: world.url, token: 't' }, admin: { url: world.url } },
      layouts: [layout],
      client: env.client,
      taskQueue: uniqueTaskQueue(import.meta.filename),
      logger: new DefaultLogger('WARN', (e) => void logs.push(e)),
    });
    try {
      expect(started.registered).toEqual({ gitlab: false, jenkins: false });
      expect(logs.map((l) => l.message)).toEqual([
        'webhooks: the sandbox gitlab did not take the registration; its waits poll',
        'webhooks: the sandbox jenkins did not take the registration; its waits poll',
      ]);
      expect((await fetch(`${started.receiver.url}/healthz`)).status).toBe(200);
    } finally {
      await started.receiver.close();
      world.server.close();
    }
  });
});
