/**
 * Shepherd's failure vocabulary. Each class NAME is the Temporal failure `type` that retry policies
 * (`nonRetryableErrorTypes`) and workflows match on; the facts that matter travel as the failure's first detail
 * (`facts`), never parsed back out of the message text. Messages and facts never carry a secret's value: an
 * authentication failure names the credential's variable, not its content.
 *
 * Pure: imported by workflows and activities alike, so no Node built-ins and nothing from Temporal here; the
 * conversion to and from Temporal failures lives at the Temporal edge (`src/temporal/common/failures.ts`).
 */
import type { Environment } from './environments.js';

/** The external systems an error can come from. */
export type SystemName = 'gitlab' | 'jenkins' | 'kubernetes' | 'argocd' | 'notifications' | 'shepherd';

/** Facts of each error type: the first detail of its ApplicationFailure. */
export interface ErrorFacts {
  ValidationError: { readonly field: string; readonly rule: string };
  AuthenticationError: { readonly system: SystemName; readonly status: 401 | 403; readonly credentialVariable: string };
  NotFoundError: {
    readonly system: SystemName;
    readonly kind: 'project' | 'job' | 'build' | 'application' | 'deployment' | 'merge-request' | 'branch';
    readonly name: string;
  };
  TransientError: { readonly system: SystemName; readonly status?: number; readonly retryAfterSeconds?: number };
  MergeConflictError: {
    readonly mergeRequestIid: number;
    readonly detailedMergeStatus?: string;
    /** The MR's page, for the person who has to act on it. */
    readonly webUrl?: string;
  };
  /** Part A: the MR's head pipeline failed and the project merges only when it succeeds. */
  MergeRequestPipelineFailedError: {
    readonly mergeRequestIid: number;
    readonly mergeRequestUrl: string;
    readonly pipelineId: number;
    /** `failed` or `canceled`. */
    readonly status: string;
    readonly pipelineUrl: string;
  };
  MergeRequestNotFoundError: {
    readonly targetEnv: Environment;
    readonly branchPrefix: string;
    readonly waitedSeconds: number;
  };
  BuildFailedError: {
    readonly job: string;
    readonly buildNumber: number;
    readonly result: 'FAILURE' | 'UNSTABLE' | 'ABORTED' | 'NOT_BUILT';
    readonly url: string;
    /** The last lines of the console log. */
    readonly consoleTail: string;
  };
  BuildCancelledError: {
    readonly job: string;
    readonly queueItemId?: number;
    readonly buildNumber?: number;
    readonly why?: string;
  };
  SyncFailedError: {
    readonly argoApp: string;
    readonly revision: string;
    readonly phase: string;
    readonly detail?: string;
  };
  AppDegradedError: {
    readonly env: Environment;
    readonly argoApp: string;
    readonly reason:
      'CrashLoopBackOff' | 'ImagePullBackOff' | 'ErrImagePull' | 'Degraded' | 'ProgressDeadlineExceeded' | 'NotReady';
    readonly pods: readonly { readonly name: string; readonly reason?: string; readonly restarts: number }[];
  };
  SourceNotHealthyError: {
    readonly env: Environment;
    readonly sync: string;
    readonly health: string;
    readonly runningImageTag?: string;
    readonly requestedImageTag?: string;
  };
  TargetNotSettledError: {
    readonly env: Environment;
    /** Why the target does not hold: Argo CD's word, or what runs against what git declares. */
    readonly reason: string;
    readonly sync: string;
    readonly health: string;
    readonly runningImageTag?: string;
    readonly declaredImageTag?: string;
  };
  WaitTimeoutError: { readonly waitingFor: string; readonly timeoutSeconds: number; readonly lastSeen?: string };
  ApprovalRejectedError: {
    readonly env: Environment;
    readonly by: string;
    readonly reason: string;
    readonly timedOut: boolean;
  };
  SupersededError: { readonly env: Environment; readonly byImageTag: string; readonly by?: string };
  /** A promotion met a freeze window of its target whose policy is `refuse`. */
  FreezeWindowError: {
    readonly env: Environment;
    /** ISO instant the freeze ends. */
    readonly until: string;
    /** The window, as declared: `Fri 16:00 → Mon 08:00 Europe/Berlin`. */
    readonly window: string;
    readonly reason?: string;
  };
  ValidationAlreadyRunningError: { readonly appName: string; readonly lockWorkflowId: string };
  PromotionAlreadyRunningError: { readonly env: Environment; readonly workflowId: string };
  BranchProtectedError: {
    readonly system: 'gitlab';
    readonly project: string;
    readonly branch: string;
    /** GitLab's own words, e.g. `403 Forbidden - You are not allowed to push into this branch`. */
    readonly detail: string;
  };
  /** Part C: Argo CD's health says waiting cannot help (real-installations.md §8.3). */
  AppHealthBlockedError: {
    readonly env: Environment;
    readonly argoApp: string;
    readonly namespace: string;
    readonly health: 'Suspended' | 'Missing' | 'Unknown';
    /** The revision Argo CD synced (ours, or one that contains it). */
    readonly revision: string;
    /** Argo CD's health message, or its error conditions for `Unknown`. */
    readonly detail?: string;
  };
  /** Part F: a TLS certificate the client does not accept; `code` is OpenSSL's (`SELF_SIGNED_CERT_IN_CHAIN`). */
  CertificateError: { readonly system: SystemName; readonly code: string; readonly reason: string };
}

