/**
 * The parts of GitLab's REST v4 responses that Shepherd reads. Loose objects: GitLab adds fields between versions
 * and an extra field must never break a run; a missing field we rely on fails loudly at the edge instead.
 */
import { z } from 'zod';

export const ProjectSchema = z.looseObject({
  id: z.number(),
  path_with_namespace: z.string(),
  default_branch: z.string(),
});

export const RepositoryFileSchema = z.looseObject({
  file_path: z.string(),
  encoding: z.string(),
  content: z.string(),
  last_commit_id: z.string(),
});

export const CommitSchema = z.looseObject({
  id: z.string(),
  title: z.string(),
  message: z.string(),
  parent_ids: z.array(z.string()).optional(),
  created_at: z.string().optional(),
});

export const BranchSchema = z.looseObject({
  name: z.string(),
  commit: z.looseObject({ id: z.string() }),
});

/** A pipeline as the MR's `head_pipeline`, `GET …/pipelines/:id` and the MR's pipeline list show it (part A). */
export const PipelineSchema = z.looseObject({
  id: z.number(),
  sha: z.string(),
  ref: z.string().nullable().optional(),
  status: z.string(),
  source: z.string().nullable().optional(),
  web_url: z.string(),
});

export const MergeRequestSchema = z.looseObject({
  iid: z.number(),
  state: z.string(),
  title: z.string(),
  description: z.string().nullable().optional(),
  source_branch: z.string(),
  target_branch: z.string(),
  web_url: z.string(),
  sha: z.string().nullable().optional(),
  /** A plain string: gitbeaker's union of values is out of date and GitLab adds new ones. */
  detailed_merge_status: z.string().nullable().optional(),
  merge_commit_sha: z.string().nullable().optional(),
  squash_commit_sha: z.string().nullable().optional(),
  created_at: z.string(),
  // Part A: merge rules. Absent on older versions or without the permission to read pipelines.
  head_pipeline: PipelineSchema.nullable().optional(),
  merge_error: z.string().nullable().optional(),
  /** Only with `include_rebase_in_progress=true`. */
  rebase_in_progress: z.boolean().nullable().optional(),
  merge_when_pipeline_succeeds: z.boolean().nullable().optional(),
});

export const NoteSchema = z.looseObject({
  id: z.number(),
  body: z.string(),
  system: z.boolean().optional(),
});

export const CompareSchema = z.looseObject({
  commits: z.array(CommitSchema),
  diffs: z.array(z.looseObject({ old_path: z.string(), new_path: z.string() })).optional(),
});

/** `compare` with the text of each diff (part A: the same change before and after a rebase). */
export const DiffSchema = z.looseObject({ old_path: z.string(), new_path: z.string(), diff: z.string() });
export const CompareDiffsSchema = z.looseObject({ diffs: z.array(DiffSchema) });

/** GitLab's error bodies: `message` is a string, a list (409 duplicate MR) or a field map; `error_code` on revert. */
export const ErrorBodySchema = z.looseObject({
  message: z.unknown().optional(),
  error: z.unknown().optional(),
  error_code: z.string().optional(),
});

/** `GET /user`: the token's user. */
export const CurrentUserSchema = z.looseObject({ username: z.string() });

/** `GET /personal_access_tokens/self`: the token's own record; `scopes` is what Shepherd checks. */
export const TokenSchema = z.looseObject({ scopes: z.array(z.string()), active: z.boolean().optional() });

/** One entry of `GET /projects/:id/protected_branches`; `name` may be a wildcard. */
export const ProtectedBranchSchema = z.looseObject({ name: z.string() });

// Part E: commit statuses.
/** `API::Entities::CommitStatus`: what an external CI (Jenkins' gitlab-plugin) posted on a commit. */
export const CommitStatusSchema = z.looseObject({
  id: z.number(),
  sha: z.string(),
  ref: z.string().nullable().optional(),
  status: z.string(),
  name: z.string().nullable().optional(),
  target_url: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  created_at: z.string().optional(),
});

/**
 * Part B: `GET /projects/:id/merge_requests/:iid/approvals` (and the body of a 201 approve). CE answers without
 * `approvals_required`/`approvals_left` (its `approved` means "some approval exists"); EE adds them and its
 * `approved` means the rules are satisfied. Both are optional here.
 */
export const MergeRequestApprovalsSchema = z.looseObject({
  approved: z.boolean().optional(),
  approvals_required: z.number().int().nullish(),
  approvals_left: z.number().int().nullish(),
  approved_by: z
    .array(z.looseObject({ user: z.looseObject({ username: z.string(), name: z.string().nullish() }) }))
    .default([]),
  user_has_approved: z.boolean().optional(),
  user_can_approve: z.boolean().optional(),
});
