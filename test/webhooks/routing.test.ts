/** Which runs an event concerns (src/webhooks/routing.ts), from the sandbox world's pipeline layout. */
import { describe, expect, it } from 'vitest';
import { defaultLayout } from '../../src/sandbox/world/layout.js';
import { layoutForWorld } from '../../src/worker/activities.js';
import { parseGitLabEvent, parseJenkinsEvent, type WebhookEvent } from '../../src/webhooks/events.js';
import { routeEvent } from '../../src/webhooks/routing.js';

const layout = layoutForWorld({ layout: defaultLayout() });
const app = layout.app.name;
const validation = { kind: 'validation', app };
const promotion = (env: string) => ({ kind: 'run', workflowId: `promote-${app}-${env}` });

function gitlab(event: 'push' | 'merge_request' | 'pipeline', body: unknown): WebhookEvent {
  const parsed = parseGitLabEvent(event, body);
  if (!parsed) throw new Error('not parsed');
  return parsed;
}

function jenkins(url: string, parameters?: Record<string, string>): WebhookEvent {
  const parsed = parseJenkinsEvent({ name: 'x', url, build: { number: 3, phase: 'COMPLETED', parameters } });
  if (!parsed) throw new Error('not parsed');
  return parsed;
}

const deployments = { path_with_namespace: layout.gitlab.deploymentsProject };

describe('routeEvent', () => {
  it('routes a merge request on the dev branch to the running validation only', () => {
    const mr = gitlab('merge_request', {
      project: deployments,
      object_attributes: { iid: 1, target_branch: layout.environments.dev!.branch },
    });
    expect(routeEvent(mr, [layout])).toEqual([validation]);
  });

  it('routes a merge request on the prod branch to promote-<app>-prod and the running validation', () => {
    const mr = gitlab('merge_request', {
      project: deployments,
      object_attributes: { iid: 1, target_branch: layout.environments.prod!.branch },
    });
    expect(routeEvent(mr, [layout])).toEqual([promotion('prod'), validation]);
  });

  it("routes a pipeline by its merge request's target branch, else by its ref", () => {
    const mrPipeline = gitlab('pipeline', {
      project: deployments,
      object_attributes: { id: 9, ref: 'refs/merge-requests/4/head', status: 'success' },
      merge_request: { iid: 4, target_branch: layout.environments.stage!.branch },
    });
    expect(routeEvent(mrPipeline, [layout])).toEqual([promotion('stage'), validation]);
    const branchPipeline = gitlab('pipeline', {
      project: deployments,
      object_attributes: { id: 10, ref: 'feature', status: 'running' },
      merge_request: null,
    });
    expect(routeEvent(branchPipeline, [layout])).toEqual([]);
  });

  it('routes pushes to the app project, and to an env branch of the deployments project', () => {
    const appPush = gitlab('push', {
      ref: 'refs/heads/main',
      project: { path_with_namespace: layout.gitlab.appProject },
    });
    expect(routeEvent(appPush, [layout])).toEqual([validation]);
    const envPush = gitlab('push', { ref: `refs/heads/${layout.environments.stage!.branch}`, project: deployments });
    expect(routeEvent(envPush, [layout])).toEqual([promotion('stage'), validation]);
    const elsewhere = gitlab('push', { ref: 'refs/heads/main', project: { path_with_namespace: 'someone/else' } });
    expect(routeEvent(elsewhere, [layout])).toEqual([]);
  });

  it('routes the CI job to the validation and the promote job by TARGET_ENV of its app', () => {
    const ciUrl = `${layout.jenkins.appJob.map((s) => `job/${encodeURIComponent(s)}`).join('/')}/`;
    expect(routeEvent(jenkins(ciUrl), [layout])).toEqual([validation]);
    const promoteUrl = `${layout.jenkins.promoteJob.map((s) => `job/${s}`).join('/')}/`;
    expect(routeEvent(jenkins(promoteUrl, { APP_NAME: app, TARGET_ENV: 'stage' }), [layout])).toEqual([
      promotion('stage'),
    ]);
    expect(routeEvent(jenkins(promoteUrl, { APP_NAME: 'other-app', TARGET_ENV: 'stage' }), [layout])).toEqual([]);
    expect(routeEvent(jenkins(promoteUrl, { TARGET_ENV: 'qa' }), [layout])).toEqual([]);
  });

  it('decodes job names (branch jobs with / in their name)', () => {
    const branchJob = { ...layout, jenkins: { ...layout.jenkins, appJob: [app, 'feature/x'] } };
    expect(routeEvent(jenkins(`job/${app}/job/feature%2Fx/`), [branchJob])).toEqual([validation]);
    expect(routeEvent(jenkins(`https://ci.example/jenkins/job/${app}/job/feature%2Fx/`), [branchJob])).toEqual([
      validation,
    ]);
    expect(parseJenkinsEvent({ url: 'job/a/b/', build: { number: 1, phase: 'STARTED' } })).toBeUndefined();
    expect(parseJenkinsEvent({ url: 'view/all/', build: { number: 1, phase: 'STARTED' } })).toBeUndefined();
  });
});
