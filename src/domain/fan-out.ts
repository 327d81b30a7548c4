/**
 * Fan-out: one validation or one promotion for each of many apps, a few at a time, each app independent. The input
 * of the `fanOutApps` workflow (what the CLI's `--all` and the Temporal UI's "Start Workflow" send), and the rule
 * that turns the apps' outcomes into the combined status.
 *
 * The input is the single-app run's input without `appName`, plus `kind`, `apps` and `concurrency`:
 *   { "kind": "validate", "apps": ["a", "b"], "concurrency": 2, "through": "stage" }
 *   { "kind": "promote", "apps": ["a", "b"], "sourceEnv": "dev", "targetEnv": "stage" }
 * Every app's run gets the same fields and its own `appName`, and is checked with that run's own schema before any
 * app starts, so a typo or an unknown field fails the fan-out as a whole instead of every app one by one.
 */
import { z } from 'zod';
import {
  isAppName,
  parseInput,
  promoteEnvironmentOptions,
  RULES,
  validatePipelineOptions,
  type PromoteEnvironmentInput,
  type PromoteEnvironmentOptions,
  type ValidatePipelineInput,
  type ValidatePipelineOptions,
} from './inputs.js';

export const FAN_OUT_KINDS = ['validate', 'promote'] as const;
/** `validate`: a validatePipeline run per app; `promote`: a promoteEnvironment run per app. */
export type FanOutKind = (typeof FAN_OUT_KINDS)[number];

/** Apps whose runs go on at the same time when the input does not say: enough to finish a night, few enough for CI. */
export const DEFAULT_FAN_OUT_CONCURRENCY = 4;
/** More runs at once would queue on the CI server and the promote job anyway. */
export const MAX_FAN_OUT_CONCURRENCY = 32;

export const FAN_OUT_RULES = {
  kind: `must be one of ${FAN_OUT_KINDS.join(', ')}`,
  apps: 'must be a list of one or more different app names',
  concurrency: `must be a whole number from 1 to ${MAX_FAN_OUT_CONCURRENCY}`,
  appName: 'is not a field of a fan-out: name the apps in `apps`',
} as const;

const ownFields = z.object(
  {
    kind: z.enum(FAN_OUT_KINDS, { error: FAN_OUT_RULES.kind }),
    apps: z
      .array(z.string({ error: RULES.appName }).refine(isAppName, { error: RULES.appName }), {
        error: FAN_OUT_RULES.apps,
      })
      .min(1, { error: FAN_OUT_RULES.apps })
      .refine((apps) => new Set(apps).size === apps.length, { error: FAN_OUT_RULES.apps }),
    concurrency: z
      .number({ error: FAN_OUT_RULES.concurrency })
      .int({ error: FAN_OUT_RULES.concurrency })
      .min(1, { error: FAN_OUT_RULES.concurrency })
      .max(MAX_FAN_OUT_CONCURRENCY, { error: FAN_OUT_RULES.concurrency })
      .optional(),
    appName: z.undefined({ error: FAN_OUT_RULES.appName }).optional(),
  },
  { error: RULES.object },
);

type OwnFields = { readonly apps: string[]; readonly concurrency?: number };

/** What a caller may send to `fanOutApps`. */
export type FanOutInput =
  | (OwnFields & { readonly kind: 'validate' } & Omit<ValidatePipelineInput, 'appName'>)
  | (OwnFields & { readonly kind: 'promote' } & Omit<PromoteEnvironmentInput, 'appName'>);

/** One app's run: the input its child workflow is started with, and that input as the run will read it. */
export type FanOutRun =
  | { readonly kind: 'validate'; readonly input: ValidatePipelineInput; readonly options: ValidatePipelineOptions }
  | { readonly kind: 'promote'; readonly input: PromoteEnvironmentInput; readonly options: PromoteEnvironmentOptions };

export interface FanOutOptions {
  readonly kind: FanOutKind;
  readonly concurrency: number;
  /** One run per app, in the order of `apps`: the order they start in. */
  readonly runs: readonly FanOutRun[];
}

/**
 * Parses a fan-out input. Its own fields first (kind, apps, concurrency), then the rest as the input of the first
 * app's run, with that run's own rules: a ValidationError names the first field in error (`sourceEnv`, `apps.1`).
 */
export function fanOutOptions(raw: unknown): FanOutOptions {
  const own = parseInput(ownFields, raw);
  const {
    kind: _kind,
    apps: _apps,
    concurrency: _concurrency,
    appName: _appName,
    ...fields
  } = raw as Record<string, unknown>;
  const runs = own.apps.map((appName): FanOutRun => {
    const input = { ...fields, appName };
    return own.kind === 'validate'
      ? {
          kind: 'validate',
          input: input as ValidatePipelineInput,
          options: validatePipelineOptions(input),
        }
      : {
          kind: 'promote',
          input: input as PromoteEnvironmentInput,
          options: promoteEnvironmentOptions(input),
        };
  });
  return { kind: own.kind, concurrency: own.concurrency ?? DEFAULT_FAN_OUT_CONCURRENCY, runs };
}

/** The ends of an app's run that count as success: the image is (or stays) where it was asked to go, or its MR is open. */
export const APP_RUN_SUCCEEDED: readonly string[] = ['succeeded', 'unchanged', 'merge-request-opened'];

/**
 * The combined status of a fan-out, from its apps' statuses:
 *   succeeded    every app succeeded (a promotion also when unchanged or left with its MR open);
 *   rolled_back  some did not, and each of those rolled back cleanly (its merge reverted, every undo succeeded);
 *   failed       at least one app failed otherwise: nothing was reverted (MRs closed at most), an undo failed,
 *                it was superseded or cancelled, or it could not start. `failed` wins over `rolled_back` because
 *                it is the one that may need a person.
 */
export function fanOutStatus(apps: readonly { readonly status: string }[]): 'succeeded' | 'failed' | 'rolled_back' {
  const unsuccessful = apps.filter((app) => !APP_RUN_SUCCEEDED.includes(app.status));
  if (unsuccessful.length === 0) return 'succeeded';
  return unsuccessful.every((app) => app.status === 'rolled_back') ? 'rolled_back' : 'failed';
}
