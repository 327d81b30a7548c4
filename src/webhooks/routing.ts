/**
 * Which runs an event concerns, from the configured pipeline layout (pure; no I/O):
 *
 * - Jenkins, the app's CI job → the app's running validation; the promote job → `promote-<app>-<TARGET_ENV>`.
 * - GitLab MR or Pipeline Hook on the deployments project → by target branch: the dev branch → the running
 *   validation; the stage or prod branch → `promote-<app>-<env>` and the running validation.
 * - GitLab Push Hook on the app or deployments project → the running validation; a push to an environment branch
 *   also → `promote-<app>-<env>`.
 *
 * The running validation is a target of its own because its workflow id is not known from the event (it may be
 * `validate-<app>` or `validate-<app>-<time>`): the sender finds it through the app's validation lock.
 */
import { isEnvironment, type Environment } from '../domain/environments.js';
import { environmentOrderOf, type PipelineLayout } from '../domain/pipeline.js';
import { promotionWorkflowId } from '../domain/promotion-policy.js';
import type { GitLabEvent, JenkinsEvent, WebhookEvent } from './events.js';

/** A run to wake: a business-key workflow id, or "the running validation of `app`". */
export type RunTarget =
  { readonly kind: 'run'; readonly workflowId: string } | { readonly kind: 'validation'; readonly app: string };

/** The promote job's parameter naming the target environment (see activities/jenkins/trigger-promote-job.ts). */
export const PROMOTE_TARGET_PARAMETER = 'TARGET_ENV';
/** The promote job's parameter naming the app. */
export const PROMOTE_APP_PARAMETER = 'APP_NAME';

/** The runs `event` concerns, in every layout given (one per app), without duplicates. */
export function routeEvent(event: WebhookEvent, layouts: readonly PipelineLayout[]): RunTarget[] {
  const targets = layouts.flatMap((layout) =>
    event.source === 'jenkins' ? routeJenkins(event, layout) : routeGitLab(event, layout),
  );
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = t.kind === 'run' ? `run:${t.workflowId}` : `validation:${t.app}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function routeJenkins(event: JenkinsEvent, layout: PipelineLayout): RunTarget[] {
  const app = layout.app.name;
  if (sameJob(event.job, layout.jenkins.appJob)) return [{ kind: 'validation', app }];
  if (sameJob(event.job, layout.jenkins.promoteJob)) {
    const parameters = layout.jenkins.promoteParameters;
    const named = event.parameters[parameters?.app ?? PROMOTE_APP_PARAMETER];
    if (named !== undefined && named !== app) return [];
    const env = event.parameters[parameters?.target ?? PROMOTE_TARGET_PARAMETER];
    return isEnvironment(env, environmentOrderOf(layout))
      ? [{ kind: 'run', workflowId: promotionWorkflowId(app, env) }]
      : [];
  }
  return [];
}

function routeGitLab(event: GitLabEvent, layout: PipelineLayout): RunTarget[] {
  const app = layout.app.name;
  const validation: RunTarget = { kind: 'validation', app };
  const inDeployments = sameProject(event.project, layout.gitlab.deploymentsProject);
  const env = inDeployments ? environmentOfBranch(event.branch, layout) : undefined;
  const promotion: RunTarget[] =
    env && env !== environmentOrderOf(layout)[0] ? [{ kind: 'run', workflowId: promotionWorkflowId(app, env) }] : [];
  if (event.event === 'push') {
    if (!inDeployments && !sameProject(event.project, layout.gitlab.appProject)) return [];
    return [...promotion, validation];
  }
  // Merge requests and pipelines of the deployments project concern runs only when they target an env branch.
  if (!env) return [];
  return [...promotion, validation];
}

function environmentOfBranch(branch: string | undefined, layout: PipelineLayout): Environment | undefined {
  return environmentOrderOf(layout).find((env) => layout.environments[env]?.branch === branch);
}

function sameProject(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function sameJob(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}
