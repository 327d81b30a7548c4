/**
 * The endpoints `shepherd doctor` asks, answered by the sandbox world as the real systems answer them: GitLab's
 * token self-description and protected branches, Jenkins's whoAmI and job parameters, the Kubernetes namespace read
 * and SelfSubjectAccessReview from the world's permission model (switched on the admin server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type TestSandbox } from '../support/sandbox.js';

let sandbox: TestSandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.stop();
});

const gitlab = (path: string, token = sandbox.world.info.gitlab.token): Promise<Response> =>
  fetch(`${sandbox.world.info.gitlab.url}/api/v4${path}`, { headers: { 'private-token': token } });
const jenkins = (path: string): Promise<Response> => {
  const { url, user, token } = sandbox.world.info.jenkins;
  return fetch(`${url}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}` },
  });
};
const kube = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${sandbox.world.info.kubernetes.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${sandbox.world.info.kubernetes.token}`, 'content-type': 'application/json' },
  });
/** The parts of a SelfSubjectAccessReview answer the tests read. */
interface ReviewBody {
  readonly status: { readonly allowed: boolean };
  readonly [key: string]: unknown;
}

const review = async (resourceAttributes: Record<string, string>): Promise<{ status: number; body: ReviewBody }> => {
  const res = await kube('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    method: 'POST',
    body: JSON.stringify({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes },
    }),
  });
  return { status: res.status, body: (await res.json()) as ReviewBody };
};
const deny = (denied: unknown[]): Promise<Response> =>
  fetch(`${sandbox.world.info.admin.url}/permissions`, { method: 'PUT', body: JSON.stringify({ denied }) });

describe('sandbox GitLab for doctor', () => {
  it('describes the token in use with its scopes, never its value', async () => {
    const res = await gitlab('/personal_access_tokens/self');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ scopes: ['api'], active: true, revoked: false, expires_at: null });
    expect(typeof body.user_id).toBe('number');
    expect(JSON.stringify(body)).not.toContain(sandbox.world.info.gitlab.token);
  });

  it('answers 401 to a wrong token', async () => {
    const res = await gitlab('/personal_access_tokens/self', 'glpat-nope');
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: '401 Unauthorized' });
  });

  it('reports the scopes a token was given', async () => {
    const token = sandbox.world.info.gitlab.token;
    sandbox.world.gitlab.setTokenScopes(token, ['read_api']);
    try {
      expect(((await (await gitlab('/personal_access_tokens/self')).json()) as { scopes: string[] }).scopes).toEqual([
        'read_api',
      ]);
    } finally {
      sandbox.world.gitlab.setTokenScopes(token, ['api']);
    }
  });

  it('lists the protected branches of the deployments project: the default branch and every environment branch', async () => {
    const project = encodeURIComponent(sandbox.world.info.gitlab.deploymentsProject);
    const res = await gitlab(`/projects/${project}/protected_branches`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-total')).toBe('4');
    const body = (await res.json()) as { name: string; push_access_levels: { access_level: number }[] }[];
    expect(body.map((b) => b.name)).toEqual(['dev', 'main', 'prod', 'stage']);
    expect(body[0]).toMatchObject({
      allow_force_push: false,
      push_access_levels: [{ access_level: 40, access_level_description: 'Maintainers' }],
      merge_access_levels: [{ access_level: 40 }],
    });
  });

  it('forgets a protection that is removed, and answers 404 Project Not Found for an unknown project', async () => {
    const project = sandbox.world.info.gitlab.deploymentsProject;
    sandbox.world.gitlab.unprotectBranch(project, 'stage');
    try {
      const names = (
        (await (await gitlab(`/projects/${encodeURIComponent(project)}/protected_branches`)).json()) as {
          name: string;
        }[]
      ).map((b) => b.name);
      expect(names).not.toContain('stage');
    } finally {
      sandbox.world.gitlab.protectBranch(project, 'stage');
    }
    const missing = await gitlab(`/projects/${encodeURIComponent('p2c/nothing')}/protected_branches`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: '404 Project Not Found' });
  });
});

describe('sandbox Jenkins for doctor', () => {
  it('says who the API token authenticates as', async () => {
    const res = await jenkins('/whoAmI/api/json');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'shepherd', anonymous: false, authenticated: true });
  });

  it("lists the promote job's parameter definitions through a tree query", async () => {
    const res = await jenkins(
      `/job/promote-environment/api/json?tree=${encodeURIComponent('property[parameterDefinitions[name]]')}`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { property: { parameterDefinitions?: { name: string }[] }[] };
    const names = body.property.flatMap((p) => (p.parameterDefinitions ?? []).map((d) => d.name));
    expect(names).toEqual(expect.arrayContaining(['APP_NAME', 'SOURCE_ENV', 'TARGET_ENV', 'IMAGE_TAG']));
  });
});

describe('sandbox Kubernetes for doctor', () => {
  it('reads a namespace, and answers a missing one with a NotFound Status', async () => {
    const res = await kube('/api/v1/namespaces/stage');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ kind: 'Namespace', metadata: { name: 'stage' } });
    const missing = await kube('/api/v1/namespaces/nowhere');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
  });

  it('allows everything by default: 201 with status.allowed true', async () => {
    const { status, body } = await review({ verb: 'watch', group: '', resource: 'pods', namespace: 'dev' });
    expect(status).toBe(201);
    expect(body).toMatchObject({
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      spec: { resourceAttributes: { verb: 'watch', resource: 'pods', namespace: 'dev' } },
      status: { allowed: true },
    });
  });

  it('answers from the permission model once the admin server denies a permission, and refuses the request itself', async () => {
    expect((await deny([{ verb: 'list', group: '', resource: 'pods', namespace: 'prod' }])).status).toBe(200);
    try {
      expect((await review({ verb: 'list', group: '', resource: 'pods', namespace: 'prod' })).body.status).toEqual({
        allowed: false,
      });
      expect((await review({ verb: 'list', group: '', resource: 'pods', namespace: 'dev' })).body.status.allowed).toBe(
        true,
      );
      const refused = await kube('/api/v1/namespaces/prod/pods?labelSelector=app%3Dexample-app');
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({
        reason: 'Forbidden',
        code: 403,
        message:
          'pods is forbidden: User "system:serviceaccount:shepherd:shepherd" cannot list resource "pods" in API group "" in the namespace "prod"',
      });
      expect((await kube('/api/v1/namespaces/dev/pods')).status).toBe(200);
    } finally {
      await deny([]);
    }
    expect((await kube('/api/v1/namespaces/prod/pods')).status).toBe(200);
  });

  it('refuses a review without attributes with 422 Invalid, and a malformed permissions body with 400', async () => {
    const res = await kube('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      method: 'POST',
      body: JSON.stringify({ kind: 'SelfSubjectAccessReview', spec: {} }),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ reason: 'Invalid' });
    expect((await deny([{ verb: 'list' }])).status).toBe(400);
  });
});
