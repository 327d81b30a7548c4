/**
 * The workflow inputs: one JSON object each, so that the Temporal UI's "Start Workflow" form and
 * `temporal workflow start --input '{...}'` can start them. Parsed with zod inside the workflow before anything
 * else runs; unknown keys are refused so that a typo fails loudly instead of being ignored.
 *
 * Approval policy and approvers are input fields with secret-free defaults (prod needs approval, anyone may
 * approve). Shepherd's CLI and webhook fill them from configuration (`SHEPHERD_APPROVAL_*`); a run started by hand
 * from the UI gets the defaults unless it says otherwise.
 */
import { z } from 'zod';
import { ENVIRONMENTS, isLegalPromotion, promotionPaths, type Environment } from './environments.js';
import { DURATION_PATTERN } from './duration.js';
import { ValidationError } from './errors.js';
import { WAIT_BUDGETS } from './wait-budgets.js';

/** Seconds each kind of wait may take (the presets, or the run's overrides). */
export type WaitBudgets = { readonly [K in keyof typeof WAIT_BUDGETS]: number };

export const PROMOTION_MODES = ['jenkins', 'gitlab'] as const;
/** `jenkins`: run the `promote-environment` job as the seed design does; `gitlab`: open the MR through the API. */
export type PromotionMode = (typeof PROMOTION_MODES)[number];

export const APPROVAL_SOURCES = ['temporal', 'gitlab'] as const;
/**
 * Where a gated promotion's approval comes from. `temporal` (default): the `approve` update, `by` checked against
 * the approvers list. `gitlab`: an eligible user approves the promotion MR in GitLab, which authenticates them and
 * enforces its approval rules; the run records the GitLab user (SHEPHERD_APPROVALS_SOURCE).
 */
export type ApprovalSource = (typeof APPROVAL_SOURCES)[number];

export const ROLLBACK_SCOPES = ['failed', 'all'] as const;
/**
 * `failed` (default): undo the environment whose hop failed plus the run's open MRs and branches; environments the
 * run already verified keep the new image. `all`: also revert every environment the run changed, newest first.
 */
export type RollbackScope = (typeof ROLLBACK_SCOPES)[number];

/**
 * What a Jenkins build that ends UNSTABLE (it ran to its end, but a step marked it unstable: usually failed tests)
 * means to a run: `failure` (default) stops the run like FAILURE, `success` carries on like SUCCESS.
 */
export const UNSTABLE_BUILD_OUTCOMES = ['failure', 'success'] as const;
export type UnstableBuildOutcome = (typeof UNSTABLE_BUILD_OUTCOMES)[number];

/** The default approval gate: only prod needs a human. */
export const DEFAULT_APPROVAL_ENVIRONMENTS: readonly Environment[] = ['prod'];
export const DEFAULT_APPROVAL_TIMEOUT = '24h';
/** A dead worker's wait moves to another worker within a minute (see LONG_WAIT). */
export const DEFAULT_HEARTBEAT_TIMEOUT = '1m';

/** The rules, worded as the error messages say them. */
export const RULES = {
  required: 'is required',
  string: 'must be a string',
  empty: 'must not be empty',
  appName:
    'must be a Kubernetes name: lowercase letters, digits and "-", at most 53 characters, starting and ending with a letter or digit',
  imageTag:
    'must be a Docker tag (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-") that is also a valid branch name part (no "..", not ending in ".lock")',
  environment: `must be one of ${ENVIRONMENTS.join(', ')}`,
  environments: `must be a list of environments, each one of ${ENVIRONMENTS.join(', ')}`,
  promotion: 'must be the environment after sourceEnv: dev→stage or stage→prod',
  mode: `must be one of ${PROMOTION_MODES.join(', ')}`,
  rollback: `must be one of ${ROLLBACK_SCOPES.join(', ')}`,
  unstableBuilds: `must be one of ${UNSTABLE_BUILD_OUTCOMES.join(', ')}`,
  approvalSource: `must be one of ${APPROVAL_SOURCES.join(', ')}`,
  duration: 'must be a duration such as "30m", "24h" or "2d" (a positive whole number followed by ms, s, m, h or d)',
  runMarker: 'must be 1-200 characters of letters, digits, ".", "_", ":", "/" and "-"',
  boolean: 'must be true or false',
  unknownKey: 'is not a known field',
  approvers: 'must be a list of non-empty names',
  object: 'must be a JSON object',
  budget: 'must be whole seconds from 1 to 604800',
  decider: 'must name who decides',
  deciderLength: 'must be at most 200 characters',
  reason: 'must be a string of at most 2000 characters',
  environmentName: 'must be an environment name: lowercase letters, digits and "-"',
  environmentList: 'must list at least two different environments, in promotion order',
} as const;

