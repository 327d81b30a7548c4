/**
 * Shepherd's Jenkins client: the npm `jenkins` 1.1.0 library where it works, raw requests where it is broken
 * (api-contracts.md §3–4), answers parsed with zod and failures turned into Shepherd's typed errors.
 *
 * - Credentials travel as an `Authorization` header, never inside the base URL (the library copies the base URL into
 *   a `Referer` header on every request).
 * - Jobs are given as path segments (`['example-app', 'main']` → `/job/example-app/job/main`).
 * - `buildWithParameters` is a raw POST: Jenkins answers 303 when it folds the trigger into an identical queued item,
 *   which the library treats as an error; here it is the existing item, reported as `coalesced`.
 * - API-token auth needs no CSRF crumb; password auth fetches a crumb with its session cookie before every POST.
 * - No retries here: retrying with backoff is Temporal's job.
 */
import Jenkins from 'jenkins';
import { z } from 'zod';
import { BuildCancelledError, ShepherdError } from '../../domain/errors.js';
import type { CompanyCa } from '../../config/company-ca.js';
import type { Secret } from '../../config/secret.js';
import { certificateError, certificateFailureOf, fetchDispatcher } from '../trust.js';
import {
  DEFAULT_VARIABLE_NAMES,
  detailOf,
  errorForAnswer,
  errorForTransport,
  unexpectedAnswer,
  type JenkinsVariableNames,
  type RequestTarget,
} from './errors.js';
import {
  BUILD_TREE,
  BuildSchema,
  buildsTree,
  CrumbSchema,
  JobBuildsSchema,
  QueueItemSchema,
  toBuild,
  toQueueItem,
  type JenkinsBuild,
  type JenkinsQueueItem,
} from './schemas.js';

export interface JenkinsClientOptions {
  /** The Jenkins root, e.g. `https://jenkins.example.com` or `https://host/jenkins`; a trailing slash is dropped. */
  readonly url: string;
  readonly user: string;
  /** The user's API token (preferred), or the password when `auth` is `password`. */
  readonly token: Secret;
  /** `api-token` (default): no CSRF crumb needed. `password`: crumb + session cookie before every POST. */
  readonly auth?: 'api-token' | 'password';
  /** Per-request timeout in milliseconds; default 30 s. */
  readonly timeoutMs?: number;
  /** The configuration variables error messages point at. */
  readonly variables?: Partial<JenkinsVariableNames>;
  /** A company CA (SHEPHERD_CA_FILE) to trust besides the default roots. */
  readonly companyCa?: CompanyCa | undefined;
}

/** Per-call options: an AbortSignal (e.g. the activity's cancellation signal) ends the call at once with its reason. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** A job, as path segments. */
export type JobPath = readonly string[];

/** What `triggerBuild` got back. */
export interface QueuedBuild {
  readonly queueItemId: number;
  /** True when Jenkins folded the trigger into an identical item already queued (303), instead of queuing a new one. */
  readonly coalesced: boolean;
}

/** The object-form calls of the npm client that Shepherd uses (`@types/jenkins` describes the positional forms wrongly). */
interface NpmJenkins {
  job: { get(o: { name: string; tree?: string }): Promise<unknown> };
  build: {
    get(o: { name: string; number: number; tree?: string }): Promise<unknown>;
    log(o: {
      name: string;
      number: number;
      start: number;
      meta: true;
    }): Promise<{ text?: unknown; more: boolean; size?: string }>;
  };
  queue: {
    item(o: { number: number }): Promise<unknown>;
    list(): Promise<unknown>;
  };
}

interface RawRequest {
  readonly target?: RequestTarget;
  readonly signal?: AbortSignal | undefined;
  readonly form?: URLSearchParams;
  /** Error statuses returned to the caller instead of thrown. */
  readonly allow?: readonly number[];
}

interface Crumb {
  readonly field: string;
  readonly value: string;
  readonly cookie: string | undefined;
}

