/**
 * Shepherd's metrics and logs after real runs against the sandbox world: a worker whose runtime exports
 * Prometheus metrics on a free port and logs through Shepherd's logger runs a validation through dev, a promotion
 * to stage that is rejected at its approval (and rolled back), and one that is approved; then /metrics holds every
 * Shepherd metric with the labels and values of those runs, and the log has one line per step start and end.
 *
 * `Runtime.install` can happen once per process, before any worker or connection: beforeAll installs it first.
 */
import { createServer, type AddressInfo } from 'node:net';
import { Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promotionWorkflowId } from '../../src/domain/promotion-policy.js';
import { METRICS } from '../../src/observability/metrics.js';
import { SDK_METRICS_USED } from '../unit/deploy/sdk-metrics.js';
import { prometheusTelemetry } from '../../src/worker/health.js';
import { workerLogger } from '../../src/worker/logger.js';
import type { promoteEnvironment } from '../../workflows/index.js';
import { approveUpdate, progressQuery, rejectUpdate } from '../../workflows/messages.js';
import { eventually, until } from '../support/eventually.js';
import { APP, deployNewImageToDev, sandboxTemporal, type SandboxTemporal } from '../workflows/sandbox-support.js';

/** A port nothing listens on now (the SDK's exporter cannot bind port 0 and tell us which port it got). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The samples of a scrape: name, labels, value. */
interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

