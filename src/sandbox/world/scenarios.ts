/**
 * The catalogue of named fault scenarios. Each is plain data (the schema is in core/faults.ts), so a user can also
 * pass their own as a JSON file. Times are wall-clock milliseconds after the scenario is switched on.
 */
import type { ScenarioInput } from '../core/faults.js';

export const SCENARIOS: readonly ScenarioInput[] = [
  {
    name: 'gitlab-flaky',
    description:
      'GitLab answers 503 to three merge-request calls and 429 (Retry-After: 1) to three more, then recovers.',
    http: [
      { system: 'gitlab', path: '/merge_requests', status: 503, count: 3 },
      { system: 'gitlab', path: '/merge_requests', status: 429, retryAfterSeconds: 1, count: 3 },
    ],
  },
  {
    name: 'jenkins-flaky',
    description: 'Jenkins answers 502 to four calls and 503 to two more, then recovers.',
    http: [
      { system: 'jenkins', status: 502, count: 4 },
      { system: 'jenkins', status: 503, count: 2 },
    ],
  },
  {
    name: 'kubernetes-flaky',
    description: 'The Kubernetes API answers 500 to three calls and 429 (Retry-After: 1) to two more, then recovers.',
    http: [
      { system: 'kubernetes', path: '^/api', status: 500, count: 3 },
      { system: 'kubernetes', path: '^/api', status: 429, retryAfterSeconds: 1, count: 2 },
    ],
  },
  {
    name: 'slow-systems',
    description: 'Every GitLab, Jenkins and Kubernetes call takes 200 ms longer.',
    http: [
      { system: 'gitlab', latencyMs: 200 },
      { system: 'jenkins', latencyMs: 200 },
      { system: 'kubernetes', latencyMs: 200 },
    ],
  },
  {
    name: 'gitlab-outage',
    description: 'GitLab is down (connections refused) from 2 s to 12 s after activation.',
    http: [{ system: 'gitlab', down: true, afterMs: 2_000, forMs: 10_000 }],
  },
  {
    name: 'jenkins-outage',
    description: 'Jenkins is down from 2 s to 12 s after activation.',
    http: [{ system: 'jenkins', down: true, afterMs: 2_000, forMs: 10_000 }],
  },
  {
    name: 'kubernetes-outage',
    description: 'The Kubernetes API is down from 2 s to 12 s after activation.',
    http: [{ system: 'kubernetes', down: true, afterMs: 2_000, forMs: 10_000 }],
  },
  {
    name: 'ci-build-fails',
    description: 'The next CI build of the app fails in Unit Tests.',
    domain: [{ kind: 'ci-build-fails', count: 1 }],
  },
  {
    name: 'ci-build-unstable',
    description:
      'The next CI build has a failed test: its junit step marks it UNSTABLE, and it still publishes the image and opens the dev MR.',
    domain: [{ kind: 'ci-build-unstable', count: 1 }],
  },
  {
    name: 'promote-job-fails',
    description: 'The next promote-environment build fails while pushing its branch.',
    domain: [{ kind: 'promote-job-fails', count: 1 }],
  },
  {
    name: 'promote-job-cancelled',
    description: 'The next promote-environment queue item is cancelled before it starts.',
    domain: [{ kind: 'promote-job-cancelled', count: 1 }],
  },
  {
    name: 'promote-job-starved',
    description:
      'The next promote-environment queue item never gets an executor ("Waiting for next available executor") until cancelled.',
    domain: [{ kind: 'promote-job-starved', count: 1 }],
  },
  {
    name: 'promote-job-hangs',
    description: 'The next promote-environment build opens its MR, then hangs in a post step until it is stopped.',
    domain: [{ kind: 'promote-job-hangs', count: 1 }],
  },
  {
    name: 'stage-mr-conflict',
    description: 'MRs to stage cannot be merged: their mergeability check ends in conflict.',
    domain: [{ kind: 'mr-conflict', env: 'stage' }],
  },
  {
    name: 'mr-head-moves',
    description: 'Someone pushes to the source branch of the next MR just before it is merged.',
    domain: [{ kind: 'mr-head-moves', count: 1 }],
  },
  {
    name: 'gitlab-merge-answer-lost',
    description:
      'GitLab merges the next MR but its answer is lost: the proxy in front of GitLab answers 504 Gateway Timeout.',
    http: [
      {
        system: 'gitlab',
        method: 'PUT',
        path: '/merge_requests/\\d+/merge$',
        answerLost: true,
        status: 504,
        count: 1,
      },
    ],
  },
  {
    name: 'stage-mr-merged-by-other',
    description:
      'Someone pushes to the next MR into stage and merges it from the web UI just before Shepherd does: Shepherd finds it merged with a head it never saw.',
    domain: [{ kind: 'mr-merged-by-other', env: 'stage', count: 1 }],
  },
  {
    name: 'stage-sync-fails',
    description: 'Argo CD sync operations for stage fail.',
    domain: [{ kind: 'argo-sync-fails', env: 'stage' }],
  },
  {
    name: 'stage-sync-hangs',
    description: 'Argo CD sync operations for stage stay Running and never finish.',
    domain: [{ kind: 'argo-sync-hangs', env: 'stage' }],
  },
  {
    name: 'stage-degraded',
    description:
      'Whenever a new image reaches stage its pods crash (CrashLoopBackOff) and the app goes Degraded; images stage already ran healthy still work.',
    domain: [{ kind: 'pods-crashloop', env: 'stage', newImageOnly: true }],
  },
  {
    name: 'dev-not-ready',
    description: 'New images in dev run but never pass their readiness probe.',
    domain: [{ kind: 'app-degraded', env: 'dev', newImageOnly: true }],
  },
  {
    name: 'prod-image-pull',
    description: 'New images in prod cannot be pulled (ErrImagePull, then ImagePullBackOff).',
    domain: [{ kind: 'pods-imagepull', env: 'prod', newImageOnly: true }],
  },
  // Real installations (issue 13): the app project's protected default branch.
  {
    name: 'protected-main',
    description:
      "The app project's main branch is protected with no one allowed to push: the version bump must go through a merge request.",
    installation: { protectedAppDefault: true },
  },
  // Part E: finding the CI build of a commit, robust Jenkins.
  {
    name: 'jenkins-shared-library',
    description:
      "The CI job's Jenkinsfile loads a Pipeline shared library: each CI build carries the library's BuildData (another repo and commit) before the app repo's, and the multibranch SCMRevisionAction.",
    installation: { jenkinsSharedLibrary: true },
  },
  {
    name: 'jenkins-slow-start',
    description:
      'Queue items of the CI and promote jobs leave the queue (not cancelled) with no build for 5 minutes of real time (3 s at the default scale) before their build starts.',
    installation: { jenkinsSlowStartMs: 300_000 },
  },
  // Part C: Argo CD as real teams run it.
  {
    name: 'shared-env-branch',
    description:
      "Other apps' teams commit to the env branches too: right after each merge another commit lands on top, so Argo CD syncs a descendant of the merge commit.",
    installation: { sharedEnvBranch: true },
  },
  {
    name: 'manual-sync-prod',
    description:
      'The prod Application has no automated sync: it syncs only when someone writes its `operation` (Shepherd does, with SHEPHERD_ARGOCD_MANUAL_SYNC=prod).',
    installation: { manualSync: ['prod'] },
  },
  {
    name: 'multi-source',
    description:
      'Every Application declares spec.sources (a `ref: values` source, then the manifests source): Argo CD reports sync.revisions[], never sync.revision.',
    installation: { multiSource: true },
  },
  {
    name: 'stage-suspended',
    description: 'Right after each sync of a new image to stage the Deployment is paused: Argo CD reports Suspended.',
    domain: [{ kind: 'argo-health-suspended', env: 'stage', newImageOnly: true }],
  },
  {
    name: 'stage-missing',
    description:
      'Right after each sync of a new image to stage the Deployment is deleted (a cleanup job): Argo CD reports Missing although the sync Succeeded.',
    domain: [{ kind: 'argo-health-missing', env: 'stage', newImageOnly: true }],
  },
  {
    name: 'stage-health-unknown',
    description: "Argo CD cannot render stage's manifests for a new image (ComparisonError): sync and health Unknown.",
    domain: [{ kind: 'argo-health-unknown', env: 'stage', newImageOnly: true }],
  },
  // Part A: GitLab merge rules.
  {
    name: 'ci-must-pass',
    description:
      'The deployments project runs a pipeline on every MR head and merges only when it succeeds (ci_still_running, then mergeable).',
    installation: { deploymentsCi: 'succeeds' },
  },
  {
    name: 'ci-must-pass-fails',
    description:
      'Like ci-must-pass, but the pipelines of MRs into stage and prod fail: a run fails at stage naming the pipeline, closes its MR, and dev keeps the new image.',
    installation: { deploymentsCi: 'fails' },
  },
  {
    name: 'ff-merge',
    description:
      'The deployments project merges fast-forward only, and another team pushes to the env branch while each MR is open: every MR needs a rebase (need_rebase) before it merges.',
    installation: { mergeMethod: 'ff', envBranchMoves: true },
  },
  // Part D: pods as Kubernetes selects them.
  {
    name: 'sibling-workload',
    description:
      "The team's queue worker (Deployment example-app-worker, selected by matchLabels and a matchExpression, two containers) runs next to the app in every namespace on an image of its own, its pods labelled app=example-app too: only the app's Deployment's selector and current ReplicaSet tell its pods apart.",
    installation: { siblingWorkload: true },
  },
  // Part B: approvals with a real identity.
  {
    name: 'gitlab-approvals',
    description:
      'prod needs an approval in GitLab (EE approval rules) from alice, an eligible user with her own token; Shepherd (the MR author) may not approve. The demo approves as alice through the real endpoint.',
    installation: { gitlabApprovals: { environments: ['prod'], approvers: ['alice'] } },
  },
  // Part F: private CAs.
  {
    name: 'tls',
    description:
      "Every system (GitLab, Jenkins, the Kubernetes API, the admin endpoint) serves HTTPS with a certificate of the world's own CA, as behind a company CA; the world writes ca.pem and sets SHEPHERD_CA_FILE to it.",
    installation: { tls: true },
  },
];

