/**
 * The `…/api/json` representations of the simulated Jenkins' objects, shaped like Jenkins' exported beans
 * (`_class` on every object, `null` for absent references, absolute `url`s with a trailing slash).
 */
import { causeDescription, type Build } from './build.js';
import { jobUrl, type FolderNode, type ItemNode, type JenkinsModel, type JobNode } from './model.js';
import type { QueueItem } from './queue-item.js';
import type { Principal } from './security.js';
import type { BuildCause, GitRevision, ParameterDefinition, ParameterValue, ScmRevision } from './types.js';

type Json = Record<string, unknown>;

export const JENKINS_CLASSES = {
  root: 'hudson.model.Hudson',
  folder: 'com.cloudbees.hudson.plugins.folder.Folder',
  multibranch: 'org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject',
  job: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
  run: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
  queue: 'hudson.model.Queue',
} as const;

const QUEUE_ITEM_CLASSES = {
  waiting: 'hudson.model.Queue$WaitingItem',
  blocked: 'hudson.model.Queue$BlockedItem',
  buildable: 'hudson.model.Queue$BuildableItem',
  left: 'hudson.model.Queue$LeftItem',
} as const;

function nodeClass(node: ItemNode): string {
  if (node.kind === 'job') return JENKINS_CLASSES.job;
  return node.folderKind === 'multibranch' ? JENKINS_CLASSES.multibranch : JENKINS_CLASSES.folder;
}

/** The ball colour Jenkins derives from the last completed build, `_anime` while one is running. */
export function jobColor(job: JobNode): string {
  const last = job.builds.find((b) => !b.building);
  const base =
    last?.result === 'SUCCESS'
      ? 'blue'
      : last?.result === 'UNSTABLE'
        ? 'yellow'
        : last?.result === 'FAILURE'
          ? 'red'
          : last?.result === 'ABORTED'
            ? 'aborted'
            : 'notbuilt';
  return job.builds.some((b) => b.building) ? `${base}_anime` : base;
}

function childSummary(root: string, node: ItemNode): Json {
  const name = node.path[node.path.length - 1] ?? '';
  const out: Json = { _class: nodeClass(node), name, url: jobUrl(root, node.path) };
  if (node.kind === 'job') out.color = jobColor(node);
  return out;
}

function children(model: JenkinsModel, root: string, folder: FolderNode): Json[] {
  return folder.children.flatMap((name) => {
    const child = model.node([...folder.path, name]);
    return child ? [childSummary(root, child)] : [];
  });
}

function allView(root: string, folderUrl: string): Json {
  return { _class: 'hudson.model.AllView', name: 'all', url: folderUrl === `${root}/` ? `${root}/` : folderUrl };
}

/** `GET /api/json`. */
export function rootJson(model: JenkinsModel, root: string): Json {
  const top = model.node([]) as FolderNode;
  return {
    _class: JENKINS_CLASSES.root,
    assignedLabels: [{ name: 'built-in' }],
    mode: 'NORMAL',
    nodeDescription: "the Jenkins controller's built-in node",
    nodeName: '',
    numExecutors: model.executors,
    description: null,
    jobs: children(model, root, top),
    overallLoad: {},
    primaryView: allView(root, `${root}/`),
    quietDownReason: null,
    quietingDown: false,
    slaveAgentPort: -1,
    unlabeledLoad: { _class: 'jenkins.model.UnlabeledLoadStatistics' },
    url: `${root}/`,
    useCrumbs: true,
    useSecurity: true,
    views: [allView(root, `${root}/`)],
  };
}

function fullDisplayName(path: readonly string[]): string {
  return path.join(' » ');
}

/** `GET {folder}/api/json` for a folder or multibranch project. */
export function folderJson(model: JenkinsModel, root: string, folder: FolderNode): Json {
  const url = jobUrl(root, folder.path);
  const name = folder.path[folder.path.length - 1] ?? '';
  const out: Json = {
    _class: nodeClass(folder),
    actions: [{}, { _class: 'com.cloudbees.plugins.credentials.ViewCredentialsAction' }],
    description: folder.description || null,
    displayName: name,
    displayNameOrNull: null,
    fullDisplayName: fullDisplayName(folder.path),
    fullName: folder.path.join('/'),
    name,
    url,
    healthReport: [],
    jobs: children(model, root, folder),
    primaryView: allView(root, url),
    views: [allView(root, url)],
  };
  if (folder.folderKind === 'multibranch') out.sources = [{}];
  return out;
}

