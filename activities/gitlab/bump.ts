import type { BumpAppVersionInput, BumpAppVersionResult } from '../../src/domain/activities.js';
import { ValidationError } from '../../src/domain/errors.js';
import { bumpCommitMessage, bumpPom, carriesRunMarker, pomVersion, versionOfBumpMessage } from './edits.js';
import { attempt, checkApp, failTyped, type GitLabContext } from './support.js';

/**
 * Changes: one commit on the app project's default branch that raises the first `<version>` of the version file
 * by one patch (suffix such as `-SNAPSHOT` kept), with the message `chore: bump version to {NEW}
 * [pipeline-validation]` and a `Shepherd-Run: {runMarker}` trailer. The push starts the app's CI.
 * Safe to repeat: first looks for a commit carrying the run's trailer among the recent commits of the default
 * branch and returns it (`alreadyDone`); the update is guarded by the file's `last_commit_id`, so a concurrent
 * change is never overwritten (the attempt fails as transient and the retry reads the file again).
 * Waits for nothing.
 */
export function bumpAppVersionActivity(ctx: GitLabContext) {
  return (input: BumpAppVersionInput): Promise<BumpAppVersionResult> =>
    failTyped(async () => {
      checkApp(ctx.layout, input.appName);
      if (input.runMarker.trim() === '') throw new ValidationError('runMarker', 'must not be empty');
      const project = ctx.layout.gitlab.appProject;
      const versionFile = ctx.layout.gitlab.versionFile;
      const { defaultBranch } = await ctx.client.getProject(project);

      const recent = await ctx.client.listCommits(project, defaultBranch, ctx.recentCommits);
      const earlier = recent.find((c) => carriesRunMarker(c.message, input.runMarker));
      if (earlier) {
        const version =
          versionOfBumpMessage(earlier.message) ??
          pomVersion((await ctx.client.readFile(project, versionFile, earlier.sha)).content);
        const parent = earlier.parentShas[0];
        const previousVersion =
          parent !== undefined
            ? pomVersion((await ctx.client.readFile(project, versionFile, parent)).content)
            : undefined;
        return {
          previousVersion: previousVersion ?? '',
          version: version ?? '',
          commitSha: earlier.sha,
          alreadyDone: true,
          attempt: attempt(),
        };
      }

      const file = await ctx.client.readFile(project, versionFile, defaultBranch);
      const bump = bumpPom(file.content);
      const commit = await ctx.client.commitFiles(project, {
        branch: defaultBranch,
        message: bumpCommitMessage(bump.version, input.runMarker),
        updates: [{ filePath: versionFile, content: bump.content, lastCommitId: file.lastCommitId }],
      });
      return {
        previousVersion: bump.previousVersion,
        version: bump.version,
        commitSha: commit.sha,
        alreadyDone: false,
        attempt: attempt(),
      };
    });
}
