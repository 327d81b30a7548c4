/**
 * Project webhooks, as GitLab keeps and executes them (`ProjectHook`, `WebHookService`, `WebHookLog`).
 *
 * Every push (API commits, merges, reverts, new and deleted branches) and every merge request change is offered to
 * the hooks of its project; each hook whose flags select the event gets one `POST`, asynchronously, so the API call
 * that caused it never waits. Headers are GitLab's own: `X-Gitlab-Event`, `X-Gitlab-Instance`, a new
 * `X-Gitlab-Webhook-UUID` per attempt, `X-Gitlab-Event-UUID` and `Idempotency-Key` fixed per event and hook, and
 * `X-Gitlab-Token` only when the hook has a token.
 *
 * Redelivery follows GitLab's code, not the outdated doc: a 2xx or 3xx answer is a success; a 4xx, a 5xx, a timeout
 * and a connection error (refused, reset, DNS) are failures that are logged and never re-sent — `WebHookService`
 * rescues all of them (`Gitlab::HTTP::HTTP_ERRORS`) into an error result, so the Sidekiq worker's `retry: 4` only
 * ever applies to unexpected exceptions, which a delivery here cannot raise. Resending is manual:
 * `POST …/hooks/:id/events/:event_id/resend` re-sends the logged body with the same `Idempotency-Key`.
 *
 * Recursion detection is GitLab's: an API call carrying `X-Gitlab-Event-UUID` makes the events it causes continue
 * that chain (the deliveries carry the same UUID), and a hook that already fired in the chain is not executed — so a
 * receiver that echoes the header on its API calls silently loses hooks, as in real GitLab.
 *
 * Not simulated: auto-disabling (off by default on self-managed), the rate limit of test and resend calls, Pipeline
 * Hooks (the sandbox has no pipelines), tag pushes (the sandbox has no tags).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { GitLabError } from './errors.js';
import {
  mergeRequestPayload,
  MR_HOOK_ACTIONS,
  pushPayload,
  ZERO,
  type ApprovalHookAction,
  type MergeRequestHookAction,
} from './hook-payloads.js';
import type { GitLabModel } from './model.js';
import type { MergeRequestEvent, Project, PushEvent, User } from './types.js';
import { SIMULATED_GITLAB_VERSION } from './version.js';

/** The event flags of a project hook, as the API names them. */
export const HOOK_EVENT_FLAGS = [
  'push_events',
  'tag_push_events',
  'merge_requests_events',
  'issues_events',
  'confidential_issues_events',
  'note_events',
  'confidential_note_events',
  'pipeline_events',
  'wiki_page_events',
  'deployment_events',
  'feature_flag_events',
  'job_events',
  'releases_events',
  'emoji_events',
  'resource_access_token_events',
  'repository_update_events',
] as const;
export type HookEventFlag = (typeof HOOK_EVENT_FLAGS)[number];

export const BRANCH_FILTER_STRATEGIES = ['wildcard', 'regex', 'all_branches'] as const;
export type BranchFilterStrategy = (typeof BRANCH_FILTER_STRATEGIES)[number];

/** The `trigger` of `POST …/hooks/:id/test/:trigger`. */
export const TEST_TRIGGERS = [
  'push_events',
  'tag_push_events',
  'note_events',
  'issues_events',
  'confidential_issues_events',
  'wiki_page_events',
  'merge_requests_events',
  'job_events',
  'pipeline_events',
  'deployment_events',
  'feature_flag_events',
  'releases_events',
  'emoji_events',
  'resource_access_token_events',
] as const;
export type TestTrigger = (typeof TEST_TRIGGERS)[number];

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** One attempt as `GET …/hooks/:id/events` lists it; `requestHeaders` has the token as `[REDACTED]`. */
export interface HookLogEntry {
  readonly id: number;
  readonly url: string;
  /** `push_hooks`, `merge_request_hooks`, … */
  readonly trigger: string;
  readonly eventName: string;
  readonly requestHeaders: Record<string, string>;
  readonly requestData: unknown;
  readonly responseHeaders: Record<string, string>;
  readonly responseBody: string;
  /** The HTTP status as a string, or `internal error` when no answer came (GitLab's log column). */
  readonly responseStatus: string;
  /** Seconds. */
  readonly executionDuration: number;
  readonly createdAt: number;
  readonly idempotencyKey: string;
  readonly eventUuid: string;
}

