/**
 * The permissions Shepherd's cluster calls need, read from deploy/kubernetes/rbac/*.yaml: the Roles that
 * test/unit/deploy/kubernetes-rbac.test.ts checks against the requests the client really makes. Reading them here
 * (rather than listing verbs again) keeps doctor's SelfSubjectAccessReviews and the manifests one list.
 *
 * The base manifests use the default namespace names: a Role in `argocd` applies to Argo CD's namespace, a Role in
 * `dev`, `stage` or `prod` to that environment's namespace.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../config/paths.js';
import { isEnvironment, type Environment } from '../domain/environments.js';

export const RBAC_DIR = join(PROJECT_ROOT, 'deploy', 'kubernetes', 'rbac');

export interface Permission {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
}

export interface RequiredPermissions {
  readonly argocd: readonly Permission[];
  readonly environments: Readonly<Partial<Record<Environment, readonly Permission[]>>>;
}

interface RoleDoc {
  kind?: string;
  metadata?: { namespace?: string };
  rules?: { apiGroups?: string[]; resources?: string[]; verbs?: string[] }[];
}

/** Reads the Roles; throws when the folder is missing (an installation without the repository's deploy/ folder). */
export function requiredPermissions(dir: string = RBAC_DIR): RequiredPermissions {
  const argocd: Permission[] = [];
  const environments: Partial<Record<Environment, Permission[]>> = {};
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const role = doc.toJS() as RoleDoc | null;
      if (role?.kind !== 'Role') continue;
      const ns = role.metadata?.namespace;
      const into = ns === 'argocd' ? argocd : isEnvironment(ns) ? (environments[ns] ??= []) : undefined;
      if (!into) continue;
      for (const rule of role.rules ?? [])
        for (const group of rule.apiGroups ?? [])
          for (const resource of rule.resources ?? [])
            for (const verb of rule.verbs ?? []) into.push({ verb, group, resource });
    }
  }
  return { argocd, environments };
}

/** `list pods`, `get deployments.apps`: how kubectl names a permission. */
export function describePermission(p: Permission): string {
  return `${p.verb} ${p.group ? `${p.resource}.${p.group}` : p.resource}`;
}
