/**
 * Project hooks API (`lib/api/project_hooks.rb`): list, read, create (201), update, delete (204), test deliveries,
 * the delivery log and resend. An unknown hook is 404 `{"message":"404 Not found"}` (`.find` raising
 * RecordNotFound); the token is never rendered; an invalid URL is 422 `{"error":"Invalid url given"}`.
 */
import { empty, json, type Router, type SandboxRequest, type SandboxResponse } from '../core/http.js';
import { iso } from './entities.js';
import { GitLabError } from './errors.js';
import {
  BRANCH_FILTER_STRATEGIES,
  HOOK_EVENT_FLAGS,
  HookValidationError,
  TEST_TRIGGERS,
  type HookInput,
  type HookLogEntry,
  type KeyValue,
  type ProjectHook,
} from './hooks.js';
import { api, intParam, paginated, Params, type RouteContext } from './http-support.js';

const P = '/api/v4/projects/:id/hooks';
const NOT_FOUND = (): SandboxResponse => json(404, { message: '404 Not found' });

export function hookEntity(hook: ProjectHook): Record<string, unknown> {
  return {
    id: hook.id,
    url: hook.url,
    name: hook.name,
    description: hook.description,
    created_at: iso(hook.createdAt),
    ...hook.flags,
    enable_ssl_verification: hook.enableSslVerification,
    alert_status: 'executable',
    disabled_until: null,
    url_variables: hook.urlVariables.map((v) => ({ key: v.key })),
    push_events_branch_filter: hook.pushEventsBranchFilter,
    branch_filter_strategy: hook.branchFilterStrategy,
    custom_webhook_template: hook.customWebhookTemplate,
    custom_headers: hook.customHeaders.map((h) => ({ key: h.key })),
    project_id: hook.projectId,
  };
}

export function hookLogEntity(entry: HookLogEntry): Record<string, unknown> {
  return {
    id: entry.id,
    url: entry.url,
    trigger: entry.trigger,
    request_headers: entry.requestHeaders,
    request_data: entry.requestData,
    response_headers: entry.responseHeaders,
    response_body: entry.responseBody,
    execution_duration: entry.executionDuration,
    response_status: entry.responseStatus,
    created_at: iso(entry.createdAt),
  };
}

function keyValues(params: Params, name: string): KeyValue[] | undefined {
  const raw = params.raw(name);
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    params.problem(`${name} is invalid`);
    return undefined;
  }
  const out: KeyValue[] = [];
  for (const item of raw as unknown[]) {
    const kv = item as { key?: unknown; value?: unknown } | null;
    if (kv === null || typeof kv !== 'object' || typeof kv.key !== 'string') {
      params.problem(`${name}[key] is missing`);
      return undefined;
    }
    out.push({ key: kv.key, value: typeof kv.value === 'string' ? kv.value : String(kv.value ?? '') });
  }
  return out;
}

/** Reads the hook fields of a create or update; Grape's 400s for wrong types. */
function hookInput(req: SandboxRequest): { input: HookInput; given: number } {
  const params = new Params(req);
  const flags: Partial<Record<(typeof HOOK_EVENT_FLAGS)[number], boolean>> = {};
  for (const flag of HOOK_EVENT_FLAGS) {
    const v = params.bool(flag);
    if (v !== undefined) flags[flag] = v;
  }
  const input = {
    url: params.string('url'),
    name: params.string('name'),
    description: params.string('description'),
    token: params.string('token'),
    enableSslVerification: params.bool('enable_ssl_verification'),
    pushEventsBranchFilter: params.string('push_events_branch_filter'),
    branchFilterStrategy: params.oneOf('branch_filter_strategy', BRANCH_FILTER_STRATEGIES),
    customWebhookTemplate: params.string('custom_webhook_template'),
    customHeaders: keyValues(params, 'custom_headers'),
    urlVariables: keyValues(params, 'url_variables'),
  };
  params.check();
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  return {
    input: { ...defined, flags } as HookInput,
    given: Object.keys(defined).length + Object.keys(flags).length,
  };
}

export function addHookRoutes(router: Router, ctx: RouteContext): void {
  const { model } = ctx;
  const withHook = (handler: (req: SandboxRequest, hook: ProjectHook) => SandboxResponse | Promise<SandboxResponse>) =>
    api(async (req) => {
      const project = model.project(req.params.id!);
      const hook = model.hooks.get(project, intParam(req.params.hook_id, 'hook_id'));
      return hook ? handler(req, hook) : NOT_FOUND();
    });
  const validated = (fn: () => SandboxResponse): SandboxResponse => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof HookValidationError) return json(422, err.body);
      throw err;
    }
  };

  router.add(
    'GET',
    P,
    api((req) => paginated(req, model.hooks.list(model.project(req.params.id!)), hookEntity)),
  );
  router.add(
    'POST',
    P,
    api((req) => {
      const project = model.project(req.params.id!);
      const { input } = hookInput(req);
      if (input.url === undefined) throw GitLabError.invalidParams('url is missing');
      return validated(() => json(201, hookEntity(model.hooks.create(project, input))));
    }),
  );
  router.add(
    'GET',
    `${P}/:hook_id`,
    withHook((_req, hook) => json(200, hookEntity(hook))),
  );
  router.add(
    'PUT',
    `${P}/:hook_id`,
    withHook((req, hook) => {
      const { input, given } = hookInput(req);
      if (given === 0) return json(400, { error: 'No parameters provided' });
      return validated(() => json(200, hookEntity(model.hooks.update(hook, input))));
    }),
  );
  router.add(
    'DELETE',
    `${P}/:hook_id`,
    withHook((_req, hook) => {
      model.hooks.delete(hook);
      return empty(204);
    }),
  );
  router.add(
    'POST',
    `${P}/:hook_id/test/:trigger`,
    withHook(async (req, hook) => {
      const trigger = TEST_TRIGGERS.find((t) => t === req.params.trigger);
      if (!trigger) return json(400, { error: 'trigger does not have a valid value' });
      const entry = await model.hooks.test(hook, trigger);
      if (/^[23][0-9][0-9]$/.test(entry.responseStatus)) return json(201, { message: '201 Created' });
      return json(422, {
        message:
          entry.responseStatus === 'internal error'
            ? entry.responseBody
            : `Hook execution failed with status ${entry.responseStatus}`,
      });
    }),
  );
  router.add(
    'GET',
    `${P}/:hook_id/events`,
    withHook((req, hook) => paginated(req, [...hook.log].reverse(), hookLogEntity)),
  );
  router.add(
    'POST',
    `${P}/:hook_id/events/:hook_event_id/resend`,
    withHook(async (req, hook) => {
      const id = intParam(req.params.hook_event_id, 'hook_event_id');
      const entry = hook.log.find((e) => e.id === id);
      if (!entry) return NOT_FOUND();
      const sent = await model.hooks.resend(hook, entry);
      return json(201, {
        response_status: /^[0-9]+$/.test(sent.responseStatus) ? Number(sent.responseStatus) : sent.responseStatus,
      });
    }),
  );
}
