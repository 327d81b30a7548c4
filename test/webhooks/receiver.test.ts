/**
 * The webhook receiver against the run's Temporal dev server: stand-in runs (support/wake-recorder.ts) under the
 * business-key ids of a pipeline of their own, a worker for them, and the receiver on a free port. A delivery is
 * answered only after its signals reached Temporal, so what the runs received can be asked at once.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker, type LogEntry } from '@temporalio/worker';
import { Secret } from '../../src/config/secret.js';
import type { PipelineLayout } from '../../src/domain/pipeline.js';
import { promotionWorkflowId, validationLockWorkflowId } from '../../src/domain/promotion-policy.js';
import type { WakeHint } from '../../src/domain/wake.js';
import { METRICS } from '../../src/observability/metrics.js';
import { defaultLayout } from '../../src/sandbox/world/layout.js';
import { layoutForWorld } from '../../src/worker/activities.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/webhooks/receiver.js';
import { devServerEnv, uniqueTaskQueue } from '../support/temporal.js';
import { post } from './support/http.js';
import { finishSignal, recordWakes, wakesQuery } from './support/wake-recorder.js';

const GITLAB_TOKEN = 'gitlab-hook-secret';
const JENKINS_TOKEN = 'jenkins-notify-secret';
const MAX_BODY = 4096;

let env: TestWorkflowEnvironment;
let client: Client;
let worker: Worker;
let workerRun: Promise<void>;
let receiver: WebhookReceiver;
const logs: LogEntry[] = [];
const taskQueue = uniqueTaskQueue(import.meta.filename);
// An app of its own: workflow ids are global to the namespace that other test files share.
const app = `hooked-${randomUUID().slice(0, 8)}`;
const layout: PipelineLayout = {
  ...layoutForWorld({ layout: defaultLayout() }),
  app: { name: app, cueName: 'hooked' },
};
const started: string[] = [];

beforeAll(async () => {
  env = await devServerEnv();
  client = env.client;
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./support/wake-recorder.ts', import.meta.url)),
  });
  workerRun = worker.run();
  receiver = await startWebhookReceiver({
    address: '127.0.0.1:0',
    client,
    taskQueue,
    layouts: [layout],
    gitlabToken: new Secret(GITLAB_TOKEN),
    jenkinsToken: new Secret(JENKINS_TOKEN),
    maxBodyBytes: MAX_BODY,
    logger: new DefaultLogger('INFO', (entry) => void logs.push(entry)),
  });
});

afterAll(async () => {
  for (const id of started)
    await client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  await receiver?.close();
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

/** Starts a stand-in run under `workflowId`; with `holdsLock`, it holds the app's validation lock like a validation. */
async function standIn(workflowId: string, holdsLock = false): Promise<void> {
  const lockId = validationLockWorkflowId(app, taskQueue);
  await client.workflow.start(recordWakes, { workflowId, taskQueue, args: [holdsLock ? { lockId } : {}] });
  started.push(workflowId);
  // The receiver finds a validation through its lock: wait until the child exists before any delivery.
  if (holdsLock)
    for (;;) {
      const lock = await client.workflow
        .getHandle(lockId)
        .describe()
        .catch(() => undefined);
      if (lock?.status.name === 'RUNNING') break;
      await new Promise((r) => setTimeout(r, 100));
    }
}

async function wakesOf(workflowId: string): Promise<WakeHint[]> {
  return client.workflow.getHandle(workflowId).query(wakesQuery);
}

async function endRun(workflowId: string): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  await handle.signal(finishSignal);
  await handle.result();
}

function gitlabHeaders(event: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'x-gitlab-event': event, 'x-gitlab-token': GITLAB_TOKEN, ...extra };
}

function mergeRequestHook(targetBranch: string, iid = 12): string {
  return JSON.stringify({
    object_kind: 'merge_request',
    event_type: 'merge_request',
    project: { id: 2, path_with_namespace: layout.gitlab.deploymentsProject },
    object_attributes: {
      iid,
      target_branch: targetBranch,
      source_branch: `promote-${iid}`,
      action: 'merge',
      state: 'merged',
    },
    changes: {},
  });
}

