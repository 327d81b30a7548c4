/**
 * What the simulated Argo CD reads from Git, served by the simulated GitLab: repo URLs map to projects.
 */
import type { GitSource } from '../argocd/git-source.js';
import type { GitLabModel } from '../gitlab/index.js';

export function gitSourceOver(gitlab: GitLabModel, projectsByUrl: Readonly<Record<string, string>>): GitSource {
  return {
    resolveRevision(repoURL, revision) {
      const project = projectsByUrl[repoURL];
      return project === undefined ? undefined : gitlab.branchHead(project, revision);
    },
    readDirectory(repoURL, sha, path) {
      const project = projectsByUrl[repoURL];
      if (project === undefined) return undefined;
      const prefix = `${path.replace(/\/+$/, '')}/`;
      const files = gitlab.listFiles(project, sha, path);
      if (files.size === 0) return undefined;
      return Object.fromEntries(
        [...files].map(([p, content]) => [p.startsWith(prefix) ? p.slice(prefix.length) : p, content]),
      );
    },
  };
}
