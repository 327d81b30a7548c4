/**
 * The Jenkins activities: find the CI build of a commit, await a build, trigger the promote job, await its queue
 * item and cancel it (the undo). Built from an
 * injected client and the pipeline layout, which maps the workflow's roles and names to the configured jobs; one
 * activity a file in `./jenkins/`.
 */
import type { ShepherdActivities } from '../src/domain/activities.js';
import { createAwaitJenkinsBuild } from './jenkins/await-jenkins-build.js';
import { createAwaitJenkinsQueueItem } from './jenkins/await-jenkins-queue-item.js';
import { createCancelPromoteJob } from './jenkins/cancel-promote-job.js';
import { createFindCiBuildForCommit } from './jenkins/find-ci-build-for-commit.js';
import { contextOf, type JenkinsActivityDeps } from './jenkins/support.js';
import { createQueuePromoteJob, createTriggerPromoteJob } from './jenkins/trigger-promote-job.js';

export type { JenkinsActivityDeps } from './jenkins/support.js';

export type JenkinsActivities = Pick<
  ShepherdActivities,
  | 'findCiBuildForCommit'
  | 'awaitJenkinsBuild'
  | 'triggerPromoteJob'
  | 'queuePromoteJob'
  | 'awaitJenkinsQueueItem'
  | 'cancelPromoteJob'
>;

export function createJenkinsActivities(deps: JenkinsActivityDeps): JenkinsActivities {
  const ctx = contextOf(deps);
  return {
    findCiBuildForCommit: createFindCiBuildForCommit(ctx),
    awaitJenkinsBuild: createAwaitJenkinsBuild(ctx),
    triggerPromoteJob: createTriggerPromoteJob(ctx),
    queuePromoteJob: createQueuePromoteJob(ctx),
    awaitJenkinsQueueItem: createAwaitJenkinsQueueItem(ctx),
    cancelPromoteJob: createCancelPromoteJob(ctx),
  };
}