function buildRef(root: string, build: Build | undefined): Json | null {
  if (!build) return null;
  return { _class: JENKINS_CLASSES.run, number: build.number, url: buildUrl(root, build) };
}

export function buildUrl(root: string, build: Build): string {
  return `${jobUrl(root, build.jobPath)}${build.number}/`;
}

function parameterDefinitionJson(def: ParameterDefinition): Json {
  switch (def.type) {
    case 'string':
      return {
        _class: 'hudson.model.StringParameterDefinition',
        defaultParameterValue: {
          _class: 'hudson.model.StringParameterValue',
          name: def.name,
          value: def.default ?? '',
        },
        description: def.description ?? null,
        name: def.name,
        type: 'StringParameterDefinition',
        trim: def.trim ?? false,
      };
    case 'choice':
      return {
        _class: 'hudson.model.ChoiceParameterDefinition',
        defaultParameterValue: { _class: 'hudson.model.StringParameterValue', name: def.name, value: def.choices[0] },
        description: def.description ?? null,
        name: def.name,
        type: 'ChoiceParameterDefinition',
        choices: [...def.choices],
      };
    case 'boolean':
      return {
        _class: 'hudson.model.BooleanParameterDefinition',
        defaultParameterValue: {
          _class: 'hudson.model.BooleanParameterValue',
          name: def.name,
          value: def.default ?? false,
        },
        description: def.description ?? null,
        name: def.name,
        type: 'BooleanParameterDefinition',
      };
  }
}

/** Permalinks Jenkins offers on every job, as predicates over completed builds. */
export const PERMALINKS = {
  lastBuild: (b: Build) => b !== undefined,
  lastCompletedBuild: (b: Build) => !b.building,
  lastSuccessfulBuild: (b: Build) => b.result === 'SUCCESS' || b.result === 'UNSTABLE',
  lastStableBuild: (b: Build) => b.result === 'SUCCESS',
  lastUnstableBuild: (b: Build) => b.result === 'UNSTABLE',
  lastFailedBuild: (b: Build) => b.result === 'FAILURE',
  lastUnsuccessfulBuild: (b: Build) => !b.building && b.result !== 'SUCCESS',
} as const;
export type Permalink = keyof typeof PERMALINKS;

export function isPermalink(s: string): s is Permalink {
  return Object.hasOwn(PERMALINKS, s);
}

/**
 * `GET {job}/api/json` for a pipeline job. Builds are references (`_class`, `number`, `url`) unless `deep`, which
 * renders them whole so that `?tree=builds[number,queueId,result]` or `depth=1` can reach their fields as in Jenkins.
 */