export type ShepherdErrorType = keyof ErrorFacts;

/**
 * Which failures are worth retrying. Only transient trouble is: everything else is a fact about the world that a
 * retry cannot change (bad input, a red build, a crashing pod) and must fail fast with its cause.
 */
export const ERROR_RETRYABLE = {
  ValidationError: false,
  AuthenticationError: false,
  NotFoundError: false,
  TransientError: true,
  MergeConflictError: false,
  MergeRequestPipelineFailedError: false,
  MergeRequestNotFoundError: false,
  BuildFailedError: false,
  BuildCancelledError: false,
  SyncFailedError: false,
  AppDegradedError: false,
  SourceNotHealthyError: false,
  TargetNotSettledError: false,
  WaitTimeoutError: false,
  ApprovalRejectedError: false,
  SupersededError: false,
  // The window is the pipeline's declaration: a retry in seconds meets the same window.
  FreezeWindowError: false,
  ValidationAlreadyRunningError: false,
  PromotionAlreadyRunningError: false,
  BranchProtectedError: false,
  AppHealthBlockedError: false,
  // Trust is configuration (SHEPHERD_CA_FILE) or the server's certificate: a retry changes neither.
  CertificateError: false,
} as const satisfies Record<ShepherdErrorType, boolean>;

/** For `retry.nonRetryableErrorTypes` of every activity preset. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ShepherdErrorType[] = (
  Object.keys(ERROR_RETRYABLE) as ShepherdErrorType[]
).filter((t) => !ERROR_RETRYABLE[t]);

export function isShepherdErrorType(type: unknown): type is ShepherdErrorType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(ERROR_RETRYABLE, type);
}

/** Base of every Shepherd error: `name` is the class name and the failure type; `facts` are its details. */
export abstract class ShepherdError<T extends ShepherdErrorType = ShepherdErrorType> extends Error {
  constructor(
    readonly type: T,
    message: string,
    readonly facts: ErrorFacts[T],
  ) {
    super(message);
    this.name = type;
  }
}

export class ValidationError extends ShepherdError<'ValidationError'> {
  constructor(field: string, rule: string, message = `${field} ${rule}`) {
    super('ValidationError', message, { field, rule });
  }
}