export interface ProjectHook {
  readonly id: number;
  readonly projectId: number;
  url: string;
  name: string;
  description: string;
  token: string | undefined;
  enableSslVerification: boolean;
  readonly flags: Record<HookEventFlag, boolean>;
  pushEventsBranchFilter: string;
  branchFilterStrategy: BranchFilterStrategy;
  customWebhookTemplate: string;
  customHeaders: KeyValue[];
  urlVariables: KeyValue[];
  readonly createdAt: number;
  /** Deliveries, oldest first; bounded like GitLab's 7-day log. */
  readonly log: HookLogEntry[];
}

/** Create/update input; absent fields keep their value (update) or default (create). */
export interface HookInput {
  readonly url?: string;
  readonly name?: string;
  readonly description?: string;
  readonly token?: string;
  readonly enableSslVerification?: boolean;
  readonly flags?: Partial<Record<HookEventFlag, boolean>>;
  readonly pushEventsBranchFilter?: string;
  readonly branchFilterStrategy?: BranchFilterStrategy;
  readonly customWebhookTemplate?: string;
  readonly customHeaders?: readonly KeyValue[];
  readonly urlVariables?: readonly KeyValue[];
}

/** The 422 answers of hook validation, with GitLab's body (`{"error":"Invalid url given"}`). */
export class HookValidationError extends Error {
  constructor(readonly body: Record<string, unknown>) {
    super(JSON.stringify(body));
    this.name = 'HookValidationError';
  }
}

/**
 * The `X-Gitlab-Event-UUID` an API request carried, for the events that request causes (recursion detection,
 * `Gitlab::WebHooks::RecursionDetection`): their deliveries reuse it instead of a new one, and a hook that already
 * fired in that chain, or a chain of 100 hooks, is blocked.
 */
const requestEventUuid = new AsyncLocalStorage<string>();

/** Runs `fn` (an API request's handler) so that the events it causes continue the chain of `uuid`, when given. */
export function inEventChain<T>(uuid: string | undefined, fn: () => T): T {
  return uuid !== undefined && uuid !== '' ? requestEventUuid.run(uuid, fn) : fn();
}

const RECURSION_CHAIN_LIMIT = 100;
const REMEMBERED_CHAINS = 1_000;
const LOG_LIMIT = 500;
const RESPONSE_BODY_LIMIT = 8 * 1024;
/** `gitlab.webhook_timeout` (believed 10 s). */
const DEFAULT_TIMEOUT_MS = 10_000;

const TRIGGER_OF = { 'Push Hook': 'push_hooks', 'Merge Request Hook': 'merge_request_hooks' } as const;
type HookEventName = keyof typeof TRIGGER_OF;

export class ProjectHooks {
  /** The instance base URL (`X-Gitlab-Instance`, URLs inside payloads); the server sets it when it starts. */
  instanceUrl = 'http://127.0.0.1';
  /** Delivery timeout. */
  timeoutMs = DEFAULT_TIMEOUT_MS;
  /** Called once per delivery attempt with the event name, for the world's delivery counts. */
  onDelivery: ((eventName: string) => void) | undefined;
  private readonly hooks = new Map<number, ProjectHook>();
  private nextHookId = 1;
  private nextLogId = 1;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly stopping = new AbortController();
  /** Hooks fired per event UUID, oldest chain first. */
  private readonly chains = new Map<string, Set<number>>();
  /** Deliveries refused by recursion detection, for inspection. */
  blockedRecursions = 0;

  constructor(private readonly model: GitLabModel) {
    model.onPush((e) => this.onPush(e));
    model.onMergeRequest((e) => this.onMergeRequest(e));
  }

  // ---- CRUD -------------------------------------------------------------------------------------------------

  list(project: Project): ProjectHook[] {
    return [...this.hooks.values()].filter((h) => h.projectId === project.id);
  }

  /** The hook, or undefined when the project has no hook with this id. */
  get(project: Project, id: number): ProjectHook | undefined {
    const hook = this.hooks.get(id);
    return hook?.projectId === project.id ? hook : undefined;
  }

  create(project: Project, input: HookInput): ProjectHook {
    if (input.url === undefined) throw GitLabError.invalidParams('url is missing');
    const flags = Object.fromEntries(HOOK_EVENT_FLAGS.map((f) => [f, f === 'push_events'])) as Record<
      HookEventFlag,
      boolean
    >;
    const hook: ProjectHook = {
      id: this.nextHookId++,
      projectId: project.id,
      url: '',
      name: '',
      description: '',
      token: undefined,
      enableSslVerification: true,
      flags,
      pushEventsBranchFilter: '',
      branchFilterStrategy: 'wildcard',
      customWebhookTemplate: '',
      customHeaders: [],
      urlVariables: [],
      createdAt: this.model.clock.now(),
      log: [],
    };
    this.apply(hook, input);
    this.hooks.set(hook.id, hook);
    return hook;
  }

