/**
 * Part B: the installation trait `gitlabApprovals` — the deployments project has GitLab (EE) approval rules: MRs
 * into the trait's environment branches need `required` approvals from its approvers. The world creates each
 * approver as a GitLab user with a personal access token and Developer access; Shepherd's own user (`shepherd`)
 * and Jenkins are members too, but an MR's author may not approve it. Shepherd is set up for it with
 * `SHEPHERD_APPROVALS_SOURCE=gitlab` and `SHEPHERD_APPROVAL_ENVIRONMENTS` naming the environments.
 */
import { randomBytes } from 'node:crypto';
import type { Installation } from '../core/faults.js';
import { approvalsOf } from '../gitlab/approvals.js';
import type { GitLabModel } from '../gitlab/index.js';
import type { WorldLayout } from './layout.js';

/** An approver of the installation, with the token a person would approve with (for the demo and tests). */
export interface WorldApprover {
  readonly username: string;
  readonly name: string;
  readonly token: string;
}

/** Sets the approval rules of the deployments project up; returns the approvers and adds the settings Shepherd needs. */
export function setUpGitLabApprovals(
  gitlab: GitLabModel,
  layout: WorldLayout,
  trait: NonNullable<Installation['gitlabApprovals']>,
  settings: Record<string, string>,
): WorldApprover[] {
  const approvals = approvalsOf(gitlab);
  const project = layout.deploymentsProject;
  approvals.addMember(project, 'shepherd', 'maintainer');
  approvals.addMember(project, 'jenkins', 'developer');
  const approvers = trait.approvers.map((username) => {
    const token = `glpat-${randomBytes(18).toString('hex')}`;
    const name = username.charAt(0).toUpperCase() + username.slice(1);
    if (gitlab.findUser(username)) gitlab.addToken(username, token);
    else gitlab.addUser({ username, name, tokens: [token] });
    approvals.addMember(project, username, 'developer');
    return { username, name: gitlab.findUser(username)!.name, token };
  });
  const branches = trait.environments.map((env) => {
    const e = layout.environments[env as keyof typeof layout.environments];
    if (!e) throw new Error(`gitlabApprovals names ${env}, which is not an environment of this world`);
    return e.branch;
  });
  approvals.addRule(project, {
    name: `${trait.environments.join(', ')} approvers`,
    targetBranches: branches,
    eligible: trait.approvers,
    required: trait.required,
  });
  settings.SHEPHERD_APPROVALS_SOURCE = 'gitlab';
  settings.SHEPHERD_APPROVAL_ENVIRONMENTS = trait.environments.join(',');
  return approvers;
}
