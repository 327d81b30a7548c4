/**
 * How long each kind of wait may take before it ends with WaitTimeoutError, in seconds: the defaults of a run's
 * wait budgets. Each says why its number is what it is.
 */
export const WAIT_BUDGETS = {
  /** The CI build must start within 10 min of the bump: the webhook scan plus a queue on a busy Jenkins. */
  ciBuildStart: 600,
  /** A build finishes within 1 h: the CI job's own timeout (`timeout(time: 1, unit: 'HOURS')`). */
  build: 3600,
  /** CI or the promote job opens its MR within 5 min of the build finishing; the branch CI regenerates manifests first. */
  mergeRequest: 300,
  /** GitLab works out whether an MR can be merged (`checking`, a pipeline for the MR) within 10 min. */
  mergeability: 600,
  /** Argo CD polls every 3 min and retries a sync 5× with backoff up to 3 min: 15 min covers both. */
  sync: 900,
  /** A rolling update of up to 3 replicas with readiness probes plus a 60 s stability window: 10 min. */
  workload: 600,
} as const;
