/**
 * GitLab's checks: the URL answers and the token is valid (`GET /user`), the token has the `api` scope, both
 * projects are visible, each environment branch exists and is protected (changes reach it only through merge
 * requests), and webhooks, which Shepherd does not use yet.
 */
import { GitLabClient } from '../clients/gitlab/index.js';
import { AuthenticationError, CertificateError, NotFoundError } from '../domain/errors.js';

import { fail, notApplicable, pass, reasonOf, skipped, type CheckResult } from './check.js';
import type { Installation } from './installation.js';

/** Doctor answers in seconds, not after the activities' 30 s request timeout. */
const REQUEST_TIMEOUT_MS = 10_000;

export async function checkGitLab(inst: Installation, opts: { quick: boolean }): Promise<CheckResult[]> {
  const { url, token, appProject, deploymentsProject } = inst.gitlab;
  const names = inst.names;
  const client = new GitLabClient({ url, token, timeoutMs: REQUEST_TIMEOUT_MS, companyCa: inst.companyCa });
  const tokenCheck = `token is valid at ${url}`;
  try {
    const user = await client.currentUser();
    const results = [pass('gitlab', tokenCheck, `user ${user.username}`)];
    if (opts.quick) return results;
    results.push(await checkScopes(client, names.gitlabToken));
    const visible = new Map<string, boolean>();
    for (const [role, project] of [
      ['app', appProject],
      ['deployments', deploymentsProject],
    ] as const) {
      const what = `${role} project ${project} is visible`;
      try {
        const p = await client.getProject(project);
        results.push(pass('gitlab', what, `default branch ${p.defaultBranch}`));
        visible.set(project, true);
      } catch (err) {
        visible.set(project, false);
        results.push(
          fail(
            'gitlab',
            what,
            err instanceof NotFoundError ? 'GitLab has no such project, or the token cannot see it' : reasonOf(err),
            `Check the project path (APP_REPO_PATH / DEPLOYMENTS_REPO_PATH) and give the token's user at least Developer access to it`,
          ),
        );
      }
    }
    results.push(...(await checkBranches(client, inst, visible.get(deploymentsProject) === true)));
    results.push(
      notApplicable(
        'gitlab',
        'webhooks are registered',
        'Shepherd has no webhook receiver yet; it polls GitLab for merge requests and pipelines',
      ),
    );
    return results;
  } catch (err) {
    const unauthorized = err instanceof AuthenticationError;
    const results = [
      fail(
        'gitlab',
        tokenCheck,
        unauthorized ? `GitLab refused the token (HTTP ${err.facts.status})` : reasonOf(err),
        err instanceof CertificateError
          ? err.fix
          : (inst.sandboxFix ??
              (unauthorized
                ? `Create a personal access token with the api scope for Shepherd's GitLab user and set ${names.gitlabToken}`
                : `Check ${names.gitlabUrl} and that GitLab is up, then run doctor again`)),
      ),
    ];
    if (!opts.quick) results.push(skipped('gitlab', 'projects, branches and token scopes', 'the token check failed'));
    return results;
  }
}

async function checkScopes(client: GitLabClient, tokenVariable: string): Promise<CheckResult> {
  const what = 'token has the api scope';
  try {
    const scopes = await client.currentTokenScopes();
    if (scopes === undefined)
      return notApplicable(
        'gitlab',
        what,
        'GitLab does not describe this token (not a personal access token, or GitLab older than 15.5)',
      );
    if (scopes.includes('api')) return pass('gitlab', what, `scopes ${scopes.join(', ')}`);
    return fail(
      'gitlab',
      what,
      `its scopes are ${scopes.join(', ') || 'none'}; Shepherd commits, opens and merges merge requests, which needs api`,
      `Create a token with the api scope and set ${tokenVariable}`,
    );
  } catch (err) {
    return fail('gitlab', what, `asking GitLab failed (${reasonOf(err)})`, 'Run doctor again once GitLab answers');
  }
}

/** GitLab protects names and wildcards (`release/*`): `*` matches any run of characters. */
function protects(pattern: string, branch: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return re.test(branch);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function checkBranches(client: GitLabClient, inst: Installation, visible: boolean): Promise<CheckResult[]> {
  const project = inst.gitlab.deploymentsProject;
  const what = (branch: string): string => `environment branch ${branch} exists and is protected`;
  const branches = Object.values(inst.environments).map((e) => e.branch);
  if (!visible) return branches.map((b) => skipped('gitlab', what(b), `the project ${project} is not visible`));
  let protectedNames: string[];
  try {
    protectedNames = await client.listProtectedBranches(project);
  } catch (err) {
    return branches.map((b) =>
      fail(
        'gitlab',
        what(b),
        `listing protected branches of ${project} failed (${reasonOf(err)})`,
        "Give the token's user the Maintainer role on the deployments project, which may read branch protection",
      ),
    );
  }
  const results: CheckResult[] = [];
  for (const branch of branches) {
    try {
      const found = await client.getBranch(project, branch);
      if (!found) {
        results.push(
          fail(
            'gitlab',
            what(branch),
            `${project} has no branch ${branch}`,
            `Create it from the default branch and protect it (Settings → Repository → Protected branches)`,
          ),
        );
        continue;
      }
      const rule = protectedNames.find((p) => protects(p, branch));
      results.push(
        rule
          ? pass('gitlab', what(branch), rule === branch ? undefined : `by ${rule}`)
          : fail(
              'gitlab',
              what(branch),
              `${branch} is not protected, so changes may reach the environment without a merge request`,
              `Protect it in ${project} (Settings → Repository → Protected branches: allowed to push "No one" or Maintainers)`,
            ),
      );
    } catch (err) {
      results.push(fail('gitlab', what(branch), reasonOf(err), 'Run doctor again once GitLab answers'));
    }
  }
  return results;
}