export function findScenario(name: string): ScenarioInput | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/**
 * The seed's environment a catalogue scenario names, as the pipeline's: `dev` is the pipeline's first environment,
 * `stage` its second, `prod` its last, unless the pipeline has an environment of that very name.
 */
function environmentFor(env: string, order: readonly string[]): string {
  if (order.includes(env)) return env;
  if (env === 'dev') return order[0] ?? env;
  if (env === 'stage') return order[1] ?? env;
  if (env === 'prod') return order[order.length - 1] ?? env;
  return env;
}

/**
 * A scenario fitted to a pipeline: the environments its rules and installation traits name become the pipeline's
 * (`stage-degraded` degrades the second environment, whatever its name); with `app`, its domain faults apply to that
 * app only (`--scenario stage-degraded@<app>`), else to every app.
 */
export function scenarioForPipeline(scenario: ScenarioInput, order: readonly string[], app?: string): ScenarioInput {
  const env = (e: string): string => environmentFor(e, order);
  const installation = scenario.installation;
  return {
    ...scenario,
    ...(scenario.domain
      ? {
          domain: scenario.domain.map((rule) => ({
            ...rule,
            ...(rule.env !== undefined ? { env: env(rule.env) } : {}),
            ...(app !== undefined && rule.app === undefined ? { app } : {}),
          })),
        }
      : {}),
    ...(installation
      ? {
          installation: {
            ...installation,
            ...(installation.manualSync ? { manualSync: installation.manualSync.map(env) } : {}),
            ...(installation.gitlabApprovals
              ? {
                  gitlabApprovals: {
                    ...installation.gitlabApprovals,
                    environments: installation.gitlabApprovals.environments.map(env),
                  },
                }
              : {}),
          },
        }
      : {}),
  };
}
