export { GitLabClient } from './client.js';
export type {
  CommitStatusInfo,
  ApproveOutcome,
  BranchInfo,
  CommitInfo,
  FileUpdate,
  GitLabClientOptions,
  GitLabProject,
  MergeOutcome,
  MergeRequestApprovals,
  MergeRequestFilter,
  MergeRequestInfo,
  MergeRequestState,
  NoteInfo,
  PipelineInfo,
  RepositoryFile,
  RevertOutcome,
} from './client.js';
export { GITLAB_CREDENTIAL_VARIABLE } from './errors.js';