export class AuthenticationError extends ShepherdError<'AuthenticationError'> {
  constructor(facts: ErrorFacts['AuthenticationError']) {
    super(
      'AuthenticationError',
      `${facts.system} refused the credentials (HTTP ${facts.status}): check ${facts.credentialVariable}`,
      facts,
    );
  }
}

export class NotFoundError extends ShepherdError<'NotFoundError'> {
  constructor(facts: ErrorFacts['NotFoundError']) {
    super('NotFoundError', `${facts.system} has no ${facts.kind} ${JSON.stringify(facts.name)}`, facts);
  }
}

export class TransientError extends ShepherdError<'TransientError'> {
  constructor(message: string, facts: ErrorFacts['TransientError']) {
    super('TransientError', message, facts);
  }
}

export class MergeConflictError extends ShepherdError<'MergeConflictError'> {
  constructor(
    facts: ErrorFacts['MergeConflictError'],
    message = `merge request !${facts.mergeRequestIid} cannot be merged (${facts.detailedMergeStatus ?? 'conflict'})`,
  ) {
    super('MergeConflictError', message, facts);
  }
}

/**
 * The project merges only when the MR's head pipeline succeeds (`ci_must_pass`), and that pipeline ended failed or
 * canceled: a retry cannot change it; someone has to look at the pipeline, fix or re-run it.
 */
export class MergeRequestPipelineFailedError extends ShepherdError<'MergeRequestPipelineFailedError'> {
  constructor(facts: ErrorFacts['MergeRequestPipelineFailedError']) {
    super(
      'MergeRequestPipelineFailedError',
      `merge request !${facts.mergeRequestIid} cannot be merged: its pipeline ${facts.pipelineUrl} ${facts.status === 'canceled' ? 'was canceled' : 'failed'}, and the project merges only when the pipeline succeeds; fix or re-run the pipeline (${facts.mergeRequestUrl}), then run again`,
      facts,
    );
  }
}

export class MergeRequestNotFoundError extends ShepherdError<'MergeRequestNotFoundError'> {
  constructor(facts: ErrorFacts['MergeRequestNotFoundError']) {
    super(
      'MergeRequestNotFoundError',
      `no open merge request ${facts.branchPrefix}* into ${facts.targetEnv} appeared within ${facts.waitedSeconds}s`,
      facts,
    );
  }
}

export class BuildFailedError extends ShepherdError<'BuildFailedError'> {
  constructor(facts: ErrorFacts['BuildFailedError']) {
    super('BuildFailedError', `Jenkins ${facts.job} #${facts.buildNumber} ended ${facts.result} (${facts.url})`, facts);
  }
}

export class BuildCancelledError extends ShepherdError<'BuildCancelledError'> {
  constructor(facts: ErrorFacts['BuildCancelledError']) {
    const what = facts.buildNumber !== undefined ? `#${facts.buildNumber}` : `queue item ${facts.queueItemId ?? '?'}`;
    super(
      'BuildCancelledError',
      `Jenkins ${facts.job} ${what} was cancelled${facts.why ? `: ${facts.why}` : ''}`,
      facts,
    );
  }
}

export class SyncFailedError extends ShepherdError<'SyncFailedError'> {
  constructor(facts: ErrorFacts['SyncFailedError']) {
    super(
      'SyncFailedError',
      `Argo CD ${facts.argoApp} sync of ${facts.revision.slice(0, 8)} ended ${facts.phase}${facts.detail ? `: ${facts.detail}` : ''}`,
      facts,
    );
  }
}

export class AppDegradedError extends ShepherdError<'AppDegradedError'> {
  constructor(facts: ErrorFacts['AppDegradedError']) {
    const pods = facts.pods.length > 0 ? ` (${facts.pods.map((p) => p.name).join(', ')})` : '';
    super('AppDegradedError', `${facts.argoApp} in ${facts.env} is unhealthy: ${facts.reason}${pods}`, facts);
  }
}

