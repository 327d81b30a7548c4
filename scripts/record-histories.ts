/**
 * Records the workflow histories that test/replay/stored-histories.test.ts replays against the current workflow
 * code. Run it after a deliberate change to workflow behaviour (new steps, new messages), never to make a replay
 * failure go away: a replay failure means running workflows would break on the new code (see temporal-notes §4.3,
 * use `patched()` instead).
 *
 *   npx tsx scripts/record-histories.ts
 *
 * Starts its own in-memory Temporal dev server and a fresh sandbox world per run, runs
 *   1. validatePipeline through prod (prod approved through the `approve` update)      → validate-success.json,
 *      promote-stage-success.json, promote-prod-success.json
 *   2. validatePipeline under the `stage-degraded` scenario (stage rolled back)        → validate-rolled-back.json,
 *      promote-stage-rolled-back.json
 * and writes each history in the JSON form of `temporal workflow show -o json` (the SDK's `historyToJSON`; see
 * test/replay/history-files.ts), after checking that it reads back to the same events and holds no credential.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { promotionWorkflowId, validationWorkflowId } from '../src/domain/promotion-policy.js';
import type { ValidationReport } from '../src/domain/report.js';
import { startWorld, type World } from '../src/sandbox/world/world.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { activitiesForWorld } from '../src/worker/activities.js';
import { bundleWorkflows } from '../src/worker/workflow-source.js';
import { credentialsIn, historyFromJson, historyToJson, readableText } from '../test/replay/history-files.js';
import { approveUpdate, progressQuery } from '../workflows/messages.js';
import type { validatePipeline } from '../workflows/index.js';
import { TRACING_OFF } from '../src/tracing/tracing.js';

const OUT_DIR = fileURLToPath(new URL('../test/replay/histories/', import.meta.url));
const TASK_QUEUE = 'record-histories';
const APPROVER = 'history-recorder';

interface Recording {
  readonly scenario: string | undefined;
  readonly expect: ValidationReport['status'];
  /** workflow id → file name */
  readonly files: Readonly<Record<string, string>>;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startDevServer({ stateDir: undefined, port: 0, uiPort: false, namespace: 'default' });
  const scratch = mkdtempSync(join(tmpdir(), 'shepherd-record-'));
  try {
    const workflowBundle = { code: await bundleWorkflows() };
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const app = 'example-app';
    const recordings: Recording[] = [
      {
        scenario: undefined,
        expect: 'succeeded',
        files: {
          [validationWorkflowId(app)]: 'validate-success.json',
          [promotionWorkflowId(app, 'stage')]: 'promote-stage-success.json',
          [promotionWorkflowId(app, 'prod')]: 'promote-prod-success.json',
        },
      },
      {
        scenario: 'stage-degraded',
        expect: 'rolled_back',
        files: {
          [validationWorkflowId(app)]: 'validate-rolled-back.json',
          [promotionWorkflowId(app, 'stage')]: 'promote-stage-rolled-back.json',
        },
      },
    ];
    mkdirSync(OUT_DIR, { recursive: true });
    for (const recording of recordings) {
      const world = await startWorld({
        dir: mkdtempSync(join(scratch, 'world-')),
        timeScale: 0.005,
        ...(recording.scenario ? { scenario: recording.scenario } : {}),
      });
      try {
        const worker = await Worker.create({
          // The bundle's tracing interceptors export through this sink; tracing is off here.
          sinks: TRACING_OFF.sinks,
          connection: nativeConnection,
          namespace: server.namespace,
          taskQueue: TASK_QUEUE,
          workflowBundle,
          activities: activitiesForWorld(world),
        });
        const report = await worker.runUntil(runValidation(client, app));
        if (report.status !== recording.expect)
          throw new Error(
            `expected a ${recording.expect} run${recording.scenario ? ` under ${recording.scenario}` : ''}, got ${report.status}: ${report.failure?.message ?? ''}`,
          );
        for (const [workflowId, file] of Object.entries(recording.files)) {
          const history = await client.workflow.getHandle(workflowId).fetchHistory();
          const json = historyToJson(history);
          checkRoundTrip(json, history.events?.length ?? 0, file);
          checkNoSecrets(json, world, file);
          writeFileSync(join(OUT_DIR, file), `${json}\n`);
          console.log(`${file}: ${history.events?.length ?? 0} events`);
        }
      } finally {
        await world.stop();
      }
    }
    await nativeConnection.close();
    await connection.close();
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Runs validatePipeline through prod and approves the prod promotion once it waits at the gate. */
async function runValidation(client: Client, app: string): Promise<ValidationReport> {
  const handle: WorkflowHandle<typeof validatePipeline> = await client.workflow.start<typeof validatePipeline>(
    'validatePipeline',
    {
      taskQueue: TASK_QUEUE,
      workflowId: validationWorkflowId(app),
      args: [{ appName: app, through: 'prod', approvers: [APPROVER] }],
    },
  );
  let settled = false;
  const result = handle.result().finally(() => {
    settled = true;
  });
  const prod = client.workflow.getHandle(promotionWorkflowId(app, 'prod'));
  while (!settled) {
    const progress = await prod.query(progressQuery).catch(() => undefined);
    if (progress?.current?.name === 'approval') {
      await prod.executeUpdate(approveUpdate, { args: [{ by: APPROVER, reason: 'recording the replay histories' }] });
      break;
    }
    await wait(100);
  }
  return result;
}

function checkRoundTrip(json: string, events: number, file: string): void {
  const back = historyFromJson(json);
  if (back.events?.length !== events || historyToJson(back) !== json)
    throw new Error(`${file}: the JSON history does not read back to the same events`);
}

/** None of this world's credentials, nor anything that looks like one, may be in a history (payloads decoded). */
function checkNoSecrets(json: string, world: World, file: string): void {
  const text = readableText(json);
  const leaked = [world.info.gitlab.token, world.info.jenkins.token, world.info.kubernetes.token].filter((s) =>
    text.includes(s),
  );
  const suspicious = credentialsIn(json);
  if (leaked.length > 0 || suspicious.length > 0)
    throw new Error(
      `${file}: the history contains a credential (${leaked.length} of the world's; patterns: ${suspicious.join(', ')})`,
    );
}

await main();
