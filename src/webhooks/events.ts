/**
 * What the receiver understands of a delivery: GitLab's Push, Merge Request and Pipeline Hooks (reference §1.3) and
 * the Jenkins Notification plugin's JSON (reference §6.1), parsed with zod down to the few fields routing needs.
 * Everything else in a body is ignored: an event is only a wake-up, the waits read the state from the API.
 */
import { z } from 'zod';

/** The GitLab events the receiver acts on, by their `X-Gitlab-Event` header. */
export const GITLAB_EVENTS = {
  'Push Hook': 'push',
  'Merge Request Hook': 'merge_request',
  'Pipeline Hook': 'pipeline',
} as const;
export type GitLabEventName = (typeof GITLAB_EVENTS)[keyof typeof GITLAB_EVENTS];

/** The `event` metric label of a GitLab delivery: one of ours, or `other` (the header is free text). */
export function gitlabEventName(header: string | undefined): GitLabEventName | 'other' {
  return header !== undefined && Object.hasOwn(GITLAB_EVENTS, header)
    ? GITLAB_EVENTS[header as keyof typeof GITLAB_EVENTS]
    : 'other';
}

export interface GitLabEvent {
  readonly source: 'gitlab';
  readonly event: GitLabEventName;
  /** `group/project`, as GitLab spells it in `project.path_with_namespace`. */
  readonly project: string;
  /** Push: the pushed branch (undefined for a tag). MR: the target branch. Pipeline: the MR's target, else its ref. */
  readonly branch: string | undefined;
  /** For logs and the hint: `MR !12 merge`, `push main`, `pipeline 41 success`. */
  readonly subject: string;
}

export interface JenkinsEvent {
  readonly source: 'jenkins';
  readonly event: 'build';
  /** The job's path segments, decoded (`job/app/job/feature%2Fx/` → `['app', 'feature/x']`). */
  readonly job: readonly string[];
  readonly number: number;
  readonly phase: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly subject: string;
}

export type WebhookEvent = GitLabEvent | JenkinsEvent;

const project = z.object({ path_with_namespace: z.string().min(1) });

const pushHook = z.object({ ref: z.string(), project });
const mergeRequestHook = z.object({
  project,
  object_attributes: z.object({
    iid: z.number().int(),
    target_branch: z.string().min(1),
    action: z.string().optional(),
    state: z.string().optional(),
  }),
});
const pipelineHook = z.object({
  project,
  object_attributes: z.object({ id: z.number().int(), ref: z.string().nullish(), status: z.string().optional() }),
  merge_request: z.object({ iid: z.number().int(), target_branch: z.string().min(1) }).nullish(),
});

/** A GitLab body of a known event as a GitLabEvent, or undefined when it does not have the fields routing needs. */
export function parseGitLabEvent(event: GitLabEventName, body: unknown): GitLabEvent | undefined {
  if (event === 'push') {
    const p = pushHook.safeParse(body);
    if (!p.success) return undefined;
    const branch = p.data.ref.startsWith('refs/heads/') ? p.data.ref.slice('refs/heads/'.length) : undefined;
    return {
      source: 'gitlab',
      event,
      project: p.data.project.path_with_namespace,
      branch,
      subject: `push ${p.data.ref}`,
    };
  }
  if (event === 'merge_request') {
    const p = mergeRequestHook.safeParse(body);
    if (!p.success) return undefined;
    const mr = p.data.object_attributes;
    return {
      source: 'gitlab',
      event,
      project: p.data.project.path_with_namespace,
      branch: mr.target_branch,
      subject: `MR !${mr.iid} ${mr.action ?? mr.state ?? 'update'}`,
    };
  }
  const p = pipelineHook.safeParse(body);
  if (!p.success) return undefined;
  const pipeline = p.data.object_attributes;
  return {
    source: 'gitlab',
    event,
    project: p.data.project.path_with_namespace,
    branch: p.data.merge_request?.target_branch ?? pipeline.ref ?? undefined,
    subject: `pipeline ${pipeline.id} ${pipeline.status ?? ''}`.trim(),
  };
}

const notification = z.object({
  name: z.string().optional(),
  url: z.string().min(1),
  build: z.object({
    number: z.number().int().nonnegative(),
    phase: z.string().min(1),
    status: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** A Notification plugin body (or a Jenkinsfile `post` step's of the same shape) as a JenkinsEvent. */
export function parseJenkinsEvent(body: unknown): JenkinsEvent | undefined {
  const p = notification.safeParse(body);
  if (!p.success) return undefined;
  const job = jobSegments(p.data.url);
  if (!job) return undefined;
  const parameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.data.build.parameters ?? {}))
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') parameters[k] = String(v);
  const { number, phase, status } = p.data.build;
  return {
    source: 'jenkins',
    event: 'build',
    job,
    number,
    phase,
    parameters,
    subject: `${job.join('/')} #${number} ${phase}${status ? ` ${status}` : ''}`,
  };
}

/**
 * `job/a/job/b%2Fc/` → `['a', 'b/c']`; an absolute URL (`https://ci.example/jenkins/job/a/`) is read from its first
 * `job/` on. Undefined when it is not a job URL.
 */
function jobSegments(url: string): string[] | undefined {
  const start = url.search(/(^|\/)job\//);
  if (start < 0) return undefined;
  const parts = url
    .slice(start)
    .replace(/^\/+|\/+$/g, '')
    .split('/');
  if (parts.length % 2 !== 0) return undefined;
  const segments: string[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    if (parts[i] !== 'job' || !parts[i + 1]) return undefined;
    try {
      segments.push(decodeURIComponent(parts[i + 1]!));
    } catch {
      return undefined;
    }
  }
  return segments;
}
