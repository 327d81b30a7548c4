/**
 * A webhook wakes the wait of a run on whatever worker runs it. The worker here relies on webhooks with a fallback
 * poll of ten minutes, so the nightly run through dev (CI build found and awaited, CI's dev MR awaited) can only
 * finish within the test's timeout if every change the sandbox announces reaches its waits. The receiver is not
 * part of that worker: it has a Temporal connection of its own and knows the worker only through Temporal (the run's
 * business-key id and its validation lock), as a receiver in another pod would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { validatePipeline } from '../../workflows/index.js';
import { loadConfig } from '../../src/config/load.js';
import { validationWorkflowId } from '../../src/domain/promotion-policy.js';
import { TRACING_OFF } from '../../src/tracing/tracing.js';
import { activitiesForWorld } from '../../src/worker/activities.js';
import { startSandboxWebhooks, type SandboxWebhooks } from '../../src/webhooks/sandbox-registration.js';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';
import { workflowBundle } from '../support/temporal.js';
import { sandboxTemporal, type SandboxTemporal, APP } from '../workflows/sandbox-support.js';

let t: SandboxTemporal;
let sandbox: TestSandbox;
let receiverConnection: Connection;
let hooks: SandboxWebhooks;

beforeAll(async () => {
  t = await sandboxTemporal(import.meta.url);
  sandbox = await startSandbox();
  receiverConnection = await Connection.connect({ address: inject('temporalAddress') });
  hooks = await startSandboxWebhooks({
    world: sandbox.world.info,
    layouts: [sandbox.layout],
    client: new Client({ connection: receiverConnection, namespace: t.namespace }),
    taskQueue: t.taskQueue,
    logger: new DefaultLogger('WARN'),
  });
});

afterAll(async () => {
  await hooks?.receiver.close();
  await receiverConnection?.close();
  await sandbox?.stop();
  await t?.teardown();
});

describe('a webhook delivered to a receiver of its own', () => {
  it('wakes the waits of a run on another worker: the nightly run through dev ends long before any fallback poll', async () => {
    expect(hooks.registered).toEqual({ gitlab: true, jenkins: true });
    const config = loadConfig({ env: { SHEPHERD_POLL_FALLBACK: '10m' } });
    const worker = await Worker.create({
      sinks: TRACING_OFF.sinks,
      connection: t.env.nativeConnection,
      namespace: t.namespace,
      taskQueue: t.taskQueue,
      workflowBundle: workflowBundle(),
      activities: activitiesForWorld(sandbox.world, config, { webhooks: hooks.registered }),
    });
    const report = await worker.runUntil(
      t.client.workflow.execute<typeof validatePipeline>('validatePipeline', {
        taskQueue: t.taskQueue,
        workflowId: validationWorkflowId(APP),
        args: [{ appName: APP, through: 'dev' }],
      }),
    );
    expect(report.status).toBe('succeeded');
    const steps = report.iterations.flatMap((i) => i.steps.map((s) => s.name));
    expect(steps).toEqual(expect.arrayContaining(['find-ci-build', 'await-ci-build', 'await-merge-request']));

    // What the receiver did, as Prometheus scrapes it after the run: the sandbox's deliveries, accepted and signalled.
    const metrics = await (await fetch(`${hooks.receiver.url}/metrics`)).text();
    for (const [source, event] of [
      ['jenkins', 'build'],
      ['gitlab', 'merge_request'],
      ['gitlab', 'push'],
    ]) {
      const labels = `source="${source}",event="${event}"`;
      expect(metrics).toMatch(
        new RegExp(`^shepherd_webhook_deliveries_total\\{${labels},outcome="accepted"\\} [1-9]`, 'm'),
      );
      expect(metrics).toMatch(
        new RegExp(`^shepherd_webhook_signals_total\\{${labels},outcome="signalled"\\} [1-9]`, 'm'),
      );
    }
  });
});
