/**
 * Part C. Whether the revision Argo CD synced contains our merge commit, for env branches other teams commit to as
 * well (real-installations.md §4.1): answered by GitLab's merge base (`merge_base(ours, synced) == ours`) and cached,
 * since the answer for two commits never changes.
 */

import type { ApplicationView } from '../../src/clients/kubernetes/index.js';

/** The ancestry question the Argo CD wait asks. */
export interface RevisionAncestry {
  /** Whether `revision` is `ancestor` or has it in its history. */
  contains(revision: string, ancestor: string): Promise<boolean>;
}

/** What the answer is taken from: the GitLab client's `isAncestor`. */
export interface AncestrySource {
  isAncestor(project: string, ancestor: string, descendant: string): Promise<boolean>;
}

/**
 * The ancestry of the deployments project's commits through GitLab, keeping the last `limit` answers. Errors (GitLab
 * unreachable) are not cached: the wait counts them as an empty look and asks again.
 */
export function gitLabAncestry(source: AncestrySource, project: string, limit = 1_000): RevisionAncestry {
  const answers = new Map<string, boolean>();
  return {
    async contains(revision, ancestor) {
      if (revision === ancestor) return true;
      const key = `${ancestor}..${revision}`;
      const known = answers.get(key);
      if (known !== undefined) return known;
      const answer = await source.isAncestor(project, ancestor, revision);
      answers.set(key, answer);
      if (answers.size > limit) answers.delete(answers.keys().next().value!);
      return answer;
    },
  };
}

const SHA = /^[0-9a-f]{7,64}$/;

/**
 * The app with its last sync operation speaking for the synced revision, where Argo CD moved `sync.revision` on to
 * a later commit of the branch without a new operation: it compared that commit, found the live objects match it
 * (`Synced`), and auto-sync only syncs what is OutOfSync. That holds on env branches other teams commit to. Taken
 * only when the operation Succeeded for an ancestor of the synced revision and, given `ours`, one that contains ours;
 * otherwise, or without `ancestry`, the app is returned as Argo CD reported it.
 */
export async function withOperationFollowingSync(
  app: ApplicationView,
  ancestry: RevisionAncestry | undefined,
  ours?: string,
): Promise<ApplicationView> {
  const op = app.operation;
  const synced = app.sync.revision;
  if (
    !ancestry ||
    app.sync.status !== 'Synced' ||
    synced === undefined ||
    op?.phase !== 'Succeeded' ||
    op.revision === undefined ||
    op.revision === synced ||
    !SHA.test(op.revision) ||
    !SHA.test(synced)
  )
    return app;
  if (ours !== undefined && !(await ancestry.contains(op.revision, ours))) return app;
  if (!(await ancestry.contains(synced, op.revision))) return app;
  return { ...app, operation: { ...op, revision: synced } };
}
