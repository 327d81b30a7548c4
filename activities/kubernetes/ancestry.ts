/**
 * Part C. Whether the revision Argo CD synced contains our merge commit, for env branches other teams commit to as
 * well (real-installations.md §4.1): answered by GitLab's merge base (`merge_base(ours, synced) == ours`) and cached,
 * since the answer for two commits never changes.
 */

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