export class SourceNotHealthyError extends ShepherdError<'SourceNotHealthyError'> {
  constructor(
    facts: ErrorFacts['SourceNotHealthyError'],
    message = `source environment ${facts.env} is not synced and healthy (sync ${facts.sync}, health ${facts.health})`,
  ) {
    super('SourceNotHealthyError', message, facts);
  }
}

/**
 * The target environment does not run what its env branch declares, synced and healthy, before a promotion: a
 * rollback would have no trustworthy place to return to. Refused unless the run was started with
 * `allowUnsettledTarget`.
 */
export class TargetNotSettledError extends ShepherdError<'TargetNotSettledError'> {
  constructor(
    facts: ErrorFacts['TargetNotSettledError'],
    message = `target environment ${facts.env} is not settled: ${facts.reason}`,
  ) {
    super('TargetNotSettledError', message, facts);
  }
}

export class WaitTimeoutError extends ShepherdError<'WaitTimeoutError'> {
  constructor(facts: ErrorFacts['WaitTimeoutError']) {
    super(
      'WaitTimeoutError',
      `gave up waiting for ${facts.waitingFor} after ${facts.timeoutSeconds}s${facts.lastSeen ? ` (last seen: ${facts.lastSeen})` : ''}`,
      facts,
    );
  }
}

export class ApprovalRejectedError extends ShepherdError<'ApprovalRejectedError'> {
  constructor(facts: ErrorFacts['ApprovalRejectedError']) {
    super(
      'ApprovalRejectedError',
      facts.timedOut
        ? `promotion to ${facts.env} was not approved in time`
        : `promotion to ${facts.env} was rejected by ${facts.by}: ${facts.reason}`,
      facts,
    );
  }
}

export class SupersededError extends ShepherdError<'SupersededError'> {
  constructor(facts: ErrorFacts['SupersededError']) {
    super(
      'SupersededError',
      `promotion to ${facts.env} was superseded by image ${facts.byImageTag}${facts.by ? ` (requested by ${facts.by})` : ''}`,
      facts,
    );
  }
}

/**
 * The target environment is frozen and its freeze policy is `refuse`: the promotion stops before its merge. Says
 * until when, and the two ways on: promote again after the window, or start it again and have an approver
 * override the freeze.
 */
export class FreezeWindowError extends ShepherdError<'FreezeWindowError'> {
  constructor(facts: ErrorFacts['FreezeWindowError'], workflowId?: string) {
    const override = workflowId
      ? `\`npx shepherd override-freeze ${workflowId} --by NAME --reason TEXT\``
      : '`npx shepherd override-freeze <workflow id> --by NAME --reason TEXT`';
    super(
      'FreezeWindowError',
      `refusing to promote to ${facts.env}: it is frozen until ${facts.until} (${facts.window}${facts.reason ? `: ${facts.reason}` : ''}) and its freeze policy is refuse. What to do: promote again after ${facts.until}, or, when the change cannot wait, start the promotion again and have an approver of ${facts.env} override the freeze before it reaches its merge: ${override}`,
      facts,
    );
  }
}

/** Another validation of the app holds its lock: one validation per app runs at a time. */
export class ValidationAlreadyRunningError extends ShepherdError<'ValidationAlreadyRunningError'> {
  constructor(facts: ErrorFacts['ValidationAlreadyRunningError']) {
    super(
      'ValidationAlreadyRunningError',
      `another validation of ${facts.appName} is running (it holds ${facts.lockWorkflowId}); one validation per app runs at a time, so this one changed nothing: see it with \`npx shepherd status\` and start again after it finished`,
      facts,
    );
  }
}

