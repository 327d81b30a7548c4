/**
 * Records the workflow histories that test/replay/stored-histories.test.ts replays against the current workflow
 * code: one or more for every path a run can be on when a new worker deploys. Run it after a deliberate change to
 * workflow behaviour (new steps, new messages), never to make a replay failure go away: a replay failure means
 * running workflows would break on the new code (see README § Upgrades, use `patched()` instead).
 *
 *   npx tsx scripts/record-histories.ts                 every recording below (a few minutes)
 *   npx tsx scripts/record-histories.ts gitlab-mode …   only the named recordings
 *
 * Starts its own in-memory Temporal dev server and a fresh sandbox world per recording, and writes each history in
 * the JSON form of `temporal workflow show -o json` (the SDK's `historyToJSON`; see test/replay/history-files.ts),
 * after checking that it reads back to the same events and holds no credential. Histories of runs still open (at
 * the approval gate) are taken while they wait, as a new worker would find them. It also writes the workflow
 * bundle it recorded with (test/replay/bundles/), from which test/replay/versioning.test.ts starts a run that
 * the current code must finish.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Environment } from '../src/domain/environments.js';
import type { ValidatePipelineInput } from '../src/domain/inputs.js';
import { promotionWorkflowId, validationWorkflowId, type PromotionPhase } from '../src/domain/promotion-policy.js';
import type { ValidationReport } from '../src/domain/report.js';
import { startWorld, type World } from '../src/sandbox/world/world.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { activitiesForWorld } from '../src/worker/activities.js';
import { bundleWorkflows } from '../src/worker/workflow-source.js';
import { credentialsIn, historyFromJson, historyToJson, readableText } from '../test/replay/history-files.js';
import { OLD_BUNDLE_FILE, storableBundle } from '../test/replay/old-bundle.js';
import {
  approveUpdate,
  currentImageQuery,
  progressQuery,
  rejectUpdate,
  supersedeUpdate,
} from '../workflows/messages.js';
import type { validatePipeline } from '../workflows/index.js';
import { TRACING_OFF } from '../src/tracing/tracing.js';

const OUT_DIR = fileURLToPath(new URL('../test/replay/histories/', import.meta.url));
const TASK_QUEUE = 'record-histories';
const APPROVER = 'history-recorder';
const APP = 'example-app';

/** What a recording may do with the run it drives, and where it keeps the histories it takes. */
interface Recorder {
  readonly client: Client;
  readonly world: World;
  /** Takes the current history of the latest run of `workflowId` (open or closed) as `file`. */
  take(workflowId: string, file: string): Promise<void>;
}

interface Recording {
  readonly name: string;
  readonly scenario?: string;
  /** Drives the run to the state each history is taken in. */
  readonly drive: (recorder: Recorder) => Promise<void>;
}

const validateId = validationWorkflowId(APP);
const promoteId = (env: Environment) => promotionWorkflowId(APP, env);

