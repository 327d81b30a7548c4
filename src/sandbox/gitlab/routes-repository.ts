/**
 * Repository routes of the simulated GitLab: files, commits (with actions), revert, compare, merge base, branches,
 * tree.
 */
import { empty, json, text, type Router } from '../core/http.js';
import { GitLabError } from './errors.js';
import { branchEntity, commitBasic, commitDetail, diffEntity, fileEntity, fileHeaders } from './entities.js';
import { FILE_ACTION_KINDS, type FileAction, type FileActionKind } from './git-store.js';
import { api, defined, paginated, Params, type RouteContext } from './http-support.js';
import type { Project } from './types.js';

const P = '/api/v4/projects/:id';

function decodeContent(content: string | undefined, encoding: string | undefined): Buffer | undefined {
  if (content === undefined) return undefined;
  return encoding === 'base64' ? Buffer.from(content, 'base64') : Buffer.from(content, 'utf8');
}

/** Reads `actions[]` with Grape's per-element messages. */
function readActions(params: Params): FileAction[] {
  const raw = params.raw('actions');
  if (raw === undefined || raw === null) {
    params.problem('actions is missing');
    return [];
  }
  if (!Array.isArray(raw)) {
    params.problem('actions is invalid');
    return [];
  }
  if (raw.length === 0) params.problem('actions is empty');
  const actions: FileAction[] = [];
  raw.forEach((item: unknown, i) => {
    const a = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const field = (k: string) => `actions[${i}][${k}]`;
    const str = (k: string): string | undefined => (a[k] === undefined || a[k] === null ? undefined : String(a[k]));
    const action = str('action');
    if (action === undefined) params.problem(`${field('action')} is missing`);
    else if (!(FILE_ACTION_KINDS as readonly string[]).includes(action))
      params.problem(`${field('action')} does not have a valid value`);
    const filePath = str('file_path');
    if (filePath === undefined) params.problem(`${field('file_path')} is missing`);
    const encoding = str('encoding');
    if (encoding !== undefined && encoding !== 'text' && encoding !== 'base64')
      params.problem(`${field('encoding')} does not have a valid value`);
    const previousPath = str('previous_path');
    if (action === 'move' && previousPath === undefined) params.problem(`${field('previous_path')} is missing`);
    const exec = a.execute_filemode;
    const content = decodeContent(str('content'), encoding);
    const lastCommitId = str('last_commit_id');
    actions.push(
      defined({
        action: (action ?? 'create') as FileActionKind,
        filePath: filePath ?? '',
        previousPath,
        content,
        executable: exec === undefined ? undefined : exec === true || exec === 'true',
        lastCommitId,
      }),
    );
  });
  return actions;
}

function resolveFile(project: Project, path: string, ref: string) {
  const commit = project.repo.resolve(ref === 'HEAD' ? project.defaultBranch : ref);
  if (!commit) throw GitLabError.notFound('Commit');
  const entry = commit.tree.get(path);
  if (!entry) throw GitLabError.notFound('File');
  return fileEntity(project, path, ref, commit, entry);
}

