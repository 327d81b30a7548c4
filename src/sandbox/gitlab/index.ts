/** The simulated GitLab: model (state and rules) and HTTP server (REST API v4 subset). */
export { GitLabModel, isValidBranchName, personOf, ZERO_SHA } from './model.js';
export type { CommitInput, GitLabModelOptions, MergeRequestListener, ProjectSnapshot, PushListener } from './model.js';
export { startGitLabServer, SIMULATED_GITLAB_VERSION } from './server.js';
export type { GitLabServerOptions } from './server.js';
export { ProjectHooks, HOOK_EVENT_FLAGS, TEST_TRIGGERS } from './hooks.js';
export type { HookInput, HookLogEntry, ProjectHook } from './hooks.js';
export { GitLabError } from './errors.js';
export type { GitLabErrorKind } from './errors.js';
export type { Commit, FileAction, FileActionKind, Person, Tree } from './git-store.js';
export type {
  CreateMergeRequestInput,
  MergeOptions,
  MergeRequestFilter,
  UpdateMergeRequestInput,
} from './merge-requests.js';
export type { MergeRequest, MergeRequestEvent, MergeRequestState, Note, Project, PushEvent, User } from './types.js';
