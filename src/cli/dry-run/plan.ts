/**
 * What a dry-run shows: per app, the steps a run would take (the version bump, then each environment it reaches),
 * each with the image from → to, the files its commit or merge request would change with their diff, and the gates
 * that would hold or stop it. Printed as text (render.ts) or as JSON, one plan per app.
 */

/** A file the step's commit or merge request would change, with its unified diff. */
export interface PlannedFile {
  readonly path: string;
  readonly diff: string;
}

/**
 * Something that would hold or stop the step. `effect`: `wait` (the run waits for it), `refuse` (the run fails
 * there and undoes what it did), `go-on` (the run goes on and its report records it).
 */
export type PlannedGate =
  | {
      readonly kind: 'approval';
      readonly effect: 'wait';
      /** Who may approve; empty: anyone. */
      readonly approvers: readonly string[];
      readonly message: string;
    }
  | {
      readonly kind: 'freeze';
      readonly effect: 'wait' | 'refuse' | 'go-on';
      /** Whether a window is open now; undefined when the windows could not be evaluated. */
      readonly frozen: boolean | undefined;
      readonly until?: string;
      readonly window?: string;
      readonly reason?: string;
      /** The environment's declared windows, as written. */
      readonly windows: readonly string[];
      readonly message: string;
    }
  | {
      readonly kind: 'source-not-healthy';
      readonly effect: 'refuse';
      readonly env: string;
      readonly reason: string;
      readonly message: string;
    }
  | {
      readonly kind: 'target-not-settled';
      readonly effect: 'refuse' | 'go-on';
      readonly env: string;
      readonly reason: string;
      readonly message: string;
    }
  | {
      readonly kind: 'declarations-disagree';
      readonly effect: 'refuse';
      readonly env: string;
      readonly message: string;
    };

/** What the step would do. */
export type StepAction =
  /** The version bump on the app repo (`env`: the environment it is delivered to first). */
  | 'bump'
  /** Deliver the new build to the first environment through CI's merge request. */
  | 'deliver'
  /** Promote the image into `env` through a promotion merge request. */
  | 'promote'
  /** The environment already runs the image, synced and healthy: the run ends `unchanged`. */
  | 'nothing-to-do';

export interface PlannedStep {
  readonly env: string;
  readonly action: StepAction;
  /** The environment the image comes from (promotions). */
  readonly source?: string;
  /** The image (or, for `bump`, the version) before; null when there is none or it cannot be known. */
  readonly from: string | null;
  /** The image (or version) after; a pattern with `<sha>` when it depends on a commit not made yet. */
  readonly to: string | null;
  /** The branch of the commit or merge request, and the branch it goes into. */
  readonly branch?: string;
  readonly into?: string;
  readonly files: readonly PlannedFile[];
  readonly gates: readonly PlannedGate[];
  /** What else to know about the step, in a sentence. */
  readonly note?: string;
}

export interface DryRunPlan {
  readonly app: string;
  readonly dryRun: true;
  readonly command: 'promote' | 'validate';
  readonly steps: readonly PlannedStep[];
}

/** A read the plan needed failed: which system, what was read, what to do. Exit 1. */
export class DryRunReadError extends Error {
  constructor(
    readonly system: 'gitlab' | 'kubernetes',
    readonly what: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const todo =
      system === 'gitlab'
        ? "check GITLAB_URL_EXTERNAL, GITLAB_TOKEN and the pipeline's projects and branches (`npx shepherd doctor`)"
        : "check KUBECONFIG (and the environment's cluster), the Argo CD namespace and the Application name (`npx shepherd doctor`)";
    super(`could not read ${what} from ${system === 'gitlab' ? 'GitLab' : 'Kubernetes'}: ${why}. What to do: ${todo}`, {
      cause,
    });
    this.name = 'DryRunReadError';
  }
}