export function addRepositoryRoutes(router: Router, ctx: RouteContext): void {
  const { model } = ctx;
  const author = (params: Params) =>
    defined({ authorName: params.string('author_name'), authorEmail: params.string('author_email') });

  // ---- files --------------------------------------------------------------------------------------------------
  router.add(
    'GET',
    `${P}/repository/files/:path/raw`,
    api((req) => {
      const project = model.project(req.params.id!);
      const file = resolveFile(project, req.params.path!, req.query.get('ref') ?? 'HEAD');
      return text(
        200,
        Buffer.from(String(file.content), 'base64').toString('utf8'),
        'text/plain; charset=utf-8',
        fileHeaders(file),
      );
    }),
  );

  router.add(
    'GET',
    `${P}/repository/files/:path`,
    api((req) => {
      const project = model.project(req.params.id!);
      const ref = req.query.get('ref');
      if (ref === null) throw GitLabError.invalidParams('ref is missing');
      const file = resolveFile(project, req.params.path!, ref);
      return json(200, file, req.method === 'HEAD' ? fileHeaders(file) : {});
    }),
  );

  const writeFile = (kind: 'create' | 'update' | 'delete') =>
    api((req) => {
      const project = model.project(req.params.id!);
      const params = new Params(req);
      const branch = params.required('branch');
      const message = params.required('commit_message');
      const content = kind === 'delete' ? undefined : params.required('content');
      const encoding = params.oneOf('encoding', ['text', 'base64'] as const);
      const startBranch = params.string('start_branch');
      const lastCommitId = params.string('last_commit_id');
      const exec = params.bool('execute_filemode');
      params.check();
      const filePath = req.params.path!;
      const decoded = decodeContent(content, encoding);
      model.commit(
        project.id,
        defined({
          branch,
          message,
          as: ctx.userOf(req).username,
          ...author(params),
          startBranch,
          staleWording: 'files' as const,
          actions: [
            defined({
              action: kind,
              filePath,
              content: decoded,
              executable: exec,
              lastCommitId,
            }),
          ],
        }),
      );
      if (kind === 'delete') return empty(204);
      return json(kind === 'create' ? 201 : 200, { file_path: filePath, branch });
    });
  router.add('POST', `${P}/repository/files/:path`, writeFile('create'));
  router.add('PUT', `${P}/repository/files/:path`, writeFile('update'));
  router.add('DELETE', `${P}/repository/files/:path`, writeFile('delete'));

  // ---- commits ------------------------------------------------------------------------------------------------
  router.add(
    'POST',
    `${P}/repository/commits`,
    api((req) => {
      const project = model.project(req.params.id!);
      const params = new Params(req);
      const branch = params.required('branch');
      const message = params.required('commit_message');
      const actions = readActions(params);
      const startBranch = params.string('start_branch');
      const startSha = params.string('start_sha');
      const force = params.bool('force');
      const stats = params.bool('stats') ?? true;
      params.check();
      const commit = model.commit(
        project.id,
        defined({
          branch,
          message,
          actions,
          as: ctx.userOf(req).username,
          ...author(params),
          startBranch,
          startSha,
          force,
        }),
      );
      return json(201, commitDetail(req.baseUrl, project, commit, stats));
    }),
  );

  router.add(
    'GET',
    `${P}/repository/commits`,
    api((req) => {
      const project = model.project(req.params.id!);
      const params = new Params(req);
      const since = params.time('since');
      const until = params.time('until');
      const withStats = params.bool('with_stats') ?? false;
      const firstParent = params.bool('first_parent') ?? false;
      params.check();
      const refName = req.query.get('ref_name') ?? project.defaultBranch;
      const head = project.repo.resolve(refName === 'HEAD' ? project.defaultBranch : refName);
      const path = req.query.get('path');
      const commits = head
        ? project.repo
            .log(head.id, { firstParent })
            .filter(
              (c) =>
                (since === undefined || c.committedAt >= since) &&
                (until === undefined || c.committedAt <= until) &&
                (path === null ||
                  project.repo.touches(c, path) ||
                  [...c.tree.keys()].some((p) => p.startsWith(`${path}/`) && project.repo.touches(c, p))),
            )
        : [];
      return paginated(req, commits, (c) =>
        withStats ? commitDetail(req.baseUrl, project, c) : commitBasic(req.baseUrl, project, c),
      );
    }),
  );

  router.add(
    'GET',
    `${P}/repository/commits/:sha`,
    api((req) => {
      const project = model.project(req.params.id!);
      const commit = model.resolveRef(project.id, req.params.sha!);
      const stats = new Params(req).bool('stats') ?? true;
      return json(200, commitDetail(req.baseUrl, project, commit, stats));
    }),
  );

  router.add(
    'GET',
    `${P}/repository/commits/:sha/diff`,
    api((req) => {
      const project = model.project(req.params.id!);
      const commit = model.resolveRef(project.id, req.params.sha!);
      const parent = commit.parentIds[0] !== undefined ? project.repo.getCommit(commit.parentIds[0]) : undefined;
      return paginated(req, project.repo.diff(parent?.tree ?? new Map(), commit.tree), diffEntity);
    }),
  );

  router.add(
    'POST',
    `${P}/repository/commits/:sha/revert`,
    api((req) => {
      const project = model.project(req.params.id!);
      const params = new Params(req);
      const branch = params.required('branch');
      const dryRun = params.bool('dry_run') ?? false;
      params.check();
      const commit = model.revert(project.id, req.params.sha!, branch, { as: ctx.userOf(req).username, dryRun });
      if (!commit) return json(200, { dry_run: 'success' });
      return json(201, commitDetail(req.baseUrl, project, commit));
    }),
  );

  router.add(
    'GET',
    `${P}/repository/compare`,
    api((req) => {
      const project = model.project(req.params.id!);
      const params = new Params(req);
      const from = params.required('from');
      const to = params.required('to');
      const straight = params.bool('straight') ?? false;
      params.check();
      const { repo } = project;
      const a = repo.resolve(from);
      const b = repo.resolve(to);
      // CompareService answers nil for a ref it cannot find, which the API renders as 404 "Ref Not Found" (§4.1).
      if (!a || !b) throw GitLabError.notFound('Ref');
      const base = straight ? a.id : repo.mergeBase(a.id, b.id);
      const baseTree = base !== undefined ? repo.getCommit(base)!.tree : new Map();
      const commits = repo.range(base ?? a.id, b.id);
      const newest = commits[commits.length - 1];
      return json(200, {
        commit: newest ? commitBasic(req.baseUrl, project, newest) : null,
        commits: commits.map((c) => commitBasic(req.baseUrl, project, c)),
        diffs: repo.diff(baseTree, b.tree).map(diffEntity),
        compare_timeout: false,
        compare_same_ref: from === to,
        web_url: `${req.baseUrl}/${project.namespace}/${project.path}/-/compare/${a.id}...${b.id}`,
      });
    }),
  );

  // Part C: ancestry through the API (real-installations.md §4.1). `refs[]=A&refs[]=B`, or `refs=A,B`.
  router.add(
    'GET',
    `${P}/repository/merge_base`,
    api((req) => {
      const project = model.project(req.params.id!);
      const refs = [...req.query.getAll('refs[]'), ...req.query.getAll('refs').flatMap((r) => r.split(','))].filter(
        (r) => r !== '',
      );
      if (refs.length < 2) throw GitLabError.badRequest('Provide at least 2 refs');
      const { repo } = project;
      const missing = refs.filter((r) => repo.resolve(r) === undefined);
      if (missing.length > 0)
        throw GitLabError.badRequest(`Could not find ref${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
      let base: string | undefined = repo.resolve(refs[0]!)!.id;
      for (const ref of refs.slice(1)) {
        if (base === undefined) break;
        base = repo.mergeBase(base, repo.resolve(ref)!.id);
      }
      if (base === undefined) throw GitLabError.notFound('Merge Base');
      return json(200, commitBasic(req.baseUrl, project, repo.getCommit(base)!));
    }),
  );

  // ---- branches -----------------------------------------------------------------------------------------------
  router.add(
    'GET',
    `${P}/repository/branches`,
    api((req) => {
      const project = model.project(req.params.id!);
      const search = req.query.get('search');
      const names = project.repo.branchNames().filter((n) => search === null || matchesSearch(n, search));
      return paginated(req, names, (n) => branchEntity(req.baseUrl, project, n));
    }),
  );

  router.add(
    'GET',
    `${P}/repository/branches/:branch`,
    api((req) => {
      const project = model.project(req.params.id!);
      if (!project.repo.hasBranch(req.params.branch!)) throw GitLabError.notFound('Branch');
      return json(200, branchEntity(req.baseUrl, project, req.params.branch!));
    }),
  );

  router.add(
    'POST',
    `${P}/repository/branches`,
    api((req) => {
      const project = model.project(req.params.id!);
      const params = new Params(req);
      const branch = params.required('branch');
      const ref = params.required('ref');
      params.check();
      model.createBranch(project.id, branch, ref, ctx.userOf(req).username);
      return json(201, branchEntity(req.baseUrl, project, branch));
    }),
  );

  router.add(
    'DELETE',
    `${P}/repository/branches/:branch`,
    api((req) => {
      model.deleteBranch(req.params.id!, req.params.branch!, ctx.userOf(req).username);
      return empty(204);
    }),
  );

  // ---- tree ---------------------------------------------------------------------------------------------------
  router.add(
    'GET',
    `${P}/repository/tree`,
    api((req) => {
      const project = model.project(req.params.id!);
      const params = new Params(req);
      const recursive = params.bool('recursive') ?? false;
      params.check();
      const ref = req.query.get('ref') ?? project.defaultBranch;
      const commit = project.repo.resolve(ref === 'HEAD' ? project.defaultBranch : ref);
      if (!commit) throw GitLabError.notFound('Tree');
      const dir = (req.query.get('path') ?? '').replace(/^\/+|\/+$/g, '');
      const prefix = dir === '' ? '' : `${dir}/`;
      const entries = new Map<
        string,
        { id: string; name: string; type: 'tree' | 'blob'; path: string; mode: string }
      >();
      for (const [path, entry] of commit.tree) {
        if (!path.startsWith(prefix)) continue;
        const parts = path.slice(prefix.length).split('/');
        const depth = recursive ? parts.length : 1;
        for (let i = 1; i <= depth; i++) {
          const sub = prefix + parts.slice(0, i).join('/');
          const isFile = i === parts.length;
          if (entries.has(sub)) continue;
          entries.set(sub, {
            id: isFile ? entry.blobId : treeId(sub, ref),
            name: parts[i - 1]!,
            type: isFile ? 'blob' : 'tree',
            path: sub,
            mode: isFile ? (entry.executable ? '100755' : '100644') : '040000',
          });
        }
      }
      if (dir !== '' && entries.size === 0) throw GitLabError.notFound('Tree');
      const sorted = [...entries.values()].sort((x, y) =>
        x.type === y.type ? (x.path < y.path ? -1 : 1) : x.type === 'tree' ? -1 : 1,
      );
      return paginated(req, sorted, (e) => e);
    }),
  );
}

/** GitLab's branch `search`: `^term` anchors at the start, `term$` at the end, otherwise a substring match. */
function matchesSearch(name: string, search: string): boolean {
  if (search.startsWith('^')) return name.startsWith(search.slice(1));
  if (search.endsWith('$')) return name.endsWith(search.slice(0, -1));
  return name.includes(search);
}

function treeId(path: string, ref: string): string {
  let h = 0;
  for (const ch of `${ref}:${path}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, '0').repeat(5);
}