function jenkinsNotification(
  job: readonly string[],
  number: number,
  phase: string,
  parameters?: Record<string, string>,
) {
  const url = `${job.map((s) => `job/${encodeURIComponent(s)}`).join('/')}/`;
  return JSON.stringify({
    name: job.at(-1),
    url,
    build: {
      number,
      phase,
      url: `${url}${number}/`,
      ...(phase === 'COMPLETED' ? { status: 'SUCCESS' } : {}),
      ...(parameters ? { parameters } : {}),
    },
  });
}

function deliveries(source: string, event: string, outcome: string): number {
  return receiver.metrics.count(METRICS.webhookDeliveries, { source, event, outcome });
}

function signals(source: string, event: string, outcome: string): number {
  return receiver.metrics.count(METRICS.webhookSignals, { source, event, outcome });
}

describe('authentication and limits', () => {
  it('answers 401 to a GitLab delivery without a token, and signals nothing', async () => {
    const id = promotionWorkflowId(app, 'prod');
    await standIn(id);
    const before = deliveries('gitlab', 'merge_request', 'unauthenticated');
    const reply = await post(`${receiver.url}/webhooks/gitlab`, { 'x-gitlab-event': 'Merge Request Hook' }, [
      mergeRequestHook('prod'),
    ]);
    expect(reply.status).toBe(401);
    expect(deliveries('gitlab', 'merge_request', 'unauthenticated')).toBe(before + 1);
    expect(await wakesOf(id)).toEqual([]);
    await endRun(id);
  });

  it('answers 401 to a wrong GitLab token, and to a Jenkins notification without the shared secret', async () => {
    const wrong = await post(
      `${receiver.url}/webhooks/gitlab`,
      gitlabHeaders('Merge Request Hook', { 'x-gitlab-token': 'guess' }),
      [mergeRequestHook('stage')],
    );
    expect(wrong.status).toBe(401);
    const basicWrong = Buffer.from(`jenkins:${GITLAB_TOKEN}`).toString('base64');
    const jenkins = await post(`${receiver.url}/webhooks/jenkins`, { authorization: `Basic ${basicWrong}` }, [
      jenkinsNotification(layout.jenkins.appJob, 1, 'STARTED'),
    ]);
    expect(jenkins.status).toBe(401);
    const none = await post(`${receiver.url}/webhooks/jenkins`, {}, [
      jenkinsNotification(layout.jenkins.appJob, 1, 'STARTED'),
    ]);
    expect(none.status).toBe(401);
    expect(deliveries('jenkins', 'build', 'unauthenticated')).toBe(2);
  });

  it('answers 413 to a body declared longer than the limit, before reading it', async () => {
    const reply = await post(
      `${receiver.url}/webhooks/gitlab`,
      gitlabHeaders('Push Hook'),
      [Buffer.alloc(1024, 32)],
      50 * 1024 * 1024,
    );
    expect(reply.status).toBe(413);
  });

  it('answers 413 to a chunked body once it passes the limit, and stops reading it', async () => {
    const before = deliveries('jenkins', 'build', 'too_large');
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(1024, 32));
    const auth = Buffer.from(`jenkins:${JENKINS_TOKEN}`).toString('base64');
    const reply = await post(`${receiver.url}/webhooks/jenkins`, { authorization: `Basic ${auth}` }, chunks);
    expect(reply.status).toBe(413);
    expect(deliveries('jenkins', 'build', 'too_large')).toBe(before + 1);
  });

  it('answers 400 to a body that is not JSON, or lacks what routing needs', async () => {
    const notJson = await post(`${receiver.url}/webhooks/gitlab`, gitlabHeaders('Merge Request Hook'), [
      '{"object_kind":',
    ]);
    expect(notJson.status).toBe(400);
    const noTarget = await post(`${receiver.url}/webhooks/jenkins`, { 'x-shepherd-token': JENKINS_TOKEN }, [
      '{"name":"x"}',
    ]);
    expect(noTarget.status).toBe(400);
    expect(deliveries('gitlab', 'merge_request', 'malformed')).toBe(1);
    expect(deliveries('jenkins', 'build', 'malformed')).toBe(1);
  });

  it('drops events it does not act on with 204, counted as ignored', async () => {
    const reply = await post(`${receiver.url}/webhooks/gitlab`, gitlabHeaders('Note Hook'), ['{"object_kind":"note"}']);
    expect(reply.status).toBe(204);
    expect(deliveries('gitlab', 'other', 'ignored')).toBe(1);
  });
});