/** A validation's promotion could not start: a promotion of the same target, started elsewhere, runs. */
export class PromotionAlreadyRunningError extends ShepherdError<'PromotionAlreadyRunningError'> {
  constructor(facts: ErrorFacts['PromotionAlreadyRunningError']) {
    super(
      'PromotionAlreadyRunningError',
      `a promotion to ${facts.env} started outside this validation is running as ${facts.workflowId}; an environment is never switched mid-promotion, so the validation stops here and unwinds: see it with \`npx shepherd status ${facts.workflowId}\` and run the validation again after it finished`,
      facts,
    );
  }
}

/**
 * A server's TLS certificate was refused: not issued by a CA Shepherd trusts, for another host, or expired. The
 * message names the fix (SHEPHERD_CA_FILE, the URL, or renewing the certificate).
 */
export class CertificateError extends ShepherdError<'CertificateError'> {
  /** What to do about it, also the end of the message: `set SHEPHERD_CA_FILE to your company CA bundle (PEM), …`. */
  readonly fix: string;
  constructor(facts: ErrorFacts['CertificateError'], cause: string, fix: string) {
    super('CertificateError', `${cause}: ${fix}`, facts);
    this.fix = fix;
  }
}

/** A failure as the report shows it: type, message, facts, and the cause when the failure wraps one. */
export interface FailureSummary {
  readonly type: string;
  readonly message: string;
  readonly facts?: unknown;
  readonly cause?: FailureSummary;
}

/** The facts of a failure of the given type, or undefined when `failure` is of another type. */
export function factsOf<T extends ShepherdErrorType>(failure: FailureSummary, type: T): ErrorFacts[T] | undefined {
  return failure.type === type ? (failure.facts as ErrorFacts[T]) : undefined;
}

/**
 * GitLab refused a push because of the branch's protection (not the token: it is valid, the branch allows no direct
 * push for its user). Says so and what to change, never "check GITLAB_TOKEN".
 */
export class BranchProtectedError extends ShepherdError<'BranchProtectedError'> {
  constructor(facts: ErrorFacts['BranchProtectedError']) {
    super(
      'BranchProtectedError',
      `GitLab refused the push to ${facts.branch} of ${facts.project}: the branch is protected (${facts.detail}). ` +
        'Let Shepherd bump through a merge request (SHEPHERD_BUMP_VIA=auto or merge-request), name a branch it may push to (SHEPHERD_BUMP_BRANCH), or allow pushes for its user in the branch protection.',
      facts,
    );
  }
}

/** What to do about each blocked health, in the error's message. */
const HEALTH_ADVICE: Record<
  ErrorFacts['AppHealthBlockedError']['health'],
  (f: ErrorFacts['AppHealthBlockedError']) => string
> = {
  Suspended: (f) =>
    `something paused its workload (a Deployment's spec.paused, a suspended Job or Rollout); resume it (kubectl -n ${f.namespace} rollout resume deployment/<name>) and run the promotion again`,
  Missing: (f) =>
    `the objects Argo CD applied at ${f.revision.slice(0, 8)} are not in the cluster although the sync succeeded (deleted by someone or by another controller); find what removes them from namespace ${f.namespace}, sync ${f.argoApp}, and run the promotion again`,
  Unknown: (f) =>
    `Argo CD cannot assess it (a manifest that does not render, a failing health check); fix what the Application's conditions name (argocd app get ${f.argoApp}) and run the promotion again`,
};

/**
 * Part C. Argo CD reports a health that waiting will not change (real-installations.md §8.3): `Suspended` (paused
 * by someone), `Missing` after a sync that succeeded (the objects were removed), `Unknown` (assessment or comparison
 * failed). Raised instead of waiting for the deadline.
 */
export class AppHealthBlockedError extends ShepherdError<'AppHealthBlockedError'> {
  constructor(facts: ErrorFacts['AppHealthBlockedError']) {
    super(
      'AppHealthBlockedError',
      `Argo CD ${facts.argoApp} in ${facts.env} is ${facts.health}${facts.detail ? ` (${facts.detail})` : ''}: ${HEALTH_ADVICE[facts.health](facts)}`,
      facts,
    );
  }
}