  update(hook: ProjectHook, input: HookInput): ProjectHook {
    const draft: ProjectHook = { ...hook, flags: { ...hook.flags } };
    this.apply(draft, input);
    // A new URL drops the secret unless the same call sets one (GitLab resets the token with the URL).
    if (input.url !== undefined && input.url !== hook.url && input.token === undefined) draft.token = undefined;
    Object.assign(hook, draft);
    return hook;
  }

  delete(hook: ProjectHook): void {
    this.hooks.delete(hook.id);
  }

  private apply(hook: ProjectHook, input: HookInput): void {
    if (input.url !== undefined) {
      if (!validUrl(input.url)) throw new HookValidationError({ error: 'Invalid url given' });
      hook.url = input.url;
    }
    const strategy = input.branchFilterStrategy ?? hook.branchFilterStrategy;
    const filter = input.pushEventsBranchFilter ?? hook.pushEventsBranchFilter;
    if (strategy === 'regex' && filter !== '') {
      try {
        new RegExp(filter);
      } catch {
        throw new HookValidationError({ error: 'Invalid branch filter given' });
      }
    }
    for (const h of input.customHeaders ?? []) {
      if (h.key.trim() === '' || /[\r\n:]/.test(h.key))
        throw new HookValidationError({ error: 'Custom headers validation failed' });
    }
    hook.branchFilterStrategy = strategy;
    hook.pushEventsBranchFilter = filter;
    if (input.name !== undefined) hook.name = input.name;
    if (input.description !== undefined) hook.description = input.description;
    if (input.token !== undefined) hook.token = input.token === '' ? undefined : input.token;
    if (input.enableSslVerification !== undefined) hook.enableSslVerification = input.enableSslVerification;
    for (const [flag, value] of Object.entries(input.flags ?? {}))
      if (value !== undefined) hook.flags[flag as HookEventFlag] = value;
    if (input.customWebhookTemplate !== undefined) hook.customWebhookTemplate = input.customWebhookTemplate;
    if (input.customHeaders !== undefined) hook.customHeaders = [...input.customHeaders];
    if (input.urlVariables !== undefined) hook.urlVariables = [...input.urlVariables];
  }

  // ---- events -----------------------------------------------------------------------------------------------

  private onPush(e: PushEvent): void {
    const hooks = [...this.hooks.values()].filter((h) => h.projectId === e.projectId);
    if (hooks.length === 0) return;
    const project = this.model.project(e.projectId);
    const user = this.model.userById(e.userId);
    const payload = pushPayload(this.instanceUrl, project, { ...e, user });
    for (const hook of hooks) {
      if (hook.flags.push_events && branchSelected(hook, e.branch)) this.enqueue(hook, 'Push Hook', payload);
    }
    // New commits on a source branch update its open merge requests (`MergeRequests::RefreshService`).
    if (e.after === ZERO || e.commits.length === 0) return;
    for (const mr of this.model.mergeRequests.all(project)) {
      if (mr.state !== 'opened' || mr.sourceBranch !== e.branch) continue;
      this.mergeRequestHooks(hooks, project, mr.iid, 'update', user, e.before);
    }
  }

  private onMergeRequest(e: MergeRequestEvent): void {
    const hooks = [...this.hooks.values()].filter((h) => h.projectId === e.projectId);
    if (hooks.length === 0) return;
    const project = this.model.project(e.projectId);
    const mr = this.model.mergeRequests.get(project, e.iid);
    // The hook's `user` is who acted: the merger, the closer, else the author.
    const actorId =
      (e.action === 'merged' ? mr.mergeUserId : e.action === 'closed' ? mr.closedById : null) ?? mr.authorId;
    this.mergeRequestHooks(hooks, project, e.iid, MR_HOOK_ACTIONS[e.action], this.model.userById(actorId));
  }

  /** Part B (approvals): delivers an MR hook with an approval `action`, `user` being who approved or unapproved. */
  approvalEvent(project: Project, iid: number, action: ApprovalHookAction, user: User): void {
    const hooks = [...this.hooks.values()].filter((h) => h.projectId === project.id);
    if (hooks.length > 0) this.mergeRequestHooks(hooks, project, iid, action, user);
  }