describe('routing through Temporal', () => {
  it('wakes promote-<app>-stage and the running validation for a merge request hook on the stage branch', async () => {
    const promotion = promotionWorkflowId(app, 'stage');
    const validation = `validate-${app}-${Date.now()}`;
    await standIn(promotion);
    await standIn(validation, true);
    const reply = await post(`${receiver.url}/webhooks/gitlab`, gitlabHeaders('Merge Request Hook'), [
      mergeRequestHook('stage', 7),
    ]);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ outcome: 'accepted', signalled: 2, notRunning: 0 });
    const [wake] = await wakesOf(promotion);
    expect(wake).toMatchObject({ system: 'gitlab', event: 'merge_request', subject: 'MR !7 merge' });
    expect(Date.parse(wake!.receivedAt)).not.toBeNaN();
    expect(await wakesOf(validation)).toHaveLength(1);
    await endRun(promotion);
    await endRun(validation);
  });

  it('signals a replayed delivery once (same Idempotency-Key, or same event UUID and event)', async () => {
    const promotion = promotionWorkflowId(app, 'stage');
    await standIn(promotion);
    const key = randomUUID();
    for (let i = 0; i < 2; i++) {
      const reply = await post(
        `${receiver.url}/webhooks/gitlab`,
        gitlabHeaders('Merge Request Hook', { 'idempotency-key': key }),
        [mergeRequestHook('stage', 8)],
      );
      expect(reply.status).toBe(200);
    }
    const uuid = randomUUID();
    for (let i = 0; i < 2; i++) {
      const reply = await post(
        `${receiver.url}/webhooks/gitlab`,
        gitlabHeaders('Merge Request Hook', { 'x-gitlab-event-uuid': uuid }),
        [mergeRequestHook('stage', 9)],
      );
      expect(reply.status).toBe(200);
    }
    expect((await wakesOf(promotion)).map((w) => w.subject)).toEqual(['MR !8 merge', 'MR !9 merge']);
    expect(deliveries('gitlab', 'merge_request', 'replayed')).toBe(2);
    await endRun(promotion);
  });

  it('wakes the running validation for a notification of the CI job, once per build phase', async () => {
    const validation = `validate-${app}`;
    await standIn(validation, true);
    const auth = Buffer.from(`jenkins:${JENKINS_TOKEN}`).toString('base64');
    for (const phase of ['QUEUED', 'STARTED', 'STARTED', 'COMPLETED']) {
      const reply = await post(`${receiver.url}/webhooks/jenkins`, { authorization: `Basic ${auth}` }, [
        jenkinsNotification(layout.jenkins.appJob, 41, phase),
      ]);
      expect(reply.status).toBe(200);
    }
    const wakes = await wakesOf(validation);
    expect(wakes.map((w) => [w.system, w.event, w.subject])).toEqual([
      ['jenkins', 'build', `${layout.jenkins.appJob.join('/')} #41 STARTED`],
      ['jenkins', 'build', `${layout.jenkins.appJob.join('/')} #41 COMPLETED SUCCESS`],
    ]);
    await endRun(validation);
  });

  it('wakes promote-<app>-<TARGET_ENV> for a notification of the promote job sent by a post step', async () => {
    const promotion = promotionWorkflowId(app, 'prod');
    await standIn(promotion);
    const reply = await post(`${receiver.url}/webhooks/jenkins`, { 'x-shepherd-token': JENKINS_TOKEN }, [
      jenkinsNotification(layout.jenkins.promoteJob, 5, 'COMPLETED', { APP_NAME: app, TARGET_ENV: 'prod' }),
    ]);
    expect(JSON.parse(reply.body)).toMatchObject({ outcome: 'accepted', signalled: 1 });
    expect(await wakesOf(promotion)).toHaveLength(1);
    await endRun(promotion);
  });

  it('counts an event whose run does not exist, and signals nothing', async () => {
    const before = signals('jenkins', 'build', 'not_running');
    const reply = await post(`${receiver.url}/webhooks/jenkins`, { 'x-shepherd-token': JENKINS_TOKEN }, [
      jenkinsNotification(layout.jenkins.promoteJob, 6, 'STARTED', { APP_NAME: app, TARGET_ENV: 'dev' }),
    ]);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ outcome: 'accepted', signalled: 0, notRunning: 1 });
    expect(signals('jenkins', 'build', 'not_running')).toBe(before + 1);
    // No validation runs now either: a push to the app project finds no lock.
    const push = await post(`${receiver.url}/webhooks/gitlab`, gitlabHeaders('Push Hook'), [
      JSON.stringify({
        object_kind: 'push',
        ref: 'refs/heads/main',
        project: { path_with_namespace: layout.gitlab.appProject },
      }),
    ]);
    expect(JSON.parse(push.body)).toMatchObject({ outcome: 'accepted', signalled: 0, notRunning: 1 });
    expect(signals('gitlab', 'push', 'not_running')).toBe(1);
    expect(logs.some((l) => l.message === 'webhook: the run it concerns is not running')).toBe(true);
  });

  it("ignores a notification of a job that is not the pipeline's", async () => {
    const reply = await post(`${receiver.url}/webhooks/jenkins`, { 'x-shepherd-token': JENKINS_TOKEN }, [
      jenkinsNotification(['someone-else'], 3, 'COMPLETED'),
    ]);
    expect(JSON.parse(reply.body)).toMatchObject({ outcome: 'ignored' });
  });
});

