import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, startJenkinsWorld, USER, type JenkinsWorld } from './jenkins-fixture.js';

let world: JenkinsWorld;
beforeEach(async () => {
  world = await startJenkinsWorld();
});
afterEach(async () => {
  await world.stop();
});

async function crumbFor(
  secret: string,
): Promise<{ crumb: string; field: string; cookie: string | null; body: Record<string, unknown> }> {
  const res = await call(world, '/crumbIssuer/api/json', { headers: { authorization: world.basic(secret) } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { crumb: string; crumbRequestField: string };
  return { crumb: body.crumb, field: body.crumbRequestField, cookie: res.headers.get('set-cookie'), body };
}

describe('sandbox Jenkins security', () => {
  it('issues a DefaultCrumbIssuer crumb together with a JSESSIONID session cookie', async () => {
    const { body, cookie } = await crumbFor(USER.password);
    expect(body._class).toBe('hudson.security.csrf.DefaultCrumbIssuer');
    expect(body.crumbRequestField).toBe('Jenkins-Crumb');
    expect(cookie).toMatch(/^JSESSIONID\.[0-9a-f]+=[^;]+; Path=\/; HttpOnly$/);
  });

  it('accepts a POST authenticated with the API token without any crumb', async () => {
    const res = await call(world, '/job/plain/build', { method: 'POST' });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${world.url}/queue/item/\\d+/$`));
  });

  it('refuses a password-authenticated POST without a crumb with 403 "No valid crumb"', async () => {
    const res = await call(world, '/job/plain/build', {
      method: 'POST',
      headers: { authorization: world.basic(USER.password) },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('No valid crumb was included in the request');
  });

  it('refuses a password-authenticated POST whose crumb comes without the session cookie', async () => {
    const { crumb, field } = await crumbFor(USER.password);
    const res = await call(world, '/job/plain/build', {
      method: 'POST',
      headers: { authorization: world.basic(USER.password), [field]: crumb },
    });
    expect(res.status).toBe(403);
  });

  it('accepts a password-authenticated POST that sends the crumb and its session cookie', async () => {
    const { crumb, field, cookie } = await crumbFor(USER.password);
    const res = await call(world, '/job/plain/build', {
      method: 'POST',
      headers: { authorization: world.basic(USER.password), [field]: crumb, cookie: cookie!.split(';')[0]! },
    });
    expect(res.status).toBe(201);
  });

  it('lets the npm client trigger builds with password auth through its crumb handling', async () => {
    const queueId = await world.passwordClient().job.build({ name: 'plain' });
    expect(typeof queueId).toBe('number');
  });

  it('answers 401 with a Basic challenge and an HTML page for bad credentials and for anonymous requests', async () => {
    for (const authorization of [world.basic('wrong'), world.basic(USER.apiToken, 'nobody')]) {
      const res = await call(world, '/api/json', { headers: { authorization } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Jenkins"');
      expect(res.headers.get('content-type')).toContain('text/html');
    }
    const anonymous = await fetch(`${world.url}/api/json`);
    expect(anonymous.status).toBe(401);
    await expect(world.tokenClient().info()).resolves.toBeDefined();
  });

  it('tells who the caller is on /whoAmI and describes the controller on /api/json', async () => {
    const who = (await (await call(world, '/whoAmI/api/json')).json()) as Record<string, unknown>;
    expect(who).toMatchObject({
      _class: 'hudson.security.WhoAmI',
      name: USER.id,
      authenticated: true,
      anonymous: false,
    });
    const res = await call(world, '/api/json');
    expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8');
    const root = (await res.json()) as {
      mode: string;
      useCrumbs: boolean;
      jobs: { name: string; _class: string; url: string }[];
    };
    expect(root.mode).toBe('NORMAL');
    expect(root.useCrumbs).toBe(true);
    expect(root.jobs.map((j) => j.name)).toEqual(['example-app', 'promote-environment', 'plain']);
    expect(root.jobs[0]).toMatchObject({
      _class: 'org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject',
      url: `${world.url}/job/example-app/`,
    });
  });
});
