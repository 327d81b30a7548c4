/**
 * Secrets never leave the process that holds them: a full validation through prod runs with recognisable
 * credentials (the sandbox world's random GitLab, Jenkins and Kubernetes tokens, and a notification webhook URL
 * whose path is the secret), then every place a value could leak to is scanned — the workflow histories of the run
 * (parent and children, payloads decoded), their memo and search attributes, the worker's log, this process's
 * output, the reports written from the result, the messages the webhook received, and the output of
 * `shepherd demo --json` and `shepherd config check` run with secret values set.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { loadConfig } from '../../src/config/load.js';
import { promotionWorkflowId } from '../../src/domain/promotion-policy.js';
import type { ValidationReport } from '../../src/domain/report.js';
import { writeReports } from '../../src/reports/write.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { activitiesForWorld } from '../../src/worker/activities.js';
import { createWorker } from '../../src/worker/create-worker.js';
import { approveUpdate, progressQuery } from '../../workflows/messages.js';
import { runCli } from '../support/cli.js';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';
import { devServerEnv, uniqueTaskQueue, workflowBundle } from '../support/temporal.js';

/** A value nobody could produce by accident, so that finding it anywhere is a leak. */
const recognisable = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;

/** A local Slack-compatible receiver; only the secret path is accepted. */
interface Receiver {
  readonly url: string;
  readonly secret: string;
  readonly bodies: string[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const secret = recognisable('hook');
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const ok = req.method === 'POST' && req.url === `/hooks/${secret}`;
      if (ok) bodies.push(body);
      res.writeHead(ok ? 200 : 404).end(ok ? 'ok' : 'no such hook');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/${secret}`,
    secret,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * JSON with every payload decoded (inputs, results, failure details, memo and search-attribute values), so that it
 * can be searched: a history's protobuf objects serialise a payload's bytes as base64.
 */
function searchable(value: unknown): string {
  const decode = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(decode);
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node as Record<string, unknown>).map(([k, v]) => [k, decode(v)] as const);
    const obj = Object.fromEntries(entries) as Record<string, unknown>;
    if ('metadata' in obj && typeof obj.data === 'string') obj.data = Buffer.from(obj.data, 'base64').toString('utf8');
    return obj;
  };
  return JSON.stringify(decode(JSON.parse(JSON.stringify(value)) as unknown));
}

function expectNoSecret(where: string, text: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    expect(text.includes(secret), `${where} contains a secret (${secret.slice(0, 6)}…)`).toBe(false);
    expect(text.includes(Buffer.from(secret).toString('base64')), `${where} contains a secret in base64`).toBe(false);
  }
}

describe('secrets stay out of histories, logs and reports', () => {
  const logs: string[] = [];
  const dirs: string[] = [];
  let receiver: Receiver;

  beforeAll(async () => {
    // Before anything creates the SDK runtime: keep every worker log line (workflow and activity logs included).
    Runtime.install({
      logger: new DefaultLogger('DEBUG', (entry) =>
        logs.push(`${entry.level} ${entry.message} ${inspect(entry.meta, { depth: 8 })}`),
      ),
    });
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await receiver?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  describe('a full validation through prod with the sandbox tokens and a webhook URL', () => {
    let env: TestWorkflowEnvironment;
    let sandbox: TestSandbox;
    let worker: Worker;
    let running: Promise<void>;
    const taskQueue = uniqueTaskQueue(import.meta.url);
    const output: string[] = [];
    const handles: WorkflowHandle[] = [];
    let report: ValidationReport;
    let secrets: string[];

    beforeAll(async () => {
      env = await devServerEnv();
      sandbox = await startSandbox();
      const info = sandbox.world.info;
      secrets = [info.gitlab.token, info.jenkins.token, info.kubernetes.token, receiver.secret];
      const config = loadConfig({ env: { SHEPHERD_NOTIFY_WEBHOOK_URL: receiver.url } });
      worker = await createWorker({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue,
        activities: activitiesForWorld(sandbox.world, config),
        workflows: { workflowBundle: workflowBundle() },
      });
      running = worker.run();

      // Whatever this process prints while the run goes on is scanned too.
      const realOut = process.stdout.write.bind(process.stdout);
      const realErr = process.stderr.write.bind(process.stderr);
      process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => (
        output.push(chunk.toString()),
        realOut(chunk, ...rest)
      )) as typeof process.stdout.write;
      process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => (
        output.push(chunk.toString()),
        realErr(chunk, ...rest)
      )) as typeof process.stderr.write;
      try {
        const app = info.app;
        const parent = await env.client.workflow.start('validatePipeline', {
          taskQueue,
          workflowId: `secrets-validate-${randomBytes(4).toString('hex')}`,
          args: [{ appName: app, approvers: ['night-shift'] }],
        });
        handles.push(parent);
        const prod = env.client.workflow.getHandle(promotionWorkflowId(app, 'prod'));
        for (;;) {
          const progress = await prod.query(progressQuery).catch(() => undefined);
          if (progress?.current?.name === 'approval') break;
          if ((await parent.describe()).status.name !== 'RUNNING') break;
          await wait(100);
        }
        await prod.executeUpdate(approveUpdate, { args: [{ by: 'night-shift', reason: 'secrets scan' }] });
        report = (await parent.result()) as ValidationReport;
        // The children this run started, by run id: other test files may run promotions of the same app on this
        // dev server, so the latest run under `promote-<app>-<env>` need not be this run's.
        for (const event of (await parent.fetchHistory()).events ?? []) {
          const started = event.childWorkflowExecutionStartedEventAttributes;
          const child = started?.workflowExecution;
          // Its promotions (the validation's lock child carries nothing of the run).
          if (started?.workflowType?.name === 'promoteEnvironment' && child?.workflowId && child.runId)
            handles.push(env.client.workflow.getHandle(child.workflowId, child.runId));
        }
      } finally {
        process.stdout.write = realOut;
        process.stderr.write = realErr;
      }
    });

    afterAll(async () => {
      worker?.shutdown();
      await running;
      await sandbox?.stop();
      await env?.teardown();
    });

    it('runs to prod and notifies through the webhook, so that there is something to scan', () => {
      expect(report.status).toBe('succeeded');
      expect(report.iterations.map((i) => i.env)).toEqual(['dev', 'stage', 'prod']);
      expect(receiver.bodies.length).toBeGreaterThan(0);
      expect(logs.length).toBeGreaterThan(0);
    });

    it('keeps every secret out of the histories of the run, parent and children, payloads decoded', async () => {
      for (const handle of handles) {
        const history = searchable(await handle.fetchHistory());
        expect(history).toContain(report.imageTag!);
        expectNoSecret(`history of ${handle.workflowId}`, history, secrets);
      }
    });

    it('keeps every secret out of the memo and the search attributes', async () => {
      for (const handle of handles) {
        const described = await handle.describe();
        const visible = searchable({
          memo: described.memo,
          searchAttributes: described.searchAttributes,
          typed: described.typedSearchAttributes.getAll(),
        });
        expect(visible).toContain(report.appName);
        expectNoSecret(`memo and search attributes of ${handle.workflowId}`, visible, secrets);
      }
    });

    it("keeps every secret out of the worker's log and this process's output", () => {
      expectNoSecret('the worker log', logs.join('\n'), secrets);
      expectNoSecret('the process output', output.join(''), secrets);
    });

    it('keeps every secret out of the JSON, Markdown and JUnit reports', () => {
      const dir = mkdtempSync(join(tmpdir(), 'shepherd-secrets-reports-'));
      dirs.push(dir);
      const paths = writeReports(report, dir, 'secrets-scan');
      for (const file of [paths.json, paths.markdown, paths.junit]) {
        const text = readFileSync(file, 'utf8');
        expect(text).toContain(report.imageTag!);
        expectNoSecret(file, text, secrets);
      }
    });

    it('keeps every secret out of the notification messages themselves', () => {
      expectNoSecret('the webhook messages', receiver.bodies.join('\n'), secrets);
    });
  });

  describe('the shepherd CLI with secret values in its configuration', () => {
    it('`shepherd demo --json` prints, logs and reports no secret, and notifies through the configured webhook', async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'shepherd-secrets-state-'));
      const reportsDir = mkdtempSync(join(tmpdir(), 'shepherd-secrets-reports-'));
      dirs.push(stateDir, reportsDir);
      const gitlabToken = recognisable('glpat');
      const jenkinsToken = recognisable('jenkins');
      const before = receiver.bodies.length;
      const { code, stdout, stderr } = await runCli(['demo', '--json', '--reports', reportsDir], {
        SHEPHERD_STATE_DIR: stateDir,
        SHEPHERD_TEMPORAL_PORT: String(await freePort()),
        SHEPHERD_UI_PORT: String(await freePort()),
        TEMPORAL_ADDRESS: '',
        SHEPHERD_NOTIFY_WEBHOOK_URL: receiver.url,
        // Loaded and held as secrets even though the embedded default does not use them.
        GITLAB_TOKEN: gitlabToken,
        JENKINS_TOKEN: jenkinsToken,
      });
      expect(code, stderr).toBe(0);
      const secrets = [receiver.secret, gitlabToken, jenkinsToken];
      expectNoSecret('demo stdout', stdout, secrets);
      expectNoSecret('demo stderr', stderr, secrets);
      const reportPaths = [...stderr.matchAll(/(\/\S+\.(?:json|md|junit\.xml))/g)]
        .map((m) => m[1]!)
        .filter((p) => p.startsWith(reportsDir));
      expect(reportPaths).toHaveLength(3);
      for (const file of reportPaths) expectNoSecret(file, readFileSync(file, 'utf8'), secrets);
      expect(receiver.bodies.length).toBeGreaterThan(before);
      expectNoSecret('the webhook messages', receiver.bodies.join('\n'), secrets);
    });

    it('`shepherd config check` shows every secret as [redacted], as text and as JSON', async () => {
      const values = {
        TEMPORAL_ADDRESS: 'temporal.example.com:7233',
        TEMPORAL_API_KEY: recognisable('apikey'),
        GITLAB_URL_EXTERNAL: 'https://gitlab.example.com',
        GITLAB_TOKEN: recognisable('glpat'),
        JENKINS_URL_EXTERNAL: 'https://jenkins.example.com',
        JENKINS_USER: 'shepherd',
        JENKINS_TOKEN: recognisable('jenkins'),
        SHEPHERD_NOTIFY_WEBHOOK_URL: `https://hooks.example.com/services/${recognisable('hook')}`,
      };
      const secrets = [
        values.TEMPORAL_API_KEY,
        values.GITLAB_TOKEN,
        values.JENKINS_TOKEN,
        values.SHEPHERD_NOTIFY_WEBHOOK_URL.split('/').at(-1)!,
      ];
      const [json, text] = await Promise.all([
        runCli(['config', 'check', '--json'], values),
        runCli(['config', 'check'], values),
      ]);
      for (const [name, result] of [
        ['--json', json],
        ['text', text],
      ] as const) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toContain('[redacted]');
        expectNoSecret(`config check ${name}`, `${result.stdout}${result.stderr}`, secrets);
      }
      const shown = (
        JSON.parse(json.stdout) as {
          config: {
            gitlab: { token: string };
            jenkins: { token: string };
            temporal: { apiKey: string };
            notifications: { webhookUrl: string };
          };
        }
      ).config;
      expect([shown.gitlab.token, shown.jenkins.token, shown.temporal.apiKey, shown.notifications.webhookUrl]).toEqual([
        '[redacted]',
        '[redacted]',
        '[redacted]',
        '[redacted]',
      ]);
    });
  });
});
