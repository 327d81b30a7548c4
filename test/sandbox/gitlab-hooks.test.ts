import { describe, expect, it } from 'vitest';
import { until } from '../support/eventually.js';
import {
  DEPLOYMENTS,
  DEPLOYMENTS_ID,
  gitLabWorldPerTest,
  manifest,
  MANIFEST,
  settledStatus,
  TOKEN,
  type GitLabWorld,
} from './gitlab-fixture.js';
import { closedPort, receiversPerTest, type Delivery, type Receiver } from './webhook-receiver.js';

const startWorld = gitLabWorldPerTest();
const startReceiver = receiversPerTest();
const ZEROS = '0'.repeat(40);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function addHook(w: GitLabWorld, body: Record<string, unknown>): Promise<{ id: number }> {
  const res = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/hooks`, body);
  expect(res.status).toBe(201);
  return (await res.json()) as { id: number };
}

const ofEvent = (r: Receiver, event: string): Delivery[] =>
  r.deliveries.filter((d) => d.headers['x-gitlab-event'] === event);

/** Commits a manifest change to `branch` through the commits API. */
async function commitImage(w: GitLabWorld, branch: string, image: string, startBranch?: string): Promise<string> {
  const res = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/repository/commits`, {
    branch,
    ...(startBranch !== undefined ? { start_branch: startBranch } : {}),
    commit_message: `Deploy example-app: ${image}`,
    actions: [{ action: 'update', file_path: MANIFEST, content: manifest(image) }],
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe('sandbox GitLab project hooks API', () => {
  it('creates (201), lists, reads, updates and deletes (204) hooks, never rendering the token', async () => {
    const w = await startWorld();
    const created = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/hooks`, {
      url: 'http://127.0.0.1:9/hooks/gitlab',
      token: 's3cret',
      push_events: true,
      merge_requests_events: true,
      pipeline_events: false,
    });
    expect(created.status).toBe(201);
    const hook = (await created.json()) as Record<string, unknown>;
    expect(hook).toMatchObject({
      url: 'http://127.0.0.1:9/hooks/gitlab',
      push_events: true,
      merge_requests_events: true,
      pipeline_events: false,
      tag_push_events: false,
      enable_ssl_verification: true,
      alert_status: 'executable',
      disabled_until: null,
      project_id: w.model.project(DEPLOYMENTS).id,
    });
    expect(hook).not.toHaveProperty('token');
    expect(JSON.stringify(hook)).not.toContain('s3cret');

    const list = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/hooks`);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { id: number }[]).map((h) => h.id)).toEqual([hook.id]);

    const read = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/hooks/${String(hook.id)}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(hook);

    const updated = await w.api('PUT', `/projects/${DEPLOYMENTS_ID}/hooks/${String(hook.id)}`, {
      url: 'http://127.0.0.1:9/other',
      merge_requests_events: false,
    });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({ url: 'http://127.0.0.1:9/other', merge_requests_events: false });
    // A new URL drops the secret (GitLab resets the token with the URL).
    expect(w.model.hooks.get(w.model.project(DEPLOYMENTS), hook.id as number)?.token).toBeUndefined();

    const deleted = await w.api('DELETE', `/projects/${DEPLOYMENTS_ID}/hooks/${String(hook.id)}`);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    const again = await w.api('DELETE', `/projects/${DEPLOYMENTS_ID}/hooks/${String(hook.id)}`);
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ message: '404 Not found' });
  });

  it('answers the documented errors: unknown hook, invalid url, missing url, nothing to update, no token', async () => {
    const w = await startWorld();
    const unknown = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/hooks/4242`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: '404 Not found' });

    const invalid = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/hooks`, { url: 'not a url' });
    expect(invalid.status).toBe(422);
    expect(await invalid.json()).toEqual({ error: 'Invalid url given' });

    const missing = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/hooks`, { push_events: true });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'url is missing' });

    const badFilter = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/hooks`, {
      url: 'http://127.0.0.1:9/',
      branch_filter_strategy: 'regex',
      push_events_branch_filter: '(',
    });
    expect(badFilter.status).toBe(422);
    expect(await badFilter.json()).toEqual({ error: 'Invalid branch filter given' });

    const { id } = await addHook(w, { url: 'http://127.0.0.1:9/' });
    const empty = await w.api('PUT', `/projects/${DEPLOYMENTS_ID}/hooks/${id}`, {});
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({ error: 'No parameters provided' });

    const anonymous = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/hooks`, undefined, { 'private-token': 'nope' });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ message: '401 Unauthorized' });

    const noProject = await w.api('GET', `/projects/${encodeURIComponent('p2c/none')}/hooks`);
    expect(noProject.status).toBe(404);
  });
});

describe('sandbox GitLab hook deliveries', () => {
  it('delivers an MR opened, updated by a push and merged, with the pushes, GitLab headers and payloads', async () => {
    const w = await startWorld();
    const r = await startReceiver();
    await addHook(w, {
      url: `${r.url}/webhooks/gitlab`,
      token: 'tok\n',
      push_events: true,
      merge_requests_events: true,
    });
    const project = w.model.project(DEPLOYMENTS);

    // A new branch: before is 40 zeros.
    const first = await commitImage(w, 'update-dev-1', 'registry/app:1', 'dev');
    await until(() => ofEvent(r, 'Push Hook').length === 1, 'the push hook of the new branch');
    const newBranch = ofEvent(r, 'Push Hook')[0]!;
    expect(newBranch.method).toBe('POST');
    expect(newBranch.path).toBe('/webhooks/gitlab');
    expect(newBranch.headers['content-type']).toBe('application/json');
    expect(newBranch.headers['user-agent']).toBe('GitLab/17.8.0');
    expect(newBranch.headers['x-gitlab-instance']).toBe(w.server.url);
    expect(newBranch.headers['x-gitlab-token']).toBe('tok');
    expect(newBranch.headers['x-gitlab-webhook-uuid']).toMatch(UUID);
    expect(newBranch.headers['x-gitlab-event-uuid']).toMatch(UUID);
    expect(newBranch.headers['idempotency-key']).toMatch(UUID);
    expect(newBranch.json()).toMatchObject({
      object_kind: 'push',
      event_name: 'push',
      before: ZEROS,
      after: first,
      checkout_sha: first,
      ref: 'refs/heads/update-dev-1',
      project_id: project.id,
      project: { path_with_namespace: DEPLOYMENTS, default_branch: 'main' },
      total_commits_count: 1,
      commits: [
        { id: first, title: 'Deploy example-app: registry/app:1', modified: [MANIFEST], added: [], removed: [] },
      ],
    });

    const opened = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/merge_requests`, {
      source_branch: 'update-dev-1',
      target_branch: 'dev',
      title: 'Deploy example-app to dev: registry/app:1',
      remove_source_branch: true,
    });
    expect(opened.status).toBe(201);
    const { iid } = (await opened.json()) as { iid: number };
    await until(() => ofEvent(r, 'Merge Request Hook').length === 1, 'the MR hook of the opened MR');
    const open = ofEvent(r, 'Merge Request Hook')[0]!;
    expect(open.json()).toMatchObject({
      object_kind: 'merge_request',
      event_type: 'merge_request',
      user: { username: 'shepherd' },
      project: { id: project.id },
      object_attributes: {
        action: 'open',
        iid,
        source_branch: 'update-dev-1',
        target_branch: 'dev',
        state: 'opened',
        merge_commit_sha: null,
        url: `${w.server.url}/${DEPLOYMENTS}/-/merge_requests/${iid}`,
        last_commit: { id: first },
      },
    });
    expect(open.json<{ object_attributes: object }>().object_attributes).not.toHaveProperty('oldrev');

    // A push to the source branch: a Push Hook, and the MR hook `update` with `oldrev`.
    const second = await commitImage(w, 'update-dev-1', 'registry/app:2');
    await until(() => ofEvent(r, 'Merge Request Hook').length === 2, 'the MR update hook');
    const update = ofEvent(r, 'Merge Request Hook')[1]!.json<{ object_attributes: Record<string, unknown> }>();
    expect(update.object_attributes).toMatchObject({ action: 'update', oldrev: first, last_commit: { id: second } });
    expect(ofEvent(r, 'Push Hook')[1]!.json()).toMatchObject({ before: first, after: second });

    await settledStatus(w, iid);
    const merged = await w.api('PUT', `/projects/${DEPLOYMENTS_ID}/merge_requests/${iid}/merge`, { sha: second });
    expect(merged.status).toBe(200);
    const { merge_commit_sha: mergeSha } = (await merged.json()) as { merge_commit_sha: string };
    await until(() => ofEvent(r, 'Merge Request Hook').length === 3, 'the MR merge hook');
    await until(() => ofEvent(r, 'Push Hook').length === 4, 'the pushes of the merge and the branch removal');
    expect(ofEvent(r, 'Merge Request Hook')[2]!.json()).toMatchObject({
      object_attributes: {
        action: 'merge',
        state: 'merged',
        merge_commit_sha: mergeSha,
        detailed_merge_status: 'not_open',
      },
      changes: { state_id: { previous: 1, current: 3 } },
    });
    const pushes = ofEvent(r, 'Push Hook').map((d) => d.json<{ ref: string; after: string; checkout_sha: unknown }>());
    expect(pushes.find((p) => p.ref === 'refs/heads/dev')).toMatchObject({ after: mergeSha, checkout_sha: mergeSha });
    // The removed source branch: after is 40 zeros and checkout_sha null.
    expect(pushes.find((p) => p.ref === 'refs/heads/update-dev-1' && p.after === ZEROS)).toMatchObject({
      before: second,
      checkout_sha: null,
      commits: [],
    });
    // Each attempt has its own webhook UUID.
    expect(new Set(r.deliveries.map((d) => d.headers['x-gitlab-webhook-uuid'])).size).toBe(r.deliveries.length);
  });

  it('delivers close and reopen with the state change, as the user who acted', async () => {
    const w = await startWorld();
    const r = await startReceiver();
    await addHook(w, { url: r.url, push_events: false, merge_requests_events: true });
    await commitImage(w, 'update-stage-1', 'registry/app:5', 'stage');
    const { iid } = w.model.createMergeRequest(DEPLOYMENTS, {
      sourceBranch: 'update-stage-1',
      targetBranch: 'stage',
      title: 'Promote example-app to stage',
    });
    for (const stateEvent of ['close', 'reopen']) {
      const res = await w.api('PUT', `/projects/${DEPLOYMENTS_ID}/merge_requests/${iid}`, { state_event: stateEvent });
      expect(res.status).toBe(200);
    }
    await until(() => r.deliveries.length === 3, 'open, close and reopen');
    const hooks = r.deliveries.map((d) =>
      d.json<{ object_attributes: { action: string; state: string }; changes: object }>(),
    );
    expect(hooks.map((h) => h.object_attributes.action).sort()).toEqual(['close', 'open', 'reopen']);
    const close = hooks.find((h) => h.object_attributes.action === 'close')!;
    expect(close).toMatchObject({
      object_attributes: { state: 'closed', state_id: 2 },
      changes: { state_id: { previous: 1, current: 2 } },
      user: { username: 'shepherd' },
    });
    const reopen = hooks.find((h) => h.object_attributes.action === 'reopen')!;
    expect(reopen).toMatchObject({
      object_attributes: { state: 'opened' },
      changes: { state_id: { previous: 2, current: 1 } },
    });
  });

  it('continues the X-Gitlab-Event-UUID an API call carried and blocks a hook already fired in that chain', async () => {
    const w = await startWorld();
    const first = await startReceiver();
    const second = await startReceiver();
    await addHook(w, { url: first.url, push_events: true, merge_requests_events: true });
    await commitImage(w, 'update-dev-9', 'registry/app:9', 'dev');
    w.model.createMergeRequest(DEPLOYMENTS, { sourceBranch: 'update-dev-9', targetBranch: 'dev', title: 't' });
    await until(() => first.deliveries.length === 2, 'the push and the MR open');
    await addHook(w, { url: second.url, push_events: true, merge_requests_events: true });
    await w.model.hooks.idle();

    // The first hook's receiver calls the API echoing its delivery's UUID: the push and MR update that call causes
    // continue that chain; the first hook already fired in it and is blocked, the second fires once.
    const chain = first.deliveries[0]!.headers['x-gitlab-event-uuid'] as string;
    const echoed = await w.api(
      'POST',
      `/projects/${DEPLOYMENTS_ID}/repository/commits`,
      {
        branch: 'update-dev-9',
        commit_message: 'echo',
        actions: [{ action: 'update', file_path: MANIFEST, content: manifest('registry/app:10') }],
      },
      { 'private-token': TOKEN, 'x-gitlab-event-uuid': chain },
    );
    expect(echoed.status).toBe(201);
    await until(() => second.deliveries.length === 1, 'the push to the second hook');
    await w.model.hooks.idle();
    expect(first.deliveries).toHaveLength(2);
    expect(second.deliveries).toHaveLength(1);
    expect(second.deliveries[0]!.headers).toMatchObject({
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-event-uuid': chain,
    });
    expect(w.model.hooks.blockedRecursions).toBe(3);

    // Without the header every hook gets both events, each with a new UUID.
    await commitImage(w, 'update-dev-9', 'registry/app:11');
    await until(() => first.deliveries.length === 4 && second.deliveries.length === 3, 'the push and the MR update');
    const uuids = [...first.deliveries.slice(2), ...second.deliveries.slice(1)].map(
      (d) => d.headers['x-gitlab-event-uuid'],
    );
    expect(uuids).not.toContain(chain);
  });

  it('sends no X-Gitlab-Token without a token, and only the events the hook selects', async () => {
    const w = await startWorld();
    const r = await startReceiver();
    await addHook(w, { url: r.url, push_events: true, merge_requests_events: false, push_events_branch_filter: 'dev' });
    await commitImage(w, 'feature', 'registry/app:f', 'dev');
    await commitImage(w, 'dev', 'registry/app:d');
    w.model.createMergeRequest(DEPLOYMENTS, { sourceBranch: 'feature', targetBranch: 'main', title: 'x' });
    await w.model.hooks.idle();
    await until(() => r.deliveries.length >= 1, 'the dev push');
    await w.model.hooks.idle();
    expect(r.deliveries.map((d) => d.json<{ ref: string }>().ref)).toEqual(['refs/heads/dev']);
    expect(r.deliveries[0]!.headers).not.toHaveProperty('x-gitlab-token');
  });

  it('logs a failing delivery in the hook events with the token redacted, never redelivers it, and resends on request', async () => {
    const w = await startWorld();
    const r = await startReceiver();
    r.status = 500;
    const { id } = await addHook(w, { url: r.url, token: 'hidden-secret', push_events: true });
    await commitImage(w, 'dev', 'registry/app:3');
    await until(() => r.deliveries.length === 1, 'the failing delivery');
    await w.model.hooks.idle();

    const events = await w.api('GET', `/projects/${DEPLOYMENTS_ID}/hooks/${id}/events`);
    expect(events.status).toBe(200);
    const log = (await events.json()) as Record<string, unknown>[];
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      trigger: 'push_hooks',
      response_status: '500',
      response_body: 'receiver failed',
      request_headers: { 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Token': '[REDACTED]' },
      request_data: { object_kind: 'push', ref: 'refs/heads/dev' },
    });
    expect(JSON.stringify(log)).not.toContain('hidden-secret');
    // Not redelivered: nothing else reached the receiver once every delivery has ended.
    expect(r.deliveries).toHaveLength(1);

    r.status = 200;
    const resend = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/hooks/${id}/events/${String(log[0]!.id)}/resend`);
    expect(resend.status).toBe(201);
    expect(await resend.json()).toEqual({ response_status: 200 });
    expect(r.deliveries).toHaveLength(2);
    const [original, again] = r.deliveries as [Delivery, Delivery];
    expect(again.headers['idempotency-key']).toBe(original.headers['idempotency-key']);
    expect(again.headers['x-gitlab-webhook-uuid']).not.toBe(original.headers['x-gitlab-webhook-uuid']);
    expect(again.headers['x-gitlab-token']).toBe('hidden-secret');
    expect(again.body).toBe(original.body);
    const after = (await (await w.api('GET', `/projects/${DEPLOYMENTS_ID}/hooks/${id}/events`)).json()) as {
      response_status: string;
    }[];
    expect(after.map((e) => e.response_status)).toEqual(['200', '500']);
  });

  it('logs a refused connection as an internal error without retrying', async () => {
    const w = await startWorld();
    const port = await closedPort();
    const { id } = await addHook(w, { url: `http://127.0.0.1:${port}/hook`, push_events: true });
    await commitImage(w, 'dev', 'registry/app:4');
    await until(() => w.model.hooks.get(w.model.project(DEPLOYMENTS), id)!.log.length > 0, 'the failed attempt');
    await w.model.hooks.idle();
    const log = (await (await w.api('GET', `/projects/${DEPLOYMENTS_ID}/hooks/${id}/events`)).json()) as {
      response_status: string;
      response_body: string;
    }[];
    expect(log).toHaveLength(1);
    expect(log[0]!.response_status).toBe('internal error');
    expect(log[0]!.response_body).toMatch(/ECONNREFUSED/);
  });

  it('sends test deliveries: 201 on success, 422 when there is nothing to sample or the receiver fails', async () => {
    const w = await startWorld();
    const r = await startReceiver();
    const { id } = await addHook(w, { url: r.url, push_events: false, merge_requests_events: false });
    const push = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/hooks/${id}/test/push_events`);
    expect(push.status).toBe(201);
    expect(await push.json()).toEqual({ message: '201 Created' });
    expect(r.deliveries).toHaveLength(1);
    expect(r.deliveries[0]!.headers['x-gitlab-event']).toBe('Push Hook');
    expect(r.deliveries[0]!.json()).toMatchObject({ object_kind: 'push', ref: 'refs/heads/main' });

    const noMr = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/hooks/${id}/test/merge_requests_events`);
    expect(noMr.status).toBe(422);
    expect(await noMr.json()).toEqual({ message: 'Ensure the project has merge requests.' });

    const bad = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/hooks/${id}/test/nonsense`);
    expect(bad.status).toBe(400);

    r.status = 503;
    const failing = await w.api('POST', `/projects/${DEPLOYMENTS_ID}/hooks/${id}/test/push_events`);
    expect(failing.status).toBe(422);
  });
});