export function jobJson(model: JenkinsModel, root: string, job: JobNode, deep = false): Json {
  const ref = (b: Build | undefined): Json | null => (deep && b ? buildJson(model, root, b) : buildRef(root, b));
  const name = job.path[job.path.length - 1] ?? '';
  const queued = model.queueItemOf(job.path);
  const params = job.def.parameters ?? [];
  const property: Json[] = [];
  if (params.length > 0)
    property.push({
      _class: 'hudson.model.ParametersDefinitionProperty',
      parameterDefinitions: params.map(parameterDefinitionJson),
    });
  const parent = model.node(job.path.slice(0, -1));
  if (parent?.kind === 'folder' && parent.folderKind === 'multibranch') {
    property.push({ _class: 'org.jenkinsci.plugins.workflow.multibranch.BranchJobProperty', branch: {} });
  }
  const link = (p: Permalink): Json | null => ref(job.builds.find(PERMALINKS[p]));
  // branch-api names a branch job by encoding its branch (`feature/x` → `feature%2Fx`) and displays the branch.
  const branchJob = parent?.kind === 'folder' && parent.folderKind === 'multibranch';
  return {
    _class: JENKINS_CLASSES.job,
    actions: [{}, {}, { _class: 'org.jenkinsci.plugins.displayurlapi.actions.JobDisplayAction' }],
    description: job.def.description ?? null,
    displayName: branchJob ? decodeItemName(name) : name,
    displayNameOrNull: null,
    fullDisplayName: fullDisplayName(job.path),
    fullName: job.path.join('/'),
    name,
    url: jobUrl(root, job.path),
    buildable: true,
    builds: job.builds.slice(0, 100).map((b) => ref(b)),
    color: jobColor(job),
    firstBuild: ref(job.builds[job.builds.length - 1]),
    healthReport: [],
    inQueue: queued !== undefined,
    keepDependencies: false,
    lastBuild: link('lastBuild'),
    lastCompletedBuild: link('lastCompletedBuild'),
    lastFailedBuild: link('lastFailedBuild'),
    lastStableBuild: link('lastStableBuild'),
    lastSuccessfulBuild: link('lastSuccessfulBuild'),
    lastUnstableBuild: link('lastUnstableBuild'),
    lastUnsuccessfulBuild: link('lastUnsuccessfulBuild'),
    nextBuildNumber: job.nextBuildNumber,
    property,
    queueItem: queued ? queueItemJson(model, root, queued) : null,
    concurrentBuild: job.def.concurrentBuild,
    resumeBlocked: false,
  };
}

