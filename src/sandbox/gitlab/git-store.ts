/**
 * A small content-addressed git-like repository: commits carry complete file trees and parent links, branches
 * point at commits. It knows the git operations GitLab builds on (history walks, merge base, three-way merge,
 * revert, the last commit that touched a path) and nothing about HTTP, users or merge requests.
 */
import { createHash } from 'node:crypto';
import { GitLabError } from './errors.js';

/** One file in a tree. `blobId` is git's blob hash of the content. */
export interface FileEntry {
  readonly blobId: string;
  readonly content: Buffer;
  readonly executable: boolean;
}

/** A full snapshot of the repository's files, path → entry. Never mutated once part of a commit. */
export type Tree = ReadonlyMap<string, FileEntry>;

export interface Person {
  readonly name: string;
  readonly email: string;
}

export interface Commit {
  /** 40-hex sha. */
  readonly id: string;
  readonly parentIds: readonly string[];
  readonly tree: Tree;
  /** Full message; the title is its first line. */
  readonly message: string;
  readonly author: Person;
  readonly committer: Person;
  readonly authoredAt: number;
  readonly committedAt: number;
  /** Creation order inside this repository; parents always have a lower number. */
  readonly seq: number;
}

export const FILE_ACTION_KINDS = ['create', 'update', 'delete', 'move', 'chmod'] as const;
export type FileActionKind = (typeof FILE_ACTION_KINDS)[number];

/** One change of a multi-file commit, as the commits API describes it (content already decoded). */
export interface FileAction {
  readonly action: FileActionKind;
  readonly filePath: string;
  readonly previousPath?: string;
  /** New content; required for create and update, optional for move (keeps the old content when absent). */
  readonly content?: Buffer;
  /** For chmod (and kept across other actions). */
  readonly executable?: boolean;
  /** Checked for update, move, delete and chmod: must be the last commit that touched the path. */
  readonly lastCommitId?: string;
}

/** A file-level difference between two trees. */
export interface FileChange {
  readonly oldPath: string;
  readonly newPath: string;
  readonly before?: FileEntry;
  readonly after?: FileEntry;
}

export type MergeOutcome =
  | { readonly tree: Tree; readonly conflicts?: undefined }
  | { readonly tree?: undefined; readonly conflicts: readonly string[] };

export function commitTitle(message: string): string {
  return message.split('\n', 1)[0] ?? '';
}

export function blobOf(content: Buffer, executable = false): FileEntry {
  const blobId = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
  return { blobId, content, executable };
}

function sameEntry(a: FileEntry | undefined, b: FileEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.blobId === b.blobId && a.executable === b.executable;
}

/** True when the path (or one of its segments) would escape or be ambiguous in a git tree. */
export function isInvalidFilePath(path: string): boolean {
  if (path.length === 0 || path.startsWith('/') || path.endsWith('/')) return true;
  return path.split('/').some((seg) => seg === '' || seg === '.' || seg === '..' || seg === '.git');
}

export class GitRepository {
  private readonly commits = new Map<string, Commit>();
  private readonly branches = new Map<string, string>();
  private seq = 0;

  constructor(private readonly now: () => number) {}

  /** Creates and stores a commit; does not move any branch. */
  createCommit(input: {
    parentIds: readonly string[];
    tree: Tree;
    message: string;
    author: Person;
    committer?: Person;
  }): Commit {
    const seq = ++this.seq;
    const at = this.now();
    const committer = input.committer ?? input.author;
    const hash = createHash('sha1');
    for (const [path, entry] of [...input.tree].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      hash.update(`${entry.executable ? '100755' : '100644'} ${path}\0${entry.blobId}\n`);
    }
    for (const p of input.parentIds) hash.update(`parent ${p}\n`);
    hash.update(`author ${input.author.name} <${input.author.email}> ${at}\n`);
    hash.update(`seq ${seq}\n\n${input.message}`);
    const commit: Commit = {
      id: hash.digest('hex'),
      parentIds: [...input.parentIds],
      tree: input.tree,
      message: input.message,
      author: input.author,
      committer,
      authoredAt: at,
      committedAt: at,
      seq,
    };
    this.commits.set(commit.id, commit);
    return commit;
  }

