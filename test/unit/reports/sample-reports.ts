/** Validation reports of every shape the report writers must handle, for the JUnit and Markdown tests. */
import type {
  FanOutReport,
  IterationReport,
  PromotionReport,
  StepRecord,
  ValidationReport,
} from '../../../src/domain/report.js';

const T0 = Date.parse('2025-03-04T02:00:00.000Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

function step(name: string, startS: number, extra: Partial<StepRecord> = {}): StepRecord {
  return { name, status: 'succeeded', startedAt: at(startS), durationMs: 1500, attempts: 1, ...extra };
}

const devSteps: StepRecord[] = [
  step('bump-version', 0, { env: 'dev' }),
  step('await-ci-build', 2, {
    env: 'dev',
    imageTag: '1.0.37-abc1234',
    links: { build: 'https://jenkins.example/job/example-app/job/main/41/' },
    durationMs: 95_250,
  }),
  step('merge-merge-request', 100, {
    env: 'dev',
    links: { mergeRequest: 'https://gitlab.example/p2c/k8s-deployments/-/merge_requests/12' },
  }),
  step('await-argo-synced', 102, { env: 'dev', imageTag: '1.0.37-abc1234', attempts: 3 }),
];

const iteration = (
  n: 1 | 2 | 3,
  env: 'dev' | 'stage' | 'prod',
  steps: StepRecord[],
  extra: Partial<IterationReport> = {},
): IterationReport => ({
  iteration: n,
  env,
  status: 'succeeded',
  imageTag: '1.0.37-abc1234',
  previousImageTag: '1.0.36-0ffee00',
  steps,
  ...extra,
});

export function succeededReport(): ValidationReport {
  return {
    appName: 'example-app',
    status: 'succeeded',
    through: 'prod',
    version: '1.0.37',
    imageTag: '1.0.37-abc1234',
    startedAt: at(0),
    finishedAt: at(400),
    durationMs: 400_000,
    iterations: [
      iteration(1, 'dev', devSteps),
      iteration(
        2,
        'stage',
        [
          step('open-promotion-merge-request', 200, { env: 'stage' }),
          step('merge-merge-request', 210, { env: 'stage' }),
        ],
        { workflowId: 'promote-example-app-stage' },
      ),
      iteration(
        3,
        'prod',
        [
          step('approval', 300, { env: 'prod', attempts: undefined }),
          step('merge-merge-request', 390, { env: 'prod' }),
        ],
        { workflowId: 'promote-example-app-prod' },
      ),
    ],
    rollback: [],
  };
}

const degraded = {
  type: 'EnvironmentUnhealthy',
  message: 'stage: Deployment example-app has 0/2 ready replicas after 300 s',
  cause: {
    type: 'TimeoutFailure',
    message: 'activity StartToClose timeout',
    cause: { type: 'Error', message: 'pod example-app-7d9 CrashLoopBackOff' },
  },
};

/** Stage failed while waiting for the environment to become healthy; everything was undone. */
export function rolledBackReport(): ValidationReport {
  return {
    ...succeededReport(),
    status: 'rolled_back',
    through: 'prod',
    finishedAt: at(700),
    durationMs: 700_000,
    iterations: [
      iteration(1, 'dev', devSteps),
      iteration(
        2,
        'stage',
        [
          step('open-promotion-merge-request', 200, { env: 'stage' }),
          step('merge-merge-request', 210, { env: 'stage' }),
          step('await-healthy', 215, { env: 'stage', status: 'failed', durationMs: 300_000, failure: degraded }),
        ],
        { status: 'rolled_back', workflowId: 'promote-example-app-stage' },
      ),
      iteration(3, 'prod', [], { status: 'not_run', imageTag: undefined, previousImageTag: undefined }),
    ],
    failure: { ...degraded, step: 'await-healthy', iteration: 2 },
    rollback: [
      {
        action: 'revert-merge-request',
        env: 'stage',
        status: 'succeeded',
        target: '!13',
        detail: 'revert MR !14 merged',
      },
      {
        action: 'await-previous-image',
        env: 'stage',
        status: 'succeeded',
        target: 'example-app-stage',
        fromImageTag: '1.0.37-abc1234',
        toImageTag: '1.0.36-0ffee00',
      },
      {
        action: 'delete-branch',
        env: 'stage',
        status: 'skipped',
        target: 'promote-stage-1.0.37-abc1234',
        detail: 'already deleted',
      },
    ],
  };
}

/** Failed in dev before anything could be undone, and an undo that failed. Stage and prod never ran. */
export function failedEarlyReport(): ValidationReport {
  return {
    ...succeededReport(),
    status: 'failed',
    imageTag: undefined,
    durationMs: 60_000,
    iterations: [
      iteration(
        1,
        'dev',
        [
          step('bump-version', 0, { env: 'dev' }),
          step('await-ci-build', 2, { env: 'dev', status: 'failed' /* no failure summary recorded */ }),
        ],
        { status: 'failed', imageTag: undefined },
      ),
      iteration(2, 'stage', [], { status: 'not_run', imageTag: undefined }),
      iteration(3, 'prod', [], { status: 'not_run', imageTag: undefined }),
    ],
    failure: { type: 'BuildFailed', message: 'Jenkins build #42 FAILURE', step: 'await-ci-build', iteration: 1 },
    rollback: [
      {
        action: 'close-merge-request',
        env: 'dev',
        status: 'failed',
        target: '!11',
        failure: { type: 'GitLabUnavailable', message: 'HTTP 503' },
      },
    ],
  };
}

/** Text that XML and Markdown must escape: markup characters, quotes, control characters, a table pipe. */
export const NASTY =
  'a <b> & "c" \'d\' | e\u0000\u0001\u0008\u000b\u000c\u001f\ttab\r\nnext ]]> \ud800 \uffff end ✓ 🚀';

export function nastyReport(): ValidationReport {
  const r = rolledBackReport();
  const failure = { type: `Weird<&">Type`, message: NASTY, cause: { type: 'Cause', message: `inner ${NASTY}` } };
  return {
    ...r,
    appName: 'app-<&">',
    iterations: [
      iteration(
        1,
        'dev',
        [
          step(`step <&"> ${NASTY}`, 0, {
            env: 'dev',
            imageTag: NASTY,
            links: { mergeRequest: 'https://gitlab.example/mr?a=1&b=2' },
          }),
          step('fails', 5, { env: 'dev', status: 'failed', failure }),
        ],
        { status: 'rolled_back' },
      ),
      iteration(
        2,
        'stage',
        [step('cancelled', 9, { status: 'cancelled' }), step('running', 10, { status: 'running' })],
        { status: 'failed' },
      ),
      iteration(3, 'prod', [], { status: 'not_run' }),
    ],
    failure: { ...failure, step: 'fails', iteration: 1 },
    rollback: [
      {
        action: 'revert-merge-request',
        env: 'dev',
        status: 'failed',
        target: `!1 ${NASTY}`,
        failure: { type: 'X', message: NASTY },
      },
    ],
  };
}

/** A validation fan-out over three apps: one succeeded, one rolled back at stage, one failed in dev. */
export function validationFanOutReport(): FanOutReport {
  return {
    kind: 'validate',
    status: 'failed',
    concurrency: 2,
    startedAt: at(0),
    finishedAt: at(900),
    durationMs: 900_000,
    apps: [
      { ...succeededReport(), appName: 'orders' },
      { ...rolledBackReport(), appName: 'billing' },
      { ...failedEarlyReport(), appName: 'search' },
    ],
  };
}

/** A promotion fan-out dev → stage over two apps: one promoted, one reverted after its merge. */
export function promotionFanOutReport(): FanOutReport {
  const base: PromotionReport = {
    workflowId: 'promote-orders-stage',
    runId: 'run-1',
    status: 'succeeded',
    appName: 'orders',
    sourceEnv: 'dev',
    targetEnv: 'stage',
    imageTag: '1.0.37-abc1234',
    previousImageTag: '1.0.36-0ffee00',
    startedAt: at(0),
    finishedAt: at(120),
    durationMs: 120_000,
    steps: [step('merge-merge-request', 10, { env: 'stage' })],
    rollback: [],
  };
  return {
    kind: 'promote',
    status: 'rolled_back',
    concurrency: 4,
    sourceEnv: 'dev',
    targetEnv: 'stage',
    startedAt: at(0),
    finishedAt: at(130),
    durationMs: 130_000,
    apps: [
      base,
      {
        ...base,
        workflowId: 'promote-billing-stage',
        appName: 'billing',
        status: 'rolled_back',
        failure: degraded,
        steps: [step('await-healthy', 20, { env: 'stage', status: 'failed', failure: degraded })],
        rollback: [
          { action: 'revert-merge-request', env: 'stage', status: 'succeeded', target: '!21' },
          {
            action: 'await-previous-image',
            env: 'stage',
            status: 'succeeded',
            target: 'billing-stage',
            fromImageTag: '1.0.37-abc1234',
            toImageTag: '1.0.36-0ffee00',
          },
        ],
      },
    ],
  };
}
