/**
 * bumpAppVersion. Changes: one commit on the app project's default branch that raises the first `<version>` of the
 * version file by one patch (suffix such as `-SNAPSHOT` kept), with the message `chore: bump version to {NEW}
 * [pipeline-validation]` and a `Shepherd-Run: {runMarker}` trailer. The push starts the app's CI.
 * Safe to repeat: first looks for a commit carrying the run's trailer among the recent commits of the default
 * branch and returns it (`alreadyDone`); the update is guarded by the file's `last_commit_id`, so a concurrent
 * change is never overwritten (the attempt fails as transient and the retry reads the file again).
 * Waits for nothing. Not undone: a version number is never reused.
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { defineActivity } from '../define.js';
import { bumpCommitMessage, bumpPom, carriesRunMarker, pomVersion, versionOfBumpMessage } from './edits.js';
import type { GitLabContext } from './support.js';

export function createBumpAppVersion(ctx: GitLabContext): ShepherdActivities['bumpAppVersion'] {
  const { client, layout } = ctx;
  return defineActivity({
    input: z.object({
      appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
      runMarker: ACTIVITY_FIELDS.text(),
    }),
    async run(input, { attempt }) {
      const project = layout.gitlab.appProject;
      const versionFile = layout.gitlab.versionFile;
      const { defaultBranch } = await client.getProject(project);

      const recent = await client.listCommits(project, defaultBranch, ctx.recentCommits);
      const earlier = recent.find((c) => carriesRunMarker(c.message, input.runMarker));
      if (earlier) {
        const version =
          versionOfBumpMessage(earlier.message) ??
          pomVersion((await client.readFile(project, versionFile, earlier.sha)).content);
        const parent = earlier.parentShas[0];
        const previousVersion =
          parent !== undefined ? pomVersion((await client.readFile(project, versionFile, parent)).content) : undefined;
        return {
          previousVersion: previousVersion ?? '',
          version: version ?? '',
          commitSha: earlier.sha,
          alreadyDone: true,
          attempt,
        };
      }

      const file = await client.readFile(project, versionFile, defaultBranch);
      const bump = bumpPom(file.content);
      const commit = await client.commitFiles(project, {
        branch: defaultBranch,
        message: bumpCommitMessage(bump.version, input.runMarker),
        updates: [{ filePath: versionFile, content: bump.content, lastCommitId: file.lastCommitId }],
      });
      return {
        previousVersion: bump.previousVersion,
        version: bump.version,
        commitSha: commit.sha,
        alreadyDone: false,
        attempt,
      };
    },
  });
}