const RECORDINGS: readonly Recording[] = [
  {
    name: 'success',
    async drive(r) {
      const report = await runValidation(r.client, { through: 'prod' }, atGate('prod', approve));
      expectStatus(report, 'succeeded');
      await r.take(validateId, 'validate-success.json');
      await r.take(promoteId('stage'), 'promote-stage-success.json');
      await r.take(promoteId('prod'), 'promote-prod-success.json');
    },
  },
  {
    name: 'stage-degraded',
    scenario: 'stage-degraded',
    async drive(r) {
      expectStatus(await runValidation(r.client, { through: 'prod' }), 'rolled_back');
      // validate-rolled-back.json and promote-stage-rolled-back.json are the same runs recorded on older code
      // (before the `validation-ends-failed` patch): kept as they are, never overwritten.
      await r.take(validateId, 'validate-stage-degraded.json');
      await r.take(promoteId('stage'), 'promote-stage-degraded.json');
    },
  },
  {
    // The run a deploy most often meets: waiting at the prod gate for hours. Then a rejection ends it.
    name: 'approval-pending-then-rejected',
    async drive(r) {
      const report = await runValidation(
        r.client,
        { through: 'prod' },
        atGate('prod', async (prod) => {
          await r.take(validateId, 'validate-approval-pending.json');
          await r.take(promoteId('prod'), 'promote-prod-approval-pending.json');
          await prod.executeUpdate(rejectUpdate, { args: [{ by: APPROVER, reason: 'recording a rejection' }] });
        }),
      );
      expectStatus(report, 'failed');
      await r.take(validateId, 'validate-prod-rejected.json');
      await r.take(promoteId('prod'), 'promote-prod-rejected.json');
    },
  },
  {
    name: 'approval-timed-out',
    async drive(r) {
      expectStatus(await runValidation(r.client, { through: 'prod', approvalTimeout: '3s' }), 'failed');
      await r.take(validateId, 'validate-approval-timed-out.json');
      await r.take(promoteId('prod'), 'promote-prod-approval-timed-out.json');
    },
  },
  {
    // A newer image replaces the stage promotion while it waits at its gate (stage requires approval here).
    name: 'superseded',
    async drive(r) {
      const report = await runValidation(
        r.client,
        { through: 'stage', approvalEnvironments: ['stage'] },
        atGate('stage', async (stage) => {
          await stage.executeUpdate(supersedeUpdate, { args: [{ imageTag: '9.9.9-0000000', by: APPROVER }] });
        }),
      );
      expectStatus(report, 'failed');
      await r.take(validateId, 'validate-superseded.json');
      await r.take(promoteId('stage'), 'promote-stage-superseded.json');
    },
  },
  {
    // Stage degrades, its promotion reverts the merge, and the validation is cancelled while the revert runs.
    name: 'cancelled-during-rollback',
    scenario: 'stage-degraded',
    async drive(r) {
      const outcome = await runValidation(r.client, { through: 'stage' }, async (validation, settled) => {
        const stage = r.client.workflow.getHandle(promoteId('stage'));
        await until(settled, async () => (await phaseOf(stage)) === 'compensating');
        await validation.cancel();
        return true;
      }).then(
        (report) => report.status,
        (err: unknown) => (err instanceof WorkflowFailedError ? (err.cause?.name ?? 'failed') : String(err)),
      );
      if (outcome !== 'CancelledFailure') throw new Error(`expected a cancelled validation, got ${outcome}`);
      await r.take(validateId, 'validate-cancelled-during-rollback.json');
      await r.take(promoteId('stage'), 'promote-stage-cancelled-during-rollback.json');
    },
  },
  {
    name: 'gitlab-mode',
    async drive(r) {
      expectStatus(await runValidation(r.client, { through: 'stage', mode: 'gitlab' }), 'succeeded');
      await r.take(validateId, 'validate-gitlab-mode.json');
      await r.take(promoteId('stage'), 'promote-stage-gitlab-mode.json');
    },
  },
  {
    // Prod cannot pull the new image: prod is reverted by its promotion, then stage and dev by the validation.
    name: 'rollback-all',
    scenario: 'prod-image-pull',
    async drive(r) {
      const report = await runValidation(r.client, { through: 'prod', rollback: 'all' }, atGate('prod', approve));
      expectStatus(report, 'rolled_back');
      await r.take(validateId, 'validate-rollback-all.json');
      await r.take(promoteId('prod'), 'promote-prod-rollback-all.json');
    },
  },
  {
    name: 'dev-not-ready',
    scenario: 'dev-not-ready',
    async drive(r) {
      expectStatus(await runValidation(r.client, { through: 'prod' }), 'rolled_back');
      await r.take(validateId, 'validate-dev-rolled-back.json');
    },
  },
  {
    name: 'ci-build-fails',
    scenario: 'ci-build-fails',
    async drive(r) {
      expectStatus(await runValidation(r.client, { through: 'prod' }), 'failed');
      await r.take(validateId, 'validate-ci-build-failed.json');
    },
  },
];

async function main(names: readonly string[]): Promise<void> {
  const unknown = names.filter((name) => !RECORDINGS.some((r) => r.name === name));
  if (unknown.length > 0)
    throw new Error(
      `unknown recording ${unknown.join(', ')}; known: ${RECORDINGS.map((r) => r.name).join(', ')} (none: all)`,
    );
  const chosen = names.length > 0 ? RECORDINGS.filter((r) => names.includes(r.name)) : RECORDINGS;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await startDevServer({ stateDir: undefined, port: 0, uiPort: false, namespace: 'default' });
  const scratch = mkdtempSync(join(tmpdir(), 'shepherd-record-'));
  try {
    const code = await bundleWorkflows();
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    mkdirSync(OUT_DIR, { recursive: true });
    for (const recording of chosen) {
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
          workflowBundle: { code },
          activities: activitiesForWorld(world),
        });
        const take = async (workflowId: string, file: string): Promise<void> => {
          const history = await client.workflow.getHandle(workflowId).fetchHistory();
          save(history, world, file);
        };
        await worker.runUntil(recording.drive({ client, world, take }));
        await terminateOpenRuns(client);
      } finally {
        await world.stop();
      }
    }
    mkdirSync(join(OUT_DIR, '..', 'bundles'), { recursive: true });
    writeFileSync(OLD_BUNDLE_FILE, gzipSync(storableBundle(code), { level: 9 }));
    console.log(`${OLD_BUNDLE_FILE}: the workflow bundle these histories were recorded with`);
    await nativeConnection.close();
    await connection.close();
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function save(history: History, world: World, file: string): void {
  const json = historyToJson(history);
  const events = history.events?.length ?? 0;
  checkRoundTrip(json, events, file);
  checkNoSecrets(json, world, file);
  writeFileSync(join(OUT_DIR, file), `${json}\n`);
  console.log(`${file}: ${events} events`);
}

