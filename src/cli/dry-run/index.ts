/**
 * `promote --dry-run` and `validate --dry-run`: the plan of the run the flags describe, read from the systems the
 * run would use (the configured ones, or the running sandbox world), printed as text or, with `--json`, one line of
 * JSON per app. Nothing is started and nothing is written. Exit 0 when the plan could be made (also when gates would
 * hold the run), 1 when a read failed (naming the system and what to do), 2 for usage errors.
 */
import type { ShepherdConfig } from '../../config/load.js';
import type { PromoteEnvironmentInput, ValidatePipelineInput } from '../../domain/inputs.js';
import { freezeAt } from '../../domain/freeze.js';
import { appLayout } from '../../domain/pipeline.js';
import { EXIT, UsageError, type CommandContext } from '../command.js';
import { DryRunReadError, type DryRunPlan } from './plan.js';
import { planPromotion, planValidation, type PlanContext } from './planner.js';
import { readsFor } from './reads.js';
import { renderPlans } from './render.js';

/** The flags that only make sense for a run that starts. */
const RUN_ONLY_FLAGS = ['follow', 'reports'] as const;

async function printPlans(
  ctx: CommandContext,
  config: ShepherdConfig,
  apps: readonly string[],
  plan: (context: PlanContext, config: ShepherdConfig, app: string) => Promise<DryRunPlan>,
): Promise<number> {
  for (const flag of RUN_ONLY_FLAGS)
    if (ctx.values[flag] !== undefined)
      throw new UsageError(`--${flag} cannot be combined with --dry-run: a dry run starts nothing`);
  const { reads, config: used, where } = readsFor(config, (overrides) => ctx.config(overrides));
  const context: PlanContext = { reads, pipeline: used.pipeline, now: new Date(), freezeAt };
  const json = ctx.values.json === true;
  const plans: DryRunPlan[] = [];
  try {
    for (const app of apps) plans.push(await plan(context, used, app));
  } catch (err) {
    if (!(err instanceof DryRunReadError)) throw err;
    ctx.err(`The dry run could not be made: ${err.message}`);
    return EXIT.failed;
  }
  ctx.err(`Dry run against ${where}: nothing was started or changed.`);
  if (json) for (const p of plans) ctx.out(JSON.stringify(p));
  else for (const line of renderPlans(plans)) ctx.out(line);
  return EXIT.ok;
}

/** What a promotion's plan depends on: the checked input of `promote` (its app optional: a fan-out names several). */
export type PromotionFlags = Pick<
  PromoteEnvironmentInput,
  'sourceEnv' | 'targetEnv' | 'imageTag' | 'mode' | 'merge' | 'allowUnsettledTarget'
> & { readonly appName?: string };

/** What a validation's plan depends on: the checked input of `validate` (its app optional). */
export type ValidationFlags = Pick<ValidatePipelineInput, 'through' | 'allowUnsettledTarget'> & {
  readonly appName?: string;
};

/**
 * The plan of `shepherd promote` with the (checked) flags of `input`, for `input.appName` or, in a fan-out
 * (`--all`), for each of `apps`.
 */
export function dryRunPromotion(
  ctx: CommandContext,
  config: ShepherdConfig,
  input: PromotionFlags,
  apps: readonly string[] = input.appName !== undefined ? [input.appName] : [],
): Promise<number> {
  return printPlans(ctx, config, apps, (context, used, app) =>
    planPromotion(context, appLayout(used.pipeline, app), {
      source: input.sourceEnv,
      target: input.targetEnv,
      imageTag: input.imageTag,
      mode: input.mode,
      allowUnsettledTarget: input.allowUnsettledTarget,
      merge: input.merge,
    }),
  );
}

/** The plan of `shepherd validate` with the (checked) flags of `input`, for `input.appName` or each of `apps`. */
export function dryRunValidation(
  ctx: CommandContext,
  config: ShepherdConfig,
  input: ValidationFlags,
  apps: readonly string[] = input.appName !== undefined ? [input.appName] : [],
): Promise<number> {
  return printPlans(ctx, config, apps, (context, used, app) =>
    planValidation(context, appLayout(used.pipeline, app), {
      through: input.through,
      allowUnsettledTarget: input.allowUnsettledTarget,
    }),
  );
}