  private mergeRequestHooks(
    hooks: readonly ProjectHook[],
    project: Project,
    iid: number,
    action: MergeRequestHookAction,
    user: User,
    oldrev?: string,
  ): void {
    const mr = this.model.mergeRequests.get(project, iid);
    const payload = mergeRequestPayload(this.instanceUrl, this.model, project, mr, action, {
      user,
      ...(oldrev !== undefined ? { oldrev } : {}),
    });
    for (const hook of hooks) if (hook.flags.merge_requests_events) this.enqueue(hook, 'Merge Request Hook', payload);
  }

  /**
   * Queues one delivery; the event's UUID and idempotency key are fixed here, once per event and hook. An event
   * caused by an API request that carried `X-Gitlab-Event-UUID` continues that chain, unless recursion detection
   * blocks the hook.
   */
  private enqueue(hook: ProjectHook, eventName: HookEventName, payload: Record<string, unknown>): void {
    const chained = requestEventUuid.getStore();
    const eventUuid = chained ?? randomUUID();
    let fired = this.chains.get(eventUuid);
    if (fired && (fired.has(hook.id) || fired.size >= RECURSION_CHAIN_LIMIT)) {
      this.blockedRecursions++;
      return;
    }
    if (!fired) {
      this.chains.set(eventUuid, (fired = new Set()));
      if (this.chains.size > REMEMBERED_CHAINS) this.chains.delete(this.chains.keys().next().value!);
    }
    fired.add(hook.id);
    this.track(
      this.execute(hook, eventName, TRIGGER_OF[eventName], payload, { idempotencyKey: randomUUID(), eventUuid }),
    );
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  // ---- test, log, resend ------------------------------------------------------------------------------------

  /**
   * `POST …/test/:trigger`: sends sample data of the trigger now and returns the logged attempt. Throws a 422
   * `GitLabError` when the project has nothing to sample (`Ensure the project has merge requests.`).
   */
  async test(hook: ProjectHook, trigger: TestTrigger): Promise<HookLogEntry> {
    const project = this.model.project(hook.projectId);
    const ids = { idempotencyKey: randomUUID(), eventUuid: randomUUID() };
    if (trigger === 'push_events') {
      const head = project.repo.branchHead(project.defaultBranch);
      if (head === undefined) throw new GitLabError('unprocessable', 'Ensure the project has at least one commit.');
      const commits = project.repo.log(head).slice(0, 3).reverse();
      const first = commits[0];
      const before = first?.parentIds[0] ?? ZERO;
      const payload = pushPayload(this.instanceUrl, project, {
        branch: project.defaultBranch,
        before,
        after: head,
        commits,
        user: this.model.userById(1),
      });
      return this.track(this.execute(hook, 'Push Hook', 'push_hooks', payload, ids));
    }
    if (trigger === 'merge_requests_events') {
      const mr = this.model.mergeRequests.all(project).at(-1);
      if (!mr) throw new GitLabError('unprocessable', 'Ensure the project has merge requests.');
      const payload = mergeRequestPayload(this.instanceUrl, this.model, project, mr, 'open', {
        user: this.model.userById(mr.authorId),
      });
      return this.track(this.execute(hook, 'Merge Request Hook', 'merge_request_hooks', payload, ids));
    }
    const missing: Partial<Record<TestTrigger, string>> = {
      pipeline_events: 'Ensure the project has CI pipelines.',
      job_events: 'Ensure the project has CI jobs.',
      tag_push_events: 'Ensure the project has tags.',
      note_events: 'Ensure the project has notes.',
      issues_events: 'Ensure the project has issues.',
      confidential_issues_events: 'Ensure the project has issues.',
      wiki_page_events: 'Ensure the wiki is enabled and has pages.',
      deployment_events: 'Ensure the project has deployments.',
      releases_events: 'Ensure the project has releases.',
    };
    throw new GitLabError('unprocessable', missing[trigger] ?? 'Testing not available for this hook');
  }

  /** Re-sends a logged delivery with its body and `Idempotency-Key` (a new webhook UUID); logs the new attempt. */
  resend(hook: ProjectHook, entry: HookLogEntry): Promise<HookLogEntry> {
    return this.track(
      this.execute(hook, entry.eventName, entry.trigger, entry.requestData, {
        idempotencyKey: entry.idempotencyKey,
        eventUuid: entry.eventUuid,
      }),
    );
  }

  /** Resolves when every delivery started so far has ended (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Aborts deliveries in flight; later events are still logged as failures, never sent. */
  stop(): void {
    this.stopping.abort();
  }

  // ---- delivery ---------------------------------------------------------------------------------------------

  private async execute(
    hook: ProjectHook,
    eventName: string,
    trigger: string,
    payload: unknown,
    ids: { idempotencyKey: string; eventUuid: string },
  ): Promise<HookLogEntry> {
    const body =
      hook.customWebhookTemplate !== '' ? renderTemplate(hook.customWebhookTemplate, payload) : JSON.stringify(payload);
    const target = new URL(interpolate(hook.url, hook.urlVariables));
    const headers: Record<string, string> = {};
    for (const h of hook.customHeaders) headers[h.key] = h.value;
    Object.assign(headers, {
      'Content-Type': 'application/json',
      'User-Agent': `GitLab/${SIMULATED_GITLAB_VERSION}`,
      'Idempotency-Key': ids.idempotencyKey,
      'X-Gitlab-Event': eventName,
      'X-Gitlab-Webhook-UUID': randomUUID(),
      'X-Gitlab-Instance': this.instanceUrl,
      'X-Gitlab-Event-UUID': ids.eventUuid,
    });
    if (hook.token !== undefined) headers['X-Gitlab-Token'] = hook.token.replace(/[\r\n]/g, '');
    const sendHeaders = { ...headers };
    if (target.username !== '' || target.password !== '') {
      const user = decodeURIComponent(target.username);
      const password = decodeURIComponent(target.password);
      sendHeaders.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      target.username = '';
      target.password = '';
    }
    this.onDelivery?.(eventName);
    const started = Date.now();
    let responseStatus: string;
    let responseBody: string;
    const responseHeaders: Record<string, string> = {};
    try {
      if (this.stopping.signal.aborted) throw new Error('GitLab is shutting down');
      const res = await fetch(target, {
        method: 'POST',
        headers: sendHeaders,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.stopping.signal]),
      });
      responseStatus = String(res.status);
      res.headers.forEach((value, key) => {
        responseHeaders[titleCase(key)] = value;
      });
      responseBody = (await res.text()).slice(0, RESPONSE_BODY_LIMIT);
    } catch (err) {
      responseStatus = 'internal error';
      const e = err as Error & { cause?: { code?: string; message?: string } };
      responseBody = e.name === 'TimeoutError' ? 'execution expired' : (e.cause?.message ?? e.message);
    }
    const entry: HookLogEntry = {
      id: this.nextLogId++,
      url: redactUserinfo(hook.url),
      trigger,
      eventName,
      requestHeaders: { ...headers, ...(hook.token !== undefined ? { 'X-Gitlab-Token': '[REDACTED]' } : {}) },
      requestData: payload,
      responseHeaders,
      responseBody,
      responseStatus,
      executionDuration: (Date.now() - started) / 1000,
      createdAt: this.model.clock.now(),
      ...ids,
    };
    hook.log.push(entry);
    if (hook.log.length > LOG_LIMIT) hook.log.shift();
    return entry;
  }
}