describe('when Temporal cannot be told', () => {
  it('answers 502, counts the signal as failed, and acts on a resend instead of taking it for a replay', async () => {
    // A port that was free a moment ago: nothing listens there, and no retries hide the failure.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const connection = Connection.lazy({ address: `127.0.0.1:${port}`, interceptors: [] });
    const offline = await startWebhookReceiver({
      address: '127.0.0.1:0',
      client: new Client({ connection }),
      taskQueue,
      layouts: [layout],
      gitlabToken: new Secret(GITLAB_TOKEN),
      jenkinsToken: new Secret(JENKINS_TOKEN),
      logger: new DefaultLogger('ERROR'),
    });
    try {
      for (let i = 0; i < 2; i++) {
        const reply = await post(`${offline.url}/webhooks/jenkins`, { 'x-shepherd-token': JENKINS_TOKEN }, [
          jenkinsNotification(layout.jenkins.appJob, 77, 'COMPLETED'),
        ]);
        expect(reply.status).toBe(502);
      }
      expect(
        offline.metrics.count(METRICS.webhookSignals, { source: 'jenkins', event: 'build', outcome: 'failed' }),
      ).toBe(2);
    } finally {
      await offline.close();
      await connection.close();
    }
  });
});

describe('GET /metrics', () => {
  it('shows the delivery and signal counters with their labels', async () => {
    const res = await fetch(`${receiver.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('# TYPE shepherd_webhook_deliveries_total counter');
    expect(text).toMatch(
      /^shepherd_webhook_deliveries_total\{source="gitlab",event="merge_request",outcome="unauthenticated"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^shepherd_webhook_signals_total\{source="gitlab",event="merge_request",outcome="signalled"\} [1-9]/m,
    );
    expect(text).toMatch(/^shepherd_webhook_signals_total\{source="jenkins",event="build",outcome="not_running"\} 1$/m);
    expect((await fetch(`${receiver.url}/healthz`)).status).toBe(200);
  });
});
