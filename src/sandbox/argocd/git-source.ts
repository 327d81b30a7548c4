/**
 * What the simulated Argo CD reads from Git. The sandbox implements it over the GitLab model; tests use a fake.
 */
export interface GitSource {
  /** Head commit sha of `revision` (a branch) in the repo `repoURL`, or undefined. */
  resolveRevision(repoURL: string, revision: string): string | undefined;
  /** Files under `path` at commit `sha` (relative path → content), or undefined when the path does not exist. */
  readDirectory(repoURL: string, sha: string, path: string): Record<string, string> | undefined;
}