/** branch-api's `NameEncoder.decode`: `feature%2Fx` → `feature/x`; a name that is not encoded stays as it is. */
function decodeItemName(name: string): string {
  if (name === '%00') return '';
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

function parameterValueJson(v: ParameterValue): Json {
  return v.type === 'boolean'
    ? { _class: 'hudson.model.BooleanParameterValue', name: v.name, value: v.value }
    : { _class: 'hudson.model.StringParameterValue', name: v.name, value: v.value };
}

function causeJson(cause: BuildCause): Json {
  const shortDescription = causeDescription(cause);
  switch (cause.kind) {
    case 'user':
      return {
        _class: 'hudson.model.Cause$UserIdCause',
        shortDescription,
        userId: cause.userId,
        userName: cause.userName,
      };
    case 'remote':
      return { _class: 'hudson.model.Cause$RemoteCause', shortDescription, addr: cause.addr, note: cause.note ?? null };
    case 'branch-event':
      return { _class: 'jenkins.branch.BranchEventCause', shortDescription };
    case 'branch-indexing':
      return { _class: 'jenkins.branch.BranchIndexingCause', shortDescription };
  }
}

function commonActions(parameters: readonly ParameterValue[], causes: readonly BuildCause[]): Json[] {
  const actions: Json[] = [];
  if (parameters.length > 0)
    actions.push({ _class: 'hudson.model.ParametersAction', parameters: parameters.map(parameterValueJson) });
  actions.push({ _class: 'hudson.model.CauseAction', causes: causes.map(causeJson) });
  return actions;
}

/** `GET {job}/{N}/api/json`. */
export function buildJson(model: JenkinsModel, root: string, build: Build): Json {
  const job = model.job(build.jobPath);
  const older = job?.builds.find((b) => b.number < build.number);
  const newer = job ? [...job.builds].reverse().find((b) => b.number > build.number) : undefined;
  const actions: Json[] = [{ _class: 'hudson.model.CauseAction', causes: build.causes.map(causeJson) }];
  if (build.parameters.length > 0)
    actions.push({ _class: 'hudson.model.ParametersAction', parameters: build.parameters.map(parameterValueJson) });
  actions.push({ _class: 'jenkins.metrics.impl.TimeInQueueAction' }, {});
  for (const checkout of build.checkouts) actions.push(gitBuildDataJson(build, checkout));
  if (build.scmRevision) actions.push(scmRevisionActionJson(build.scmRevision));
  actions.push({}, { _class: 'org.jenkinsci.plugins.workflow.job.views.FlowGraphAction' }, {});
  return {
    _class: JENKINS_CLASSES.run,
    actions,
    artifacts: [],
    building: build.building,
    description: build.description ?? null,
    displayName: build.displayName,
    duration: build.building ? 0 : build.duration,
    estimatedDuration: build.estimatedDuration,
    executor: build.building ? { _class: 'hudson.model.OneOffExecutor' } : null,
    fullDisplayName: `${fullDisplayName(build.jobPath)} ${build.displayName}`,
    id: build.id,
    keepLog: false,
    number: build.number,
    queueId: build.queueId,
    result: build.result ?? null,
    timestamp: build.timestamp,
    url: buildUrl(root, build),
    changeSets: [],
    culprits: [],
    inProgress: build.building,
    nextBuild: buildRef(root, newer),
    previousBuild: buildRef(root, older),
  };
}

function gitBuildDataJson(build: Build, rev: GitRevision): Json {
  const revision = { SHA1: rev.sha, branch: [{ SHA1: rev.sha, name: rev.branchName }] };
  return {
    _class: 'hudson.plugins.git.util.BuildData',
    buildsByBranchName: {
      [rev.branchName]: {
        _class: 'hudson.plugins.git.util.Build',
        buildNumber: build.number,
        buildResult: null,
        marked: revision,
        revision,
      },
    },
    lastBuiltRevision: revision,
    remoteUrls: [rev.remoteUrl],
    scmName: '',
  };
}

/** branch-api's `jenkins.scm.api.SCMRevisionAction` (exported bean: `revision` with `hash`, `head`, `deterministic`). */
function scmRevisionActionJson(rev: ScmRevision): Json {
  return {
    _class: 'jenkins.scm.api.SCMRevisionAction',
    revision: {
      _class: rev.revisionClass ?? 'jenkins.plugins.git.AbstractGitSCMSource$SCMRevisionImpl',
      deterministic: true,
      head: { _class: 'jenkins.plugins.git.GitBranchSCMHead', name: rev.head },
      hash: rev.hash,
    },
  };
}

/** `GET /queue/item/N/api/json` and the entries of `GET /queue/api/json`. */
export function queueItemJson(model: JenkinsModel, root: string, item: QueueItem): Json {
  const job = model.job(item.jobPath);
  const name = item.jobPath[item.jobPath.length - 1] ?? '';
  const out: Json = {
    _class: QUEUE_ITEM_CLASSES[item.state],
    actions: commonActions(item.parameters, item.causes),
    blocked: item.state === 'blocked',
    buildable: item.state === 'buildable',
    id: item.id,
    inQueueSince: item.inQueueSince,
    params: item.paramsText,
    stuck: false,
    task: {
      _class: JENKINS_CLASSES.job,
      name,
      url: jobUrl(root, item.jobPath),
      color: job ? jobColor(job) : 'notbuilt',
    },
    url: `queue/item/${item.id}/`,
    why: item.why(model.now()),
  };
  switch (item.state) {
    case 'waiting':
      out.timestamp = item.timestamp;
      break;
    case 'blocked':
      out.buildableStartMilliseconds = item.buildableStartMilliseconds;
      break;
    case 'buildable':
      out.buildableStartMilliseconds = item.buildableStartMilliseconds;
      out.pending = false;
      break;
    case 'left':
      out.cancelled = item.cancelled;
      out.executable = item.executable ? buildRef(root, item.executable) : null;
      break;
  }
  return out;
}

/** `GET /queue/api/json`. */
export function queueJson(model: JenkinsModel, root: string): Json {
  return {
    _class: JENKINS_CLASSES.queue,
    discoverableItems: [],
    items: model.queuedItems().map((i) => queueItemJson(model, root, i)),
  };
}

/** `GET /whoAmI/api/json`. */
export function whoAmIJson(principal: Principal): Json {
  return {
    _class: 'hudson.security.WhoAmI',
    anonymous: false,
    authenticated: true,
    authorities: ['authenticated'],
    details: null,
    name: principal.userId,
    toString: `UsernamePasswordAuthenticationToken [Principal=${principal.userId}, Authenticated=true, Granted Authorities=[authenticated]]`,
  };
}

/** `GET /crumbIssuer/api/json`. */
export function crumbJson(crumb: string, field: string): Json {
  return { _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb, crumbRequestField: field };
}
