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