  getCommit(id: string): Commit | undefined {
    return this.commits.get(id);
  }

  /**
   * Resolves a ref the way GitLab does for `ref`/`sha` parameters: a branch name (optionally `refs/heads/…`),
   * a full sha, or an unambiguous sha prefix of at least 7 characters.
   */
  resolve(ref: string): Commit | undefined {
    const name = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
    const head = this.branches.get(name);
    if (head !== undefined) return this.commits.get(head);
    if (!/^[0-9a-f]{7,40}$/.test(ref)) return undefined;
    const exact = this.commits.get(ref);
    if (exact) return exact;
    const found = [...this.commits.values()].filter((c) => c.id.startsWith(ref));
    return found.length === 1 ? found[0] : undefined;
  }

  branchNames(): string[] {
    return [...this.branches.keys()].sort();
  }

  branchHead(name: string): string | undefined {
    return this.branches.get(name);
  }

  hasBranch(name: string): boolean {
    return this.branches.has(name);
  }

  setBranch(name: string, commitId: string): void {
    if (!this.commits.has(commitId)) throw new Error(`unknown commit ${commitId}`);
    this.branches.set(name, commitId);
  }

  deleteBranch(name: string): boolean {
    return this.branches.delete(name);
  }

  /** Every commit reachable from `id`, itself included. */
  ancestors(id: string, firstParentOnly = false): Set<string> {
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length > 0) {
      const cur = stack.pop()!;
      if (seen.has(cur)) continue;
      const c = this.commits.get(cur);
      if (!c) continue;
      seen.add(cur);
      if (firstParentOnly) {
        if (c.parentIds[0] !== undefined) stack.push(c.parentIds[0]);
      } else stack.push(...c.parentIds);
    }
    return seen;
  }

  isAncestor(ancestor: string, of: string): boolean {
    return this.ancestors(of).has(ancestor);
  }

  /** The history of `head`, newest first, like `git log`. */
  log(head: string, opts: { firstParent?: boolean } = {}): Commit[] {
    return [...this.ancestors(head, opts.firstParent)].map((id) => this.commits.get(id)!).sort((a, b) => b.seq - a.seq);
  }

  /** Commits reachable from `to` but not from `from`, oldest first (`git log --reverse from..to`). */
  range(from: string, to: string): Commit[] {
    const excluded = this.ancestors(from);
    return this.log(to)
      .filter((c) => !excluded.has(c.id))
      .reverse();
  }

  /** The best common ancestor of two commits, or undefined when the histories are unrelated. */
  mergeBase(a: string, b: string): string | undefined {
    const ofA = this.ancestors(a);
    let best: Commit | undefined;
    for (const id of this.ancestors(b)) {
      if (!ofA.has(id)) continue;
      const c = this.commits.get(id)!;
      if (!best || c.seq > best.seq) best = c;
    }
    return best?.id;
  }

  /** Whether `commit` changed `path` relative to every parent (git's history simplification for `-- path`). */
  touches(commit: Commit, path: string): boolean {
    const entry = commit.tree.get(path);
    if (commit.parentIds.length === 0) return entry !== undefined;
    return commit.parentIds.every((p) => !sameEntry(this.commits.get(p)?.tree.get(path), entry));
  }

  /**
   * The last commit that touched `path` as seen from `head` (`git log -1 -- path`), which is what GitLab's
   * `last_commit_id` reports and checks; undefined when the file does not exist at `head`.
   */
  lastCommitFor(head: string, path: string): string | undefined {
    let cur = this.commits.get(head);
    const entry = cur?.tree.get(path);
    if (!cur || !entry) return undefined;
    for (;;) {
      const sameParent: Commit | undefined = cur.parentIds
        .map((p) => this.commits.get(p))
        .find((p) => p !== undefined && sameEntry(p.tree.get(path), entry));
      if (!sameParent) return cur.id;
      cur = sameParent;
    }
  }

  /** File-level three-way merge: a path changed differently on both sides since `base` is a conflict. */
  threeWayMerge(base: Tree, ours: Tree, theirs: Tree): MergeOutcome {
    const out = new Map(ours);
    const conflicts: string[] = [];
    for (const path of new Set([...base.keys(), ...ours.keys(), ...theirs.keys()])) {
      const b = base.get(path);
      const o = ours.get(path);
      const t = theirs.get(path);
      if (sameEntry(o, t) || sameEntry(t, b)) continue;
      if (sameEntry(o, b)) {
        if (t) out.set(path, t);
        else out.delete(path);
        continue;
      }
      conflicts.push(path);
    }
    return conflicts.length > 0 ? { conflicts: conflicts.sort() } : { tree: out };
  }

  /** Differences between two trees, sorted by path; renames appear as a delete plus a create. */
  diff(from: Tree, to: Tree): FileChange[] {
    const changes: FileChange[] = [];
    for (const path of [...new Set([...from.keys(), ...to.keys()])].sort()) {
      const before = from.get(path);
      const after = to.get(path);
      if (sameEntry(before, after)) continue;
      changes.push({ oldPath: path, newPath: path, ...(before ? { before } : {}), ...(after ? { after } : {}) });
    }
    return changes;
  }

  /**
   * Applies commit actions to the tree of `head` (an empty tree when undefined) with GitLab's validation messages.
   * `staleMessage` words the stale `last_commit_id` refusal (the files API and the commits API differ).
   */
  applyActions(head: Commit | undefined, actions: readonly FileAction[], staleMessage: (path: string) => string): Tree {
    const tree = new Map(head?.tree ?? []);
    const isStale = (a: FileAction, path: string): boolean =>
      a.lastCommitId !== undefined &&
      head !== undefined &&
      this.lastCommitFor(head.id, path) !== undefined &&
      this.lastCommitFor(head.id, path) !== a.lastCommitId;
    const dirExists = (path: string): boolean => [...tree.keys()].some((p) => p.startsWith(`${path}/`));
    const parentIsFile = (path: string): boolean => {
      const segs = path.split('/');
      for (let i = 1; i < segs.length; i++) if (tree.has(segs.slice(0, i).join('/'))) return true;
      return false;
    };
    const fail = (message: string): never => {
      throw GitLabError.badRequest(message);
    };
    for (const a of actions) {
      const existing = tree.get(a.filePath);
      switch (a.action) {
        case 'create': {
          if (existing) fail('A file with this name already exists');
          if (dirExists(a.filePath)) fail('A directory with this name already exists');
          if (parentIsFile(a.filePath)) fail('A file with this name already exists');
          tree.set(a.filePath, blobOf(a.content ?? Buffer.alloc(0), a.executable ?? false));
          break;
        }
        case 'update': {
          if (!existing) fail("A file with this name doesn't exist");
          if (isStale(a, a.filePath)) fail(staleMessage(a.filePath));
          tree.set(a.filePath, blobOf(a.content ?? Buffer.alloc(0), existing!.executable));
          break;
        }
        case 'delete': {
          if (!existing) fail("A file with this name doesn't exist");
          if (isStale(a, a.filePath)) fail(staleMessage(a.filePath));
          tree.delete(a.filePath);
          break;
        }
        case 'move': {
          const from = a.previousPath ?? '';
          const old = tree.get(from);
          if (!old) fail("A file with this name doesn't exist");
          if (existing && from !== a.filePath) fail('A file with this name already exists');
          if (isStale(a, from)) fail(staleMessage(from));
          tree.delete(from);
          tree.set(a.filePath, a.content !== undefined ? blobOf(a.content, old!.executable) : old!);
          break;
        }
        case 'chmod': {
          if (!existing) fail("A file with this name doesn't exist");
          if (isStale(a, a.filePath)) fail(staleMessage(a.filePath));
          tree.set(a.filePath, blobOf(existing!.content, a.executable ?? false));
          break;
        }
      }
    }
    return tree;
  }
}
