/**
 * Everything under `/job/<a>/job/<b>/…`: job and folder JSON, triggering builds, build JSON, console logs and
 * stopping builds. Jenkins resolves such URLs object by object (Stapler), so this walks the segments the same way.
 */
import type { SandboxRequest, SandboxResponse } from '../core/http.js';
import { buildJson, buildUrl, folderJson, isPermalink, jobJson, PERMALINKS } from './api-json.js';
import type { Build } from './build.js';
import type { JenkinsModel, JobNode } from './model.js';
import { IllegalParameterError } from './parameters.js';
import { bare, errorPage, page, plainText } from './responses.js';
import type { Principal } from './security.js';
import type { BuildCause } from './types.js';

/** Renders a JSON body after applying `?tree=`; supplied by the server. */
export type JsonRenderer = (req: SandboxRequest, body: Record<string, unknown>) => SandboxResponse;

export interface JobRouteContext {
  readonly model: JenkinsModel;
  readonly principal: (req: SandboxRequest) => Principal | undefined;
  readonly renderJson: JsonRenderer;
}

/** Handles `GET|POST /job/*`; `req.rest` holds the decoded segments after the first `job`. */
export function handleJobPath(ctx: JobRouteContext, req: SandboxRequest): SandboxResponse {
  const { model } = ctx;
  const notFound = (): SandboxResponse => errorPage(404, req.rawPath);
  const rest = req.rest;
  const first = rest[0];
  if (first === undefined) return notFound();
  const path = [first];
  let i = 1;
  while (rest[i] === 'job' && rest[i + 1] !== undefined && model.node(path)?.kind === 'folder') {
    path.push(rest[i + 1]!);
    i += 2;
  }
  const node = model.node(path);
  if (!node) return notFound();
  const action = rest.slice(i);
  if (action.length === 0) return req.method === 'GET' || req.method === 'HEAD' ? page(path.join(' » ')) : notFound();
  if (action.length === 2 && action[0] === 'api' && action[1] === 'json') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return notFound();
    const root = req.baseUrl;
    const deep = req.query.has('tree') || Number(req.query.get('depth') ?? 0) >= 1;
    return ctx.renderJson(req, node.kind === 'job' ? jobJson(model, root, node, deep) : folderJson(model, root, node));
  }
  if (node.kind !== 'job') return notFound();
  const [verb, ...more] = action;
  if (verb === 'build' && more.length === 0) return triggerBuild(ctx, req, node, false);
  if (verb === 'buildWithParameters' && more.length === 0) return triggerBuild(ctx, req, node, true);
  const build = verb === undefined ? undefined : findBuild(node, verb);
  if (!build) return notFound();
  return handleBuildPath(ctx, req, build, more);
}

function findBuild(job: JobNode, ref: string): Build | undefined {
  if (isPermalink(ref)) return job.builds.find(PERMALINKS[ref]);
  if (!/^[0-9]+$/.test(ref)) return undefined;
  const n = Number(ref);
  return job.builds.find((b) => b.number === n);
}

function handleBuildPath(
  ctx: JobRouteContext,
  req: SandboxRequest,
  build: Build,
  action: readonly string[],
): SandboxResponse {
  const isGet = req.method === 'GET' || req.method === 'HEAD';
  const what = action.join('/');
  if (what === '' && isGet) return page(`${build.jobPath.join(' » ')} ${build.displayName}`);
  if (what === 'api/json' && isGet) return ctx.renderJson(req, buildJson(ctx.model, req.baseUrl, build));
  if (what === 'consoleText' && isGet) return plainText(200, build.logText);
  if (what === 'logText/progressiveText') return progressiveText(req, build);
  if (what === 'stop' && req.method === 'POST') {
    ctx.model.stopBuild(build.jobPath, build.number, ctx.principal(req)?.userId);
    const referer = req.headers.referer;
    return bare(302, {
      location: typeof referer === 'string' && referer.length > 0 ? referer : buildUrl(req.baseUrl, build),
    });
  }
  return errorPage(404, req.rawPath);
}