/** Vendor error fields we look at (papi `ResponseError`, `TimeoutError`, Node system errors, the library's 404s). */
interface VendorError {
  readonly notFound?: boolean;
  readonly statusCode?: number;
  readonly isTimeout?: boolean;
  readonly isCodec?: boolean;
  readonly code?: string;
  readonly res?: {
    readonly statusCode?: number;
    readonly headers?: Record<string, string | string[] | undefined>;
    readonly body?: unknown;
  };
}

/** `/whoAmI/api/json`: the authenticated user's name; `anonymous` is absent on old Jenkins versions. */
const WhoAmISchema = z.looseObject({ name: z.string(), anonymous: z.boolean().optional() });

/** A job's parameter definitions; properties without them (branch, notification) have no `parameterDefinitions`. */
const JobParametersSchema = z.looseObject({
  property: z
    .array(z.looseObject({ parameterDefinitions: z.array(z.looseObject({ name: z.string() })).optional() }))
    .optional(),
});

const DEFAULT_TIMEOUT_MS = 30_000;
const BUILDS_LISTED = 100;

export class JenkinsClient {
  readonly #baseUrl: string;
  readonly #authorization: string;
  readonly #auth: 'api-token' | 'password';
  readonly #timeoutMs: number;
  readonly #vars: JenkinsVariableNames;
  readonly #npm: NpmJenkins;
  readonly #dispatcher: ReturnType<typeof fetchDispatcher>;

