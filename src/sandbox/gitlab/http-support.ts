/**
 * HTTP plumbing shared by the GitLab routes: error rendering in GitLab's exact shapes, Grape-style parameter
 * reading, and offset pagination with the `x-*` and `link` headers gitbeaker's `.all()` follows.
 */
import { json, type Handler, type SandboxRequest, type SandboxResponse } from '../core/http.js';
import { GitLabError } from './errors.js';
import type { GitLabModel } from './model.js';
import type { User } from './types.js';

/** What every route module receives. */
export interface RouteContext {
  readonly model: GitLabModel;
  /** The user the request authenticated as (the server refuses unauthenticated API requests before routing). */
  userOf(req: SandboxRequest): User;
}

/** Renders a model refusal as real GitLab does. */
export function errorResponse(err: GitLabError): SandboxResponse {
  switch (err.kind) {
    case 'invalid-params':
      return json(400, { error: err.detail });
    case 'bad-request':
      return json(
        400,
        err.errorCode !== undefined ? { message: err.detail, error_code: err.errorCode } : { message: err.detail },
      );
    case 'unauthorized':
      return json(401, { message: '401 Unauthorized' });
    case 'forbidden':
      return json(403, { message: err.detail === '' ? '403 Forbidden' : `403 Forbidden - ${String(err.detail)}` });
    case 'not-found':
      return json(404, { message: `404 ${String(err.detail)} Not Found` });
    case 'record-not-found':
      return json(404, { message: '404 Not found' });
    case 'not-allowed':
      return json(405, { message: err.detail });
    case 'conflict':
      return json(409, { message: err.detail });
    case 'unprocessable':
      return json(422, { message: err.detail });
  }
}

/** Wraps a handler so that `GitLabError`s become GitLab-shaped responses. */
export function api(handler: Handler): Handler {
  return async (req) => {
    try {
      return await handler(req);
    } catch (err) {
      if (err instanceof GitLabError) return errorResponse(err);
      throw err;
    }
  };
}

/** Reads parameters from the query and the JSON or form body, with Grape's messages for missing or bad values. */
export class Params {
  private readonly values: Record<string, unknown>;
  private readonly problems: string[] = [];

  constructor(req: SandboxRequest) {
    this.values = req.input();
  }

  raw(key: string): unknown {
    return this.values[key];
  }

  has(key: string): boolean {
    return this.values[key] !== undefined && this.values[key] !== null;
  }

  /** A required string; records "x is missing" / "x is empty" and returns '' when absent. */
  required(key: string): string {
    const v = this.values[key];
    if (v === undefined || v === null) {
      this.problems.push(`${key} is missing`);
      return '';
    }
    const s = typeof v === 'string' ? v : String(v);
    if (s.length === 0) this.problems.push(`${key} is empty`);
    return s;
  }

  string(key: string): string | undefined {
    const v = this.values[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' ? v : String(v);
  }

  bool(key: string): boolean | undefined {
    const v = this.values[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (v === true || v === 'true' || v === '1' || v === 1 || v === 't' || v === 'yes') return true;
    if (v === false || v === 'false' || v === '0' || v === 0 || v === 'f' || v === 'no') return false;
    this.problems.push(`${key} is invalid`);
    return undefined;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${key} does not have a valid value`);
      return undefined;
    }
    return v as T;
  }

  /** An ISO-8601 timestamp as epoch milliseconds. */
  time(key: string): number | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) {
      this.problems.push(`${key} is invalid`);
      return undefined;
    }
    return ms;
  }

  /** Labels given as "a,b" or as an array. */
  list(key: string): string[] | undefined {
    const v = this.values[key];
    if (v === undefined || v === null) return undefined;
    const items = Array.isArray(v) ? v.map(String) : String(v).split(',');
    return items.map((s) => s.trim()).filter((s) => s.length > 0);
  }

  /** Records a problem found by the caller. */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws the collected problems as one Grape 400 (`{"error":"a is missing, b is missing"}`). */
  check(): void {
    if (this.problems.length > 0) throw GitLabError.invalidParams(...this.problems);
  }
}

/** Parses a numeric route parameter (an MR iid); Grape answers 400 "<name> is invalid" otherwise. */
export function intParam(value: string | undefined, name: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw GitLabError.invalidParams(`${name} is invalid`);
  return Number(value);
}

const DEFAULT_PER_PAGE = 20;
const MAX_PER_PAGE = 100;

function positiveInt(raw: string | null, fallback: number): number {
  if (raw === null || !/^\d+$/.test(raw)) return fallback;
  const n = Number(raw);
  return n >= 1 ? n : fallback;
}

/** One page of `items` as a 200 JSON response with GitLab's offset pagination headers. */
export function paginated<T>(req: SandboxRequest, items: readonly T[], render: (item: T) => unknown): SandboxResponse {
  const perPage = Math.min(MAX_PER_PAGE, positiveInt(req.query.get('per_page'), DEFAULT_PER_PAGE));
  const page = positiveInt(req.query.get('page'), 1);
  const total = items.length;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const pageUrl = (n: number): string => {
    const q = new URLSearchParams(req.query);
    q.set('page', String(n));
    q.set('per_page', String(perPage));
    return `${req.baseUrl}${req.rawPath}?${q.toString()}`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${pageUrl(Math.min(page - 1, totalPages))}>; rel="prev"`);
  if (page < totalPages) links.push(`<${pageUrl(page + 1)}>; rel="next"`);
  links.push(`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(totalPages)}>; rel="last"`);
  return json(200, slice.map(render), {
    'x-page': String(page),
    'x-per-page': String(perPage),
    'x-total': String(total),
    'x-total-pages': String(totalPages),
    'x-next-page': page < totalPages ? String(page + 1) : '',
    'x-prev-page': page > 1 ? String(Math.min(page - 1, totalPages)) : '',
    link: links.join(', '),
  });
}

/** `T` with its possibly-undefined properties made optional and never undefined. */
export type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/**
 * `obj` without its undefined properties: the routes hand the model a parameter the request did not send as an
 * absent key, never as a key holding undefined.
 */
export function defined<T extends object>(obj: T): Defined<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Defined<T>;
}