const KUBERNETES_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const RUN_MARKER = /^[A-Za-z0-9._:/-]{1,200}$/;

export function isAppName(value: string): boolean {
  return value.length <= 53 && KUBERNETES_NAME.test(value);
}

export function isImageTag(value: string): boolean {
  return DOCKER_TAG.test(value) && !value.includes('..') && !value.endsWith('.lock');
}

/** A missing field says so ("appName is required") instead of stating the rule for a value it does not have. */
const requiredOr =
  (rule: string) =>
  (issue: { readonly input?: unknown }): string =>
    issue.input === undefined ? RULES.required : rule;

const nonEmpty = () => z.string({ error: requiredOr(RULES.string) }).min(1, { error: RULES.empty });
const appName = nonEmpty().refine(isAppName, { error: RULES.appName });
const imageTag = nonEmpty().refine(isImageTag, { error: RULES.imageTag });
/** One of the run's environments (`order`: the pipeline's, in promotion order; default the seed's). */
const environmentOf = (order: readonly string[]) =>
  z.enum(order as unknown as [string, ...string[]], { error: requiredOr(`must be one of ${order.join(', ')}`) });
const ENVIRONMENT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const duration = nonEmpty().regex(DURATION_PATTERN, { error: RULES.duration });
const bool = z.boolean({ error: RULES.boolean });
const approvers = z.array(nonEmpty(), { error: RULES.approvers });
const budgetSeconds = z
  .number({ error: RULES.budget })
  .int({ error: RULES.budget })
  .min(1, { error: RULES.budget })
  .max(7 * 24 * 3600, { error: RULES.budget });

/**
 * The pipeline's environments in promotion order (default: the seed's dev, stage, prod). The CLI fills it from the
 * pipeline file; the run's environment fields must name one of them, and a promotion goes to the next one.
 */
const environmentsField = z
  .array(z.string({ error: RULES.environmentName }).regex(ENVIRONMENT_NAME, { error: RULES.environmentName }), {
    error: RULES.environmentList,
  })
  .min(2, { error: RULES.environmentList })
  .refine((names) => new Set(names).size === names.length, { error: RULES.environmentList });

/** The order of `raw.environments` when it is a valid one, else the seed's (its problems are reported by the schema). */
function orderOf(raw: unknown): readonly string[] {
  const given = typeof raw === 'object' && raw !== null ? (raw as { environments?: unknown }).environments : undefined;
  const parsed = environmentsField.safeParse(given);
  return parsed.success ? parsed.data : ENVIRONMENTS;
}

/** Fields shared by both workflows: who may approve, where approval is needed, how long the gate and the waits wait. */
const approvalFields = (order: readonly string[]) => ({
  /** The pipeline's environments in promotion order; default dev, stage, prod. */
  environments: environmentsField.optional(),
  /** Per environment, who may approve a promotion into it (wins over `approvers` there). */
  environmentApprovers: z.partialRecord(environmentOf(order), approvers, { error: RULES.object }).optional(),
  /** What an UNSTABLE Jenkins build means: `failure` (default) or `success` (JENKINS_UNSTABLE_BUILDS). */
  unstableBuilds: z.enum(UNSTABLE_BUILD_OUTCOMES, { error: RULES.unstableBuilds }).optional(),
  /** Environments whose promotion waits for approval; default `['prod']`. */
  approvalEnvironments: z.array(environmentOf(order), { error: RULES.environments }).optional(),
  /** Names allowed to approve or reject; empty or absent means anyone who gives a non-empty name. */
  approvers: approvers.optional(),
  /**
   * How long a wait may go without a heartbeat before Temporal hands it to another worker; default 1m.
   * Shorter means a crashed worker's wait resumes sooner, at the cost of more heartbeats.
   */
  heartbeatTimeout: duration.optional(),
  /**
   * Overrides of the wait budgets in seconds (presets.ts WAIT_BUDGETS): a wait that runs out ends with
   * WaitTimeoutError naming what it waited for. The CLI fills them from JENKINS_BUILD_TIMEOUT, ARGOCD_SYNC_TIMEOUT
   * and PROMOTION_MR_TIMEOUT.
   */
  waitBudgets: z
    .strictObject(
      {
        ciBuildStart: budgetSeconds,
        build: budgetSeconds,
        mergeRequest: budgetSeconds,
        mergeability: budgetSeconds,
        sync: budgetSeconds,
        workload: budgetSeconds,
      },
      { error: RULES.object },
    )
    .partial()
    .optional(),
  /** How long the gate waits before it ends as rejected; default 24h. */
  approvalTimeout: duration.optional(),
  /** Where the approval comes from: `temporal` (default, the `approve` update) or `gitlab` (the MR's approval). */
  approvalSource: z.enum(APPROVAL_SOURCES, { error: RULES.approvalSource }).optional(),
  /**
   * Go on with a target environment that does not run what its branch declares, synced and healthy (default
   * false: such a target is refused with TargetNotSettledError). The report records that the run was let through.
   */
  allowUnsettledTarget: bool.optional(),
});

