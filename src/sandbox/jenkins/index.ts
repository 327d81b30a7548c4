/** The simulated Jenkins: the model the lead's controllers drive and the server that exposes it. */
export { JenkinsModel, UnknownJobError, jobUrl } from './model.js';
export type {
  JenkinsJobSnapshot,
  JenkinsModelOptions,
  JenkinsSnapshot,
  RunEvent,
  RunListener,
  ScheduleResult,
} from './model.js';
export { IllegalParameterError } from './parameters.js';
export type { JenkinsUser, Principal } from './security.js';
export { startJenkinsServer } from './server.js';
export type { JenkinsServerOptions } from './server.js';
export { BUILD_RESULTS, FOLDER_KINDS } from './types.js';
export type {
  BooleanParameterDefinition,
  BuildCause,
  BuildContext,
  BuildParams,
  BuildResult,
  ChoiceParameterDefinition,
  FolderKind,
  GitRevision,
  JobDefinition,
  JobRunner,
  ParameterDefinition,
  ScmRevision,
  StringParameterDefinition,
} from './types.js';