  constructor(opts: JenkinsClientOptions) {
    this.#dispatcher = fetchDispatcher(opts.companyCa);
    this.#baseUrl = opts.url.replace(/\/+$/, '');
    this.#authorization = `Basic ${Buffer.from(`${opts.user}:${opts.token.reveal()}`, 'utf8').toString('base64')}`;
    this.#auth = opts.auth ?? 'api-token';
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#vars = { ...DEFAULT_VARIABLE_NAMES, ...opts.variables };
    const crumbIssuer =
      this.#auth === 'password'
        ? async () => {
            const crumb = await this.#crumb('POST (crumb)', undefined);
            return crumb
              ? {
                  headerName: crumb.field,
                  headerValue: crumb.value,
                  ...(crumb.cookie ? { cookies: [crumb.cookie] } : {}),
                }
              : { headerName: '', headerValue: '' };
          }
        : false;
    this.#npm = new Jenkins({
      baseUrl: this.#baseUrl,
      crumbIssuer,
      headers: { authorization: this.#authorization },
      timeout: this.#timeoutMs,
      // papi hands `ca` to https.request, where it replaces the default roots: hence roots + company CA.
      ...(opts.companyCa ? { ca: [...opts.companyCa.trusted] } : {}),
    } as ConstructorParameters<typeof Jenkins>[0]) as unknown as NpmJenkins;
  }

  /** `{job}/{number}/api/json`. NotFoundError names the job when the job is missing, the build otherwise. */
  async getBuild(job: JobPath, number: number, opts: CallOptions = {}): Promise<JenkinsBuild> {
    const name = job.join('/');
    const op = `GET ${name} #${number}`;
    let raw: unknown;
    try {
      raw = await abortable(this.#npm.build.get({ name, number, tree: BUILD_TREE }), opts.signal);
    } catch (err) {
      if (isNotFound(err)) {
        await this.#requireJob(job, opts);
        throw this.#fromVendor(err, op, { kind: 'build', name: `${name} #${number}` }, opts.signal);
      }
      throw this.#fromVendor(err, op, undefined, opts.signal);
    }
    return toBuild(this.#parse(BuildSchema, raw, op));
  }

  /**
   * The job and number of a build URL of this Jenkins (`<root>/job/a/job/b/N/`, also with a trailing
   * `display/redirect` or `console`), as a commit status's `target_url` names it; undefined for a URL outside this
   * Jenkins or not naming a build. Job names are decoded once (`feature%252Fx` → `feature%2Fx`, the item name).
   * The host is not compared: Jenkins may post its internal URL while Shepherd uses an external one.
   */
  buildAt(url: string): { readonly job: JobPath; readonly number: number } | undefined {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      return undefined;
    }
    const rootPath = new URL(this.#baseUrl).pathname.replace(/\/+$/, '');
    if (!path.startsWith(`${rootPath}/`)) return undefined;
    const segments = path.slice(rootPath.length + 1).split('/');
    const job: string[] = [];
    let i = 0;
    while (segments[i] === 'job' && segments[i + 1]) {
      try {
        job.push(decodeURIComponent(segments[i + 1]!));
      } catch {
        return undefined;
      }
      i += 2;
    }
    const number = segments[i];
    if (job.length === 0 || number === undefined || !/^[1-9][0-9]*$/.test(number)) return undefined;
    return { job, number: Number(number) };
  }

  /** The newest builds of a job (at most 100), newest first, each with its parameters and built revision. */
  async listBuilds(job: JobPath, opts: CallOptions & { readonly limit?: number } = {}): Promise<JenkinsBuild[]> {
    const name = job.join('/');
    const op = `GET ${name} builds`;
    let raw: unknown;
    try {
      raw = await abortable(
        this.#npm.job.get({ name, tree: buildsTree(Math.min(opts.limit ?? BUILDS_LISTED, BUILDS_LISTED)) }),
        opts.signal,
      );
    } catch (err) {
      throw this.#fromVendor(err, op, { kind: 'job', name }, opts.signal);
    }
    return (this.#parse(JobBuildsSchema, raw, op).builds ?? []).map(toBuild);
  }

  /** `/queue/item/N/api/json`, or undefined once Jenkins has forgotten the item (about five minutes after it left). */
  async getQueueItem(id: number, opts: CallOptions = {}): Promise<JenkinsQueueItem | undefined> {
    const op = `GET queue item ${id}`;
    let raw: unknown;
    try {
      raw = await abortable(this.#npm.queue.item({ number: id }), opts.signal);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.#fromVendor(err, op, undefined, opts.signal);
    }
    return toQueueItem(this.#parse(QueueItemSchema, raw, op));
  }

  /** The items of `job` still in the queue, oldest first. */
  async listQueue(job: JobPath, opts: CallOptions = {}): Promise<JenkinsQueueItem[]> {
    const op = 'GET queue';
    let raw: unknown;
    try {
      raw = await abortable(this.#npm.queue.list(), opts.signal);
    } catch (err) {
      throw this.#fromVendor(err, op, undefined, opts.signal);
    }
    const jobPath = jobPathname(job);
    return this.#parse(z.array(QueueItemSchema), raw, op)
      .map(toQueueItem)
      .filter((item) => item.taskUrl !== undefined && pathnameOf(item.taskUrl).endsWith(jobPath))
      .sort((a, b) => a.id - b.id);
  }

  /**
   * Queues a build with parameters (`POST {job}/buildWithParameters`). Returns the queue item from `Location`, also when
   * Jenkins folded the trigger into an identical queued item (303, `coalesced`). Throws BuildCancelledError when
   * Jenkins refused to queue it (302 without a queue item), NotFoundError for an unknown job, ValidationError when the
   * job rejects the parameters.
   */
  async triggerBuild(
    job: JobPath,
    parameters: Readonly<Record<string, string>>,
    opts: CallOptions = {},
  ): Promise<QueuedBuild> {
    const name = job.join('/');
    const op = `POST ${name}/buildWithParameters`;
    const res = await this.#raw('POST', `${jobPathname(job)}buildWithParameters`, op, {
      target: { kind: 'job', name },
      signal: opts.signal,
      form: new URLSearchParams(parameters),
    });
    const location = res.headers.get('location') ?? '';
    const id = /\/queue\/item\/(\d+)\/?$/.exec(location)?.[1];
    if ((res.status === 201 || res.status === 303) && id !== undefined)
      return { queueItemId: Number(id), coalesced: res.status === 303 };
    if (res.status === 302)
      throw new BuildCancelledError({
        job: name,
        why: 'Jenkins refused to queue the build (302 without a queue item)',
      });
    throw unexpectedAnswer(op, `HTTP ${res.status} without a queue item location`, this.#vars);
  }

  /**
   * Cancels an item still in the queue (`POST /queue/cancelItem?id=N`). True when Jenkins cancelled it (204, or 302
   * on versions that redirect back); false when Jenkins no longer has it in the queue (404: it left or never existed).
   */
  async cancelQueueItem(id: number, opts: CallOptions = {}): Promise<boolean> {
    const op = `POST queue cancelItem ${id}`;
    const res = await this.#raw('POST', `/queue/cancelItem?id=${id}`, op, { signal: opts.signal, allow: [404] });
    return res.status !== 404;
  }

  /**
   * Asks a running build to stop (`POST {job}/{number}/stop`); the build then ends ABORTED once its steps notice.
   * Stopping a finished build does nothing. NotFoundError (build) when the build does not exist.
   */
  async stopBuild(job: JobPath, number: number, opts: CallOptions = {}): Promise<void> {
    const name = job.join('/');
    await this.#raw('POST', `${jobPathname(job)}${number}/stop`, `POST ${name} #${number} stop`, {
      target: { kind: 'build', name: `${name} #${number}` },
      signal: opts.signal,
    });
  }

  /** The last `lines` lines of a build's console log. */
  async consoleTail(job: JobPath, number: number, lines: number, opts: CallOptions = {}): Promise<string> {
    const name = job.join('/');
    const op = `GET ${name} #${number} console`;
    let log: { text?: unknown };
    try {
      log = await abortable(this.#npm.build.log({ name, number, start: 0, meta: true }), opts.signal);
    } catch (err) {
      throw this.#fromVendor(err, op, { kind: 'build', name: `${name} #${number}` }, opts.signal);
    }
    const text = Buffer.isBuffer(log.text) ? log.text.toString('utf8') : typeof log.text === 'string' ? log.text : '';
    const all = text.replace(/\n$/, '').split('\n');
    return all.slice(Math.max(0, all.length - lines)).join('\n');
  }

  /**
   * Who the configured credentials authenticate as (`GET /whoAmI/api/json`). Jenkins answers 401 to a wrong user or
   * API token (AuthenticationError naming the variables); an anonymous answer means the credentials were ignored.
   */
  async whoAmI(opts: CallOptions = {}): Promise<{ readonly name: string; readonly anonymous: boolean }> {
    const op = 'GET whoAmI';
    const res = await this.#raw('GET', '/whoAmI/api/json', op, { signal: opts.signal });
    const me = this.#parse(WhoAmISchema, await readJson(res, op, this.#vars), op);
    return { name: me.name, anonymous: me.anonymous ?? me.name === 'anonymous' };
  }

  /**
   * The names of the build parameters a job declares (`property[parameterDefinitions[name]]`), in their order; empty
   * for a job without parameters. NotFoundError (job) when the job does not exist.
   */
  async jobParameterNames(job: JobPath, opts: CallOptions = {}): Promise<string[]> {
    const name = job.join('/');
    const op = `GET ${name} parameters`;
    const res = await this.#raw(
      'GET',
      `${jobPathname(job)}api/json?tree=${encodeURIComponent('property[parameterDefinitions[name]]')}`,
      op,
      { target: { kind: 'job', name }, signal: opts.signal },
    );
    const parsed = this.#parse(JobParametersSchema, await readJson(res, op, this.#vars), op);
    return (parsed.property ?? []).flatMap((p) => (p.parameterDefinitions ?? []).map((d) => d.name));
  }

  async #requireJob(job: JobPath, opts: CallOptions): Promise<void> {
    const name = job.join('/');
    try {
      await abortable(this.#npm.job.get({ name, tree: 'name' }), opts.signal);
    } catch (err) {
      throw this.#fromVendor(err, `GET ${name}`, { kind: 'job', name }, opts.signal);
    }
  }

  /** A crumb and its session cookie, or undefined when Jenkins has no crumb issuer (404). */
  async #crumb(op: string, signal: AbortSignal | undefined): Promise<Crumb | undefined> {
    const res = await this.#raw('GET', '/crumbIssuer/api/json', op, { signal, allow: [404] });
    if (res.status === 404) return undefined;
    const crumb = this.#parse(CrumbSchema, await readJson(res, op, this.#vars), op);
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]?.trim())
      .filter((c): c is string => !!c)
      .join('; ');
    return { field: crumb.crumbRequestField, value: crumb.crumb, cookie: cookie || undefined };
  }

  /** A request outside the npm client. Redirects are not followed: 302/303 are answers here. */
  async #raw(method: 'GET' | 'POST', path: string, op: string, req: RawRequest): Promise<Response> {
    const { target, signal, form } = req;
    signal?.throwIfAborted();
    const headers: Record<string, string> = { authorization: this.#authorization, accept: 'application/json' };
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
    if (method === 'POST' && this.#auth === 'password') {
      const crumb = await this.#crumb(op, signal);
      if (crumb) {
        headers[crumb.field] = crumb.value;
        if (crumb.cookie) headers.cookie = crumb.cookie;
      }
    }
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${this.#baseUrl}${path}`, {
        method,
        headers,
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        ...(form ? { body: form.toString() } : {}),
        ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      } as RequestInit);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) throw errorForTransport(op, { timedOutAfterMs: this.#timeoutMs });
      const certificate = certificateFailureOf(err);
      if (certificate) throw certificateError('jenkins', certificate, op, this.#vars.url);
      throw errorForTransport(op, { code: codeOf(err) });
    }
    if (res.status >= 400 && !req.allow?.includes(res.status)) {
      const contentType = res.headers.get('content-type') ?? undefined;
      const detail = res.headers.get('x-error') ?? detailOf(await res.text().catch(() => ''), contentType);
      throw errorForAnswer(
        { status: res.status, header: (n) => res.headers.get(n) ?? undefined, ...(detail ? { detail } : {}) },
        op,
        target,
        this.#vars,
      );
    }
    return res;
  }

  #parse<S extends z.ZodType>(schema: S, raw: unknown, op: string): z.output<S> {
    if (typeof raw !== 'object' || raw === null || Buffer.isBuffer(raw)) {
      const text = Buffer.isBuffer(raw)
        ? raw.toString('utf8', 0, 200)
        : typeof raw === 'string'
          ? raw.slice(0, 200)
          : '';
      throw unexpectedAnswer(
        op,
        /<html|<!doctype/i.test(text) ? 'an HTML page' : 'a body that is not JSON',
        this.#vars,
      );
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw unexpectedAnswer(
        op,
        `JSON without the expected ${issue ? `${issue.path.join('.') || 'shape'} (${issue.message})` : 'shape'}`,
        this.#vars,
      );
    }
    return parsed.data;
  }

  #fromVendor(err: unknown, op: string, target: RequestTarget, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason;
    if (err instanceof ShepherdError) return err;
    const e = (typeof err === 'object' && err !== null ? err : {}) as VendorError;
    const status = e.notFound ? 404 : (e.statusCode ?? e.res?.statusCode);
    if (status !== undefined) {
      const headers = e.res?.headers ?? {};
      const header = (n: string): string | undefined => {
        const v = headers[n.toLowerCase()];
        return Array.isArray(v) ? v.join(', ') : v;
      };
      const detail = header('x-error') ?? detailOf(e.res?.body, header('content-type'));
      return errorForAnswer({ status, header, ...(detail ? { detail } : {}) }, op, target, this.#vars);
    }
    if (e.isTimeout) return errorForTransport(op, { timedOutAfterMs: this.#timeoutMs });
    if (e.isCodec) return unexpectedAnswer(op, 'a body that is not valid JSON', this.#vars);
    const certificate = certificateFailureOf(err);
    if (certificate) return certificateError('jenkins', certificate, op, this.#vars.url);
    if (typeof e.code === 'string') return errorForTransport(op, { code: e.code });
    return err;
  }
}

function isNotFound(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as VendorError;
  return e.notFound === true || e.statusCode === 404;
}

/** `/job/a/job/b/`, each name encoded as the npm client and Jenkins do. */
function jobPathname(job: JobPath): string {
  return `/${job.map((s) => `job/${encodeURIComponent(s)}/`).join('')}`;
}

function pathnameOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

async function readJson(res: Response, op: string, vars: JenkinsVariableNames): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw unexpectedAnswer(
      op,
      /<html|<!doctype/i.test(text.slice(0, 200)) ? 'an HTML page' : 'a body that is not JSON',
      vars,
    );
  }
}

function codeOf(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}