/** The promoteEnvironment input for a pipeline whose environments are `order`. */
export function promoteEnvironmentInputSchema(order: readonly string[] = ENVIRONMENTS) {
  const environment = environmentOf(order);
  return z
    .strictObject(
      {
        appName,
        sourceEnv: environment,
        targetEnv: environment,
        /** Absent: the image running synced and healthy in the source environment. */
        imageTag: imageTag.optional(),
        mode: z.enum(PROMOTION_MODES, { error: RULES.mode }).optional(),
        /** Merge the promotion MR (after approval when required); default true. False: stop with the MR open. */
        merge: bool.optional(),
        /** Wait for Argo CD and verify the pods after the merge; default true. */
        verify: bool.optional(),
        ...approvalFields(order),
        /** Set by validatePipeline: identifies the run in commits and MRs it makes. Default: this workflow's id/run id. */
        runMarker: nonEmpty().regex(RUN_MARKER, { error: RULES.runMarker }).optional(),
      },
      { error: RULES.object },
    )
    .superRefine((input, ctx) => {
      if (!isLegalPromotion(input.sourceEnv, input.targetEnv, order))
        ctx.addIssue({
          code: 'custom',
          path: ['targetEnv'],
          message: `must be the environment after sourceEnv: ${promotionPaths(order)}`,
        });
    });
}
export const PromoteEnvironmentInputSchema = promoteEnvironmentInputSchema();

/** What a caller may send to `promoteEnvironment`. */
export type PromoteEnvironmentInput = z.input<typeof PromoteEnvironmentInputSchema>;

/** The validatePipeline input for a pipeline whose environments are `order`. */
export function validatePipelineInputSchema(order: readonly string[] = ENVIRONMENTS) {
  return z.strictObject(
    {
      appName,
      /**
       * The last environment to reach: the first runs iteration 1 only, the second 1-2, … the last (default) every
       * one (seed: dev, stage, prod).
       */
      through: environmentOf(order).optional(),
      /** How the promotions open their MR; default `jenkins`. */
      mode: z.enum(PROMOTION_MODES, { error: RULES.mode }).optional(),
      rollback: z.enum(ROLLBACK_SCOPES, { error: RULES.rollback }).optional(),
      ...approvalFields(order),
    },
    { error: RULES.object },
  );
}
export const ValidatePipelineInputSchema = validatePipelineInputSchema();

/** What a caller may send to `validatePipeline`. */
export type ValidatePipelineInput = z.input<typeof ValidatePipelineInputSchema>;

/**
 * The payload of the `approve` and `reject` updates. Checked by the update's validator, so a bad payload is refused
 * before it reaches the workflow's history.
 */
export const ApprovalDecisionSchema = z.strictObject(
  {
    by: z
      .string({ error: requiredOr(RULES.string) })
      .refine((by) => by.trim() !== '', { error: RULES.decider })
      .refine((by) => by.length <= 200, { error: RULES.deciderLength }),
    reason: z.string({ error: RULES.reason }).max(2000, { error: RULES.reason }).optional(),
  },
  { error: RULES.object },
);

/** Parses an approve/reject payload; the ValidationError's message is its first problem (`by must name who decides`). */
export function parseApprovalDecision(raw: unknown): z.output<typeof ApprovalDecisionSchema> {
  try {
    return parseInput(ApprovalDecisionSchema, raw);
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(err.facts.field, err.facts.rule);
    throw err;
  }
}