function parseScrape(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

describe("Shepherd's metrics and logs after sandbox runs", () => {
  let metricsUrl: string;
  let t: SandboxTemporal;
  const lines: string[] = [];
  const scrape = async (): Promise<Sample[]> => parseScrape(await (await fetch(metricsUrl)).text());
  const find = (samples: Sample[], name: string, labels: Record<string, string>): Sample[] =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

  beforeAll(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    Runtime.install({
      logger: workerLogger({
        level: 'INFO',
        format: 'json',
        isTerminal: false,
        config: {},
        write: (line) => lines.push(line),
      }),
      ...prometheusTelemetry(`127.0.0.1:${port}`),
    });
    t = await sandboxTemporal(import.meta.url);
  });

  afterAll(async () => {
    await t?.teardown();
  });

  it('counts the runs by outcome, times steps and waits per system, and tracks approvals and rollbacks', async () => {
    const tokens: string[] = [];
    await t.inWorld({}, async (sandbox) => {
      const { gitlab, jenkins, kubernetes } = sandbox.world.info;
      tokens.push(gitlab.token, jenkins.token, kubernetes.token);
      await deployNewImageToDev(t);

      const promote = () =>
        t.client.workflow.start<typeof promoteEnvironment>('promoteEnvironment', {
          taskQueue: t.taskQueue,
          workflowId: promotionWorkflowId(APP, 'stage'),
          args: [{ appName: APP, sourceEnv: 'dev', targetEnv: 'stage', approvalEnvironments: ['stage'] }],
        });
      const atApproval = async (handle: Awaited<ReturnType<typeof promote>>) =>
        until(
          async () => (await handle.query(progressQuery)).current?.waitingOn?.kind === 'approval',
          'the promotion to wait for approval',
        );

      const rejected = await promote();
      await atApproval(rejected);
      const pending = await eventually(
        async () => find(await scrape(), METRICS.approvalsPending.name, { app: APP, environment: 'stage' })[0],
        'the approvals-pending gauge',
      );
      expect(pending.value).toBe(1);
      await rejected.executeUpdate(rejectUpdate, { args: [{ by: 'release-manager', reason: 'not today' }] });
      await expect(rejected.result()).rejects.toMatchObject({ cause: { message: expect.stringMatching(/not today/) } });

      const approved = await promote();
      await atApproval(approved);
      await approved.executeUpdate(approveUpdate, { args: [{ by: 'release-manager' }] });
      expect((await approved.result()).status).toBe('succeeded');
    });

    const samples = await eventually(async () => {
      const now = await scrape();
      return find(now, METRICS.promotions.name, { outcome: 'succeeded' }).length > 0 ? now : undefined;
    }, 'the promotion counter');
    // The SDK metrics the dashboard and alert rules use (test/unit/deploy/observability.test.ts) are really exported.
    const names = new Set(samples.map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    expect(SDK_METRICS_USED.filter((name) => !names.has(name))).toEqual([]);
    const app = { app: APP };
    const one = (name: string, labels: Record<string, string>): Sample => {
      const found = find(samples, name, { ...app, ...labels });
      expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
      return found[0]!;
    };

    expect(one(METRICS.validations.name, { environment: 'dev', outcome: 'succeeded' }).value).toBe(1);
    expect(one(METRICS.promotions.name, { environment: 'stage', outcome: 'succeeded' }).value).toBe(1);
    // A rejection merged nothing: the promotion failed (its MR closed), it did not roll an environment back.
    expect(one(METRICS.promotions.name, { environment: 'stage', outcome: 'failed' }).value).toBe(1);
    // The SDK labels what workflow code records with the workflow type and task queue.
    expect(one(METRICS.promotions.name, { environment: 'stage', outcome: 'succeeded' }).labels).toMatchObject({
      workflowType: 'promoteEnvironment',
      taskQueue: t.taskQueue,
    });
    expect(one(METRICS.rollbacks.name, { environment: 'stage', action: 'abandon-deploy-branch' }).value).toBe(1);
    expect(find(samples, METRICS.rollbacksFailed.name, app)).toEqual([]);

    expect(one(METRICS.approvalsPending.name, { environment: 'stage' }).value).toBe(0);
    for (const outcome of ['approved', 'rejected'])
      expect(one(`${METRICS.approvalWait.name}_count`, { environment: 'stage', outcome }).value).toBe(1);

    for (const step of ['bump-version', 'merge-merge-request', 'verify-workload', 'approval', 'read-source']) {
      const counts = find(samples, `${METRICS.stepDuration.name}_count`, { ...app, step, outcome: 'succeeded' });
      expect(counts.length, step).toBeGreaterThan(0);
      const sums = find(samples, `${METRICS.stepDuration.name}_sum`, { ...app, step, outcome: 'succeeded' });
      expect(
        sums.reduce((total, s) => total + s.value, 0),
        step,
      ).toBeGreaterThan(0);
    }
    for (const system of ['gitlab', 'jenkins', 'argocd', 'kubernetes']) {
      const sums = find(samples, `${METRICS.waitDuration.name}_sum`, { ...app, system, outcome: 'succeeded' });
      expect(sums.length, system).toBeGreaterThan(0);
      expect(
        sums.reduce((total, s) => total + s.value, 0),
        system,
      ).toBeGreaterThan(0);
    }
    // No label carries an image tag (the sandbox's tags look like 1.0.37-a1b2c3d).
    const shepherd = samples.filter((s) => s.name.startsWith('shepherd_'));
    expect(shepherd.flatMap((s) => Object.values(s.labels)).filter((v) => /\d+\.\d+\.\d+/.test(v))).toEqual([]);

    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const merge = entries.filter((e) => e.step === 'merge-merge-request' && e.workflowType === 'promoteEnvironment');
    expect(merge.map((e) => e.msg)).toEqual(['step merge-merge-request started', 'step merge-merge-request succeeded']);
    expect(merge[1]).toMatchObject({
      level: 'INFO',
      workflowId: promotionWorkflowId(APP, 'stage'),
      runId: expect.any(String),
      outcome: 'succeeded',
      durationMs: expect.any(Number),
    });
    expect(entries.find((e) => e.msg === 'run failed')).toMatchObject({
      workflowId: promotionWorkflowId(APP, 'stage'),
      app: APP,
      environment: 'stage',
    });
    // The SDK's own line for a failed run, which used to say only `Workflow failed`, now names the run and why.
    expect(entries.find((e) => e.msg === 'Workflow failed')).toMatchObject({
      level: 'WARN',
      workflowId: promotionWorkflowId(APP, 'stage'),
      runId: expect.any(String),
      // The failure crosses the workflow sandbox's boundary as a plain Error: its message survives, not its type.
      error: { message: expect.stringMatching(/rejected by release-manager: not today/) },
    });
    for (const token of tokens) expect(lines.join('\n')).not.toContain(token);
  }, 240_000);
});