/** Jenkins' `LargeText.doProgressText`: bytes from `start`, `X-Text-Size` for the next call, `X-More-Data` while running. */
function progressiveText(req: SandboxRequest, build: Build): SandboxResponse {
  const raw = req.query.get('start') ?? (req.method === 'POST' ? req.form().get('start') : null) ?? '0';
  const size = build.logSize;
  let start = Number(raw);
  if (!Number.isInteger(start) || start < 0 || start > size) start = 0;
  const headers: Record<string, string> = { 'x-text-size': String(size) };
  if (build.building) headers['x-more-data'] = 'true';
  return plainText(200, build.logFrom(start), headers);
}

/** Query fields first, then form fields, as Stapler's `getParameter` sees them. */
function submittedFields(req: SandboxRequest): Map<string, string> {
  const fields = new Map<string, string>(req.query.entries());
  const type = String(req.headers['content-type'] ?? '');
  if (req.method === 'POST' && type.includes('x-www-form-urlencoded')) {
    for (const [k, v] of req.form().entries()) if (!fields.has(k)) fields.set(k, v);
  }
  return fields;
}

/** `delay=5sec` (or plain seconds) as a scaled quiet period; undefined takes the job's default. */
function quietPeriod(model: JenkinsModel, fields: ReadonlyMap<string, string>): number | undefined {
  const raw = fields.get('delay');
  if (raw === undefined) return undefined;
  const m = /^\s*(\d+)\s*(sec|secs|s)?\s*$/i.exec(raw);
  if (!m?.[1]) return undefined;
  const seconds = Number(m[1]);
  return seconds === 0 ? 0 : model.clock.scale(seconds * 1000);
}

function triggerBuild(
  ctx: JobRouteContext,
  req: SandboxRequest,
  job: JobNode,
  withParameters: boolean,
): SandboxResponse {
  if (req.method !== 'POST') return errorPage(405, req.rawPath, 'Method Not Allowed');
  const { model } = ctx;
  const fields = submittedFields(req);
  const defs = job.def.parameters ?? [];
  const fullName = job.path.join('/');
  if (withParameters && defs.length === 0) return errorPage(400, req.rawPath, `${fullName} is not parameterized`);
  let params = fields;
  if (!withParameters && defs.length > 0) {
    const json = fields.get('json');
    if (json === undefined) return errorPage(400, req.rawPath, `This page expects a form submission but had only {}`);
    const parsed = parseJsonForm(json);
    if (!parsed) return errorPage(400, req.rawPath, 'Malformed json form field');
    params = parsed;
  }
  const principal = ctx.principal(req);
  const cause: BuildCause = principal
    ? { kind: 'user', userId: principal.userId, userName: principal.fullName }
    : { kind: 'remote', addr: '127.0.0.1' };
  const quiet = quietPeriod(model, fields);
  try {
    const result = model.scheduleBuild(
      job.path,
      defs.length > 0 ? params : new Map(),
      cause,
      quiet === undefined ? {} : { quietPeriodMs: quiet },
    );
    const location = `${req.baseUrl}/queue/item/${result.itemId}/`;
    // Only buildWithParameters reports a coalesced trigger as 303; /build answers 201 with the existing item.
    return bare(withParameters && !result.created ? 303 : 201, { location });
  } catch (err) {
    if (err instanceof IllegalParameterError) return errorPage(400, req.rawPath, err.message);
    throw err;
  }
}

/** The classic form submission `json={"parameter":[{"name":"X","value":"y"}]}`. */
function parseJsonForm(raw: string): Map<string, string> | undefined {
  try {
    const data = JSON.parse(raw) as { parameter?: unknown };
    const list = Array.isArray(data.parameter) ? data.parameter : data.parameter ? [data.parameter] : [];
    const out = new Map<string, string>();
    for (const p of list as { name?: unknown; value?: unknown }[]) {
      if (typeof p?.name === 'string' && p.value !== undefined) out.set(p.name, String(p.value));
    }
    return out;
  } catch {
    return undefined;
  }
}