/** The approval policy of one hop, with defaults applied. */
export interface ApprovalPolicy {
  readonly required: boolean;
  readonly approvers: readonly string[];
  readonly timeout: string;
  /** Where the approval comes from (part B). */
  readonly source: ApprovalSource;
}

export interface PromoteEnvironmentOptions {
  readonly appName: string;
  readonly sourceEnv: Environment;
  readonly targetEnv: Environment;
  readonly imageTag: string | undefined;
  readonly mode: PromotionMode;
  readonly merge: boolean;
  readonly verify: boolean;
  readonly approval: ApprovalPolicy;
  /** The pipeline's environments in promotion order. */
  readonly environments: readonly Environment[];
  readonly runMarker: string | undefined;
  readonly heartbeatTimeout: string;
  readonly waitBudgets: WaitBudgets;
  readonly allowUnsettledTarget: boolean;
  readonly unstableBuilds: UnstableBuildOutcome;
}

export interface ValidatePipelineOptions {
  readonly appName: string;
  /** The pipeline's environments in promotion order. */
  readonly environments: readonly Environment[];
  /** Per environment, who may approve (wins over `approvers`). */
  readonly environmentApprovers: Readonly<Partial<Record<Environment, readonly string[]>>>;
  readonly through: Environment;
  readonly mode: PromotionMode;
  readonly rollback: RollbackScope;
  readonly approvalEnvironments: readonly Environment[];
  readonly approvers: readonly string[];
  readonly approvalTimeout: string;
  readonly approvalSource: ApprovalSource;
  readonly heartbeatTimeout: string;
  readonly waitBudgets: WaitBudgets;
  readonly allowUnsettledTarget: boolean;
  readonly unstableBuilds: UnstableBuildOutcome;
}

/**
 * Parses `raw` with `schema`; on failure throws a ValidationError naming the first field in error and its rule.
 * The message lists every problem, so one attempt shows all of them.
 */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), rule: RULES.unknownKey }));
    return [{ field: issue.path.length > 0 ? issue.path.join('.') : 'input', rule: issue.message }];
  });
  const first = problems[0] ?? { field: 'input', rule: RULES.object };
  throw new ValidationError(
    first.field,
    first.rule,
    `invalid input: ${problems.map((p) => `${p.field} ${p.rule}`).join('; ')}`,
  );
}

export function promoteEnvironmentOptions(raw: unknown): PromoteEnvironmentOptions {
  const order = orderOf(raw);
  const input = parseInput(promoteEnvironmentInputSchema(order), raw);
  return {
    appName: input.appName,
    environments: order,
    sourceEnv: input.sourceEnv,
    targetEnv: input.targetEnv,
    imageTag: input.imageTag,
    mode: input.mode ?? 'jenkins',
    merge: input.merge ?? true,
    verify: input.verify ?? true,
    approval: {
      required: (input.approvalEnvironments ?? DEFAULT_APPROVAL_ENVIRONMENTS).includes(input.targetEnv),
      approvers: input.environmentApprovers?.[input.targetEnv] ?? input.approvers ?? [],
      timeout: input.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT,
      source: input.approvalSource ?? 'temporal',
    },
    runMarker: input.runMarker,
    heartbeatTimeout: input.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT,
    waitBudgets: { ...WAIT_BUDGETS, ...input.waitBudgets },
    allowUnsettledTarget: input.allowUnsettledTarget ?? false,
    unstableBuilds: input.unstableBuilds ?? 'failure',
  };
}

export function validatePipelineOptions(raw: unknown): ValidatePipelineOptions {
  const order = orderOf(raw);
  const input = parseInput(validatePipelineInputSchema(order), raw);
  return {
    appName: input.appName,
    environments: order,
    environmentApprovers: input.environmentApprovers ?? {},
    through: input.through ?? order[order.length - 1]!,
    mode: input.mode ?? 'jenkins',
    rollback: input.rollback ?? 'failed',
    approvalEnvironments: input.approvalEnvironments ?? DEFAULT_APPROVAL_ENVIRONMENTS,
    approvers: input.approvers ?? [],
    approvalTimeout: input.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT,
    approvalSource: input.approvalSource ?? 'temporal',
    heartbeatTimeout: input.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT,
    waitBudgets: { ...WAIT_BUDGETS, ...input.waitBudgets },
    allowUnsettledTarget: input.allowUnsettledTarget ?? false,
    unstableBuilds: input.unstableBuilds ?? 'failure',
  };
}