type WhileRunning = (validation: WorkflowHandle<typeof validatePipeline>, settled: () => boolean) => Promise<boolean>;

/**
 * Runs validatePipeline with `input` and, while it runs, `whileRunning` (until it returns true or the run ends).
 * Resolves to the report, also of a run that failed with its report as the failure's detail.
 */
async function runValidation(
  client: Client,
  input: Omit<ValidatePipelineInput, 'appName'>,
  whileRunning?: WhileRunning,
): Promise<ValidationReport> {
  const handle: WorkflowHandle<typeof validatePipeline> = await client.workflow.start<typeof validatePipeline>(
    'validatePipeline',
    {
      taskQueue: TASK_QUEUE,
      workflowId: validateId,
      args: [{ appName: APP, approvers: [APPROVER], ...input }],
    },
  );
  let settled = false;
  const result = handle.result().finally(() => {
    settled = true;
  });
  if (whileRunning) await whileRunning(handle, () => settled);
  return await result.catch((err: unknown) => {
    const report = failureReport(err);
    if (report) return report;
    throw err;
  });
}

/** The ValidationReport a failed validation carries as its failure's first detail. */
function failureReport(err: unknown): ValidationReport | undefined {
  if (!(err instanceof WorkflowFailedError)) return undefined;
  const cause = err.cause as { details?: unknown[] } | undefined;
  const report = cause?.details?.[0] as ValidationReport | undefined;
  return report && typeof report.status === 'string' ? report : undefined;
}

/** Once the promotion into `env` waits at its approval gate, `decide` with its handle. */
function atGate(env: Environment, decide: (promotion: WorkflowHandle) => Promise<void>): WhileRunning {
  return async (_validation, settled) => {
    const promotion = (await waitForGate(env, _validation, settled)) ?? undefined;
    if (promotion) await decide(promotion);
    return true;
  };
}

async function waitForGate(
  env: Environment,
  validation: WorkflowHandle,
  settled: () => boolean,
): Promise<WorkflowHandle | undefined> {
  const promotion = validation.client.getHandle(promoteId(env));
  const reached = await until(settled, async () => {
    const progress = await promotion.query(progressQuery).catch(() => undefined);
    return progress?.current?.name === 'approval';
  });
  return reached ? promotion : undefined;
}

const approve = async (promotion: WorkflowHandle): Promise<void> => {
  await promotion.executeUpdate(approveUpdate, { args: [{ by: APPROVER, reason: 'recording the replay histories' }] });
};

async function phaseOf(promotion: WorkflowHandle): Promise<PromotionPhase | undefined> {
  return (await promotion.query(currentImageQuery).catch(() => undefined))?.phase;
}

/** Polls `done` every 50 ms; false when the run settled first. */
async function until(settled: () => boolean, done: () => Promise<boolean>): Promise<boolean> {
  while (!settled()) {
    if (await done()) return true;
    await wait(50);
  }
  return false;
}

function expectStatus(report: ValidationReport, status: ValidationReport['status']): void {
  if (report.status !== status)
    throw new Error(`expected a ${status} run, got ${report.status}: ${report.failure?.message ?? ''}`);
}

/** Runs a recording left open (the ones taken at a gate) must not meet the next recording's runs. */
async function terminateOpenRuns(client: Client): Promise<void> {
  for (const id of [validateId, promoteId('stage'), promoteId('prod')]) {
    const handle = client.workflow.getHandle(id);
    const open = await handle
      .describe()
      .then((d) => d.status.name === 'RUNNING')
      .catch(() => false);
    if (open) await handle.terminate('the recording is done');
  }
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

await main(process.argv.slice(2));
