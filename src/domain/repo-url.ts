/**
 * Which git remote a URL names, whatever form it is written in: Jenkins' BuildData records the URL its job clones
 * from (`https://host/group/app.git`, `ssh://git@host:2222/group/app.git`, `git@host:group/app.git`, with or without
 * `.git` or a trailing slash), often through an internal host name GitLab never shows. Pure; no I/O.
 */

/** A remote URL reduced to lower-case host and path, without credentials, port, `.git` or slashes at the ends. */
export interface RepoLocation {
  readonly host: string;
  /** `group/sub/app`, no leading or trailing slash. */
  readonly path: string;
}

/** `git@host:group/app.git` (scp-like syntax: a colon before the first slash and no scheme). */
const SCP_LIKE = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.+)$/;

/** The host and path a git remote URL names; undefined for something that is not a URL of a remote. */
export function repoLocation(url: string): RepoLocation | undefined {
  const raw = url.trim();
  if (raw === '') return undefined;
  let host: string;
  let path: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      return undefined;
    }
    host = parsed.hostname;
    try {
      path = decodeURIComponent(parsed.pathname);
    } catch {
      path = parsed.pathname;
    }
  } else {
    const m = SCP_LIKE.exec(raw);
    if (!m?.[1] || !m[2]) return undefined;
    host = m[1];
    path = m[2];
  }
  const clean = path
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/^\/+/, '')
    .replace(/\/+$/, '');
  if (clean === '') return undefined;
  return { host: host.toLowerCase(), path: clean.toLowerCase() };
}

/**
 * True when `remote` names the app repository: the same host and path as one of `appRepoUrls` (the URLs Jenkins
 * clones it from, when configured), or, on any host, a path that is the GitLab project path `project` or ends with
 * it after a relative URL root (`/gitlab/group/app`), since Jenkins often clones through an internal host name.
 */
export function isAppRepo(remote: string, project: string, appRepoUrls: readonly string[] = []): boolean {
  const loc = repoLocation(remote);
  if (!loc) return false;
  for (const url of appRepoUrls) {
    const known = repoLocation(url);
    if (known && known.host === loc.host && known.path === loc.path) return true;
  }
  const wanted = project.replace(/^\/+|\/+$/g, '').toLowerCase();
  return loc.path === wanted || loc.path.endsWith(`/${wanted}`);
}