/** Whether a status of the log counts as delivered: 2xx and 3xx. */
export function isSuccessStatus(status: string): boolean {
  return /^[23][0-9][0-9]$/.test(status);
}

function validUrl(raw: string): boolean {
  try {
    const url = new URL(raw.replace(/\{[^}]*\}/g, 'x'));
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function interpolate(url: string, variables: readonly KeyValue[]): string {
  let out = url;
  for (const v of variables) out = out.split(`{${v.key}}`).join(encodeURIComponent(v.value));
  return out;
}

function redactUserinfo(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== '') url.password = '*****';
    return url.toString();
  } catch {
    return raw;
  }
}

function titleCase(header: string): string {
  return header.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/** `push_events_branch_filter` with its strategy; an empty filter selects every branch. */
function branchSelected(hook: ProjectHook, branch: string): boolean {
  const filter = hook.pushEventsBranchFilter;
  if (hook.branchFilterStrategy === 'all_branches' || filter === '') return true;
  if (hook.branchFilterStrategy === 'regex') return new RegExp(filter).test(branch);
  const glob = filter
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${glob}$`).test(branch);
}

/** A custom webhook template: `{{path.to.field}}` becomes the field's value, JSON-escaped without quotes for strings. */
function renderTemplate(template: string, payload: unknown): string {
  return template.replace(/\{\{([^}]+)\}\}/g, (_, path: string) => {
    let value: unknown = payload;
    for (const key of path.trim().split('.')) {
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    }
    if (typeof value === 'string') return JSON.stringify(value).slice(1, -1);
    return value === undefined ? '' : JSON.stringify(value);
  });
}
