/**
 * What the operator commands share: workflow inputs built from flags and configuration and checked locally with
 * the workflows' own schemas (so bad flags exit 2 before anything starts), the lines that describe where a run
 * is, and the hint a follower prints when a run waits for a person.
 */
import { userInfo } from 'node:os';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { ShepherdConfig } from '../config/load.js';
import { ValidationError } from '../domain/errors.js';
import { isAppName, parseInput, validatePipelineInputSchema, type ValidatePipelineInput } from '../domain/inputs.js';
import type { Progress, StepRecord, WaitingOn } from '../domain/report.js';
import { progressQuery } from '../../workflows/messages.js';
import { UsageError } from './command.js';
import type { z } from 'zod';

/**
 * The app a command acts on: `--app` when given, else the configured one. Workers drive one configured app
 * (APP_REPO_NAME), so another well-formed name is refused here, before anything starts, instead of by the first
 * activity of a run that could never succeed.
 */
export function configuredApp(config: ShepherdConfig, flag: string | undefined): string {
  const apps = config.pipeline.apps.map((a) => a.app.name);
  if (flag === undefined) {
    if (apps.length === 1) return apps[0]!;
    throw new UsageError(
      `--app is required: the pipeline ${config.pipeline.name} has ${apps.length} apps (${apps.join(', ')}); nothing was started`,
    );
  }
  if (apps.includes(flag)) return flag;
  // A malformed name is left to the input schema, whose message states the naming rule.
  if (!isAppName(flag)) return flag;
  throw new UsageError(
    apps.length === 1 && config.pipelineFile === undefined
      ? `--app must be the configured application "${apps[0]}" (APP_REPO_NAME), got "${flag}"; nothing was started`
      : `--app must be an app of the pipeline ${config.pipeline.name} (${apps.join(', ')}), got "${flag}"; nothing was started`,
  );
}

/** The pipeline's environments in promotion order. */
export function pipelineOrder(config: ShepherdConfig): string[] {
  return config.pipeline.environments.map((e) => e.name);
}

/**
 * The settings every run started from the CLI carries: the approval policy (`SHEPHERD_APPROVAL_*`,
 * `SHEPHERD_APPROVERS`), the heartbeat timeout, any wait budget overrides (`*_TIMEOUT`) and what an UNSTABLE build
 * means (`JENKINS_UNSTABLE_BUILDS`).
 */
export function runFields(config: ShepherdConfig): {
  environments?: string[];
  environmentApprovers?: Record<string, string[]>;
  approvalEnvironments: ShepherdConfig['approvals']['environments'][number][];
  approvers: string[];
  approvalTimeout: string;
  approvalSource?: 'gitlab';
  heartbeatTimeout: string;
  unstableBuilds: ShepherdConfig['unstableBuilds'];
  waitBudgets?: { ciBuildStart?: number; build?: number; sync?: number; mergeRequest?: number };
} {
  const t = config.timeouts;
  const waitBudgets = {
    ...(t.jenkinsBuildStartSeconds !== undefined ? { ciBuildStart: t.jenkinsBuildStartSeconds } : {}),
    ...(t.jenkinsBuildSeconds !== undefined ? { build: t.jenkinsBuildSeconds } : {}),
    ...(t.argoSyncSeconds !== undefined ? { sync: t.argoSyncSeconds } : {}),
    ...(t.mergeRequestSeconds !== undefined ? { mergeRequest: t.mergeRequestSeconds } : {}),
  };
  // A declared pipeline names its environments and who approves each; the seed's runs keep today's input.
  const declared = config.pipelineFile !== undefined;
  const approvers: Record<string, string[]> = {};
  for (const e of config.pipeline.environments)
    if (e.approval.approvers.length > 0) approvers[e.name] = [...e.approval.approvers];
  return {
    ...(declared ? { environments: pipelineOrder(config) } : {}),
    ...(declared && Object.keys(approvers).length > 0 ? { environmentApprovers: approvers } : {}),
    approvalEnvironments: [...config.approvals.environments],
    approvers: declared ? [] : [...config.approvals.approvers],
    approvalTimeout: config.approvals.timeout,
    ...(config.approvals.source === 'gitlab' ? { approvalSource: 'gitlab' as const } : {}),
    heartbeatTimeout: t.heartbeat,
    unstableBuilds: config.unstableBuilds,
    ...(Object.keys(waitBudgets).length > 0 ? { waitBudgets } : {}),
  };
}

/**
 * Parses `input` with a workflow's input schema; a problem becomes a UsageError naming the flag, the input field
 * and the rule, e.g. `--to (targetEnv) must be the environment after sourceEnv: dev→stage or stage→prod`.
 */
export function checkInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  flags: Readonly<Record<string, string>>,
): z.output<S> {
  try {
    return parseInput(schema, input);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const { field, rule } = err.facts;
    const flag = flags[field];
    const given = (input as Record<string, unknown> | null)?.[field];
    throw new UsageError(
      `${flag ? `${flag} (${field})` : field} ${rule}${typeof given === 'string' ? `, got "${given}"` : ''}; nothing was started`,
    );
  }
}

/** The flags that set validatePipeline's input, by the input field each sets. */
const VALIDATION_FLAGS = {
  appName: '--app',
  through: '--through',
  mode: '--mode',
  rollback: '--rollback',
  allowUnsettledTarget: '--allow-unsettled-target',
} as const;

/**
 * The validatePipeline input of a run started from the CLI (`validate`, `schedule create`, `demo`): the app, the
 * `--through`/`--mode`/`--rollback`/`--allow-unsettled-target` flags given, the configured run settings (runFields) and any `overrides`,
 * checked with the workflow's own schema so that a bad flag exits 2 naming it before anything starts.
 */
export function validationInput(
  config: ShepherdConfig,
  appName: string,
  values: Readonly<Record<string, unknown>>,
  overrides: Partial<ValidatePipelineInput> = {},
): ValidatePipelineInput {
  const flag = <K extends 'through' | 'mode' | 'rollback'>(k: K) =>
    values[k] === undefined ? {} : { [k]: values[k] as ValidatePipelineInput[K] };
  const raw: ValidatePipelineInput = {
    appName,
    ...flag('through'),
    ...flag('mode'),
    ...flag('rollback'),
    ...(values['allow-unsettled-target'] === true ? { allowUnsettledTarget: true } : {}),
    ...runFields(config),
    ...overrides,
  };
  return checkInput(validatePipelineInputSchema(pipelineOrder(config)), raw, VALIDATION_FLAGS);
}

/** Who runs the command, for the `by` of a supersede request. */
export function operatorName(): string {
  try {
    return userInfo().username || 'shepherd-cli';
  } catch {
    return 'shepherd-cli';
  }
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/**
 * What a step waits on, as a phrase: "waiting for an approval from alice, bob", "waiting for Jenkins build
 * promote #7". The workflows record an approval open to anyone with the ref `anyone`.
 */
export function waitingOnText(on: WaitingOn): string {
  switch (on.kind) {
    case 'approval':
      return on.ref === 'anyone'
        ? 'waiting for an approval (anyone may give it)'
        : `waiting for an approval from ${on.ref}`;
    case 'merge-request':
      return `waiting for merge request ${on.ref}`;
    case 'build':
      return `waiting for Jenkins build ${on.ref}`;
    case 'argo-app':
      return `waiting for Argo CD application ${on.ref}`;
    case 'workload':
      return `waiting for workload ${on.ref}`;
    case 'child-workflow':
      return `waiting for child run ${on.ref}`;
    case 'freeze':
      return `waiting for the freeze window ${on.ref} to close`;
  }
}

/** One line for the step a run is on: what, what it waits on, since when, when it gives up. */
export function currentLine(step: StepRecord, now = Date.now()): string {
  const where = [step.env ? `[${step.env}]` : '', step.name, step.imageTag ? `image ${step.imageTag}` : '']
    .filter(Boolean)
    .join(' ');
  const on = step.waitingOn ? `, ${waitingOnText(step.waitingOn)}` : '';
  // A freeze wait does not give up: it ends when the windows close, and then the run merges.
  const until = step.timeoutAt
    ? step.waitingOn?.kind === 'freeze'
      ? `, frozen until ${step.timeoutAt}`
      : `, gives up at ${step.timeoutAt}`
    : '';
  return `${where}${on}, since ${step.startedAt} (${ago(step.startedAt, now)})${until}`;
}

/** One line per finished step. */
export function stepLines(progress: Progress): string[] {
  return progress.steps
    .filter((s) => s.status !== 'running')
    .map((s) => {
      const mark = s.status === 'succeeded' ? '✓' : s.status === 'failed' ? '✗' : '-';
      const link = s.links?.mergeRequest ?? s.links?.build ?? '';
      const took = s.durationMs !== undefined ? ` (${(s.durationMs / 1000).toFixed(1)}s)` : '';
      const why = s.failure ? `: ${s.failure.type}: ${s.failure.message}` : '';
      return `  ${mark} ${[s.env ? `[${s.env}]` : '', s.name, s.imageTag ?? '', link].filter(Boolean).join(' ')}${took}${why}`;
    });
}

/**
 * While a followed run goes on, prints once per gate which command gives the approval it waits for (on the run
 * itself or on the child promotion it waits on). Returns a stop function.
 */
export function hintApprovals(
  client: Client,
  handle: WorkflowHandle,
  say: (line: string) => void,
  pollMs = 1_000,
): () => void {
  const hinted = new Set<string>();
  let stopped = false;
  // A deadline, so that no query is still retrying when the caller closes the connection.
  const progress = (h: WorkflowHandle) => client.withDeadline(Date.now() + pollMs * 5, () => h.query(progressQuery));
  const gateOf = async (h: WorkflowHandle): Promise<string | undefined> => {
    const p = await progress(h);
    if (p.current?.waitingOn?.kind === 'approval') return h.workflowId;
    if (p.current?.waitingOn?.kind === 'child-workflow') {
      const child = client.workflow.getHandle(p.current.waitingOn.ref);
      const cp = await progress(child);
      if (cp.current?.waitingOn?.kind === 'approval') return child.workflowId;
    }
    return undefined;
  };
  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        const id = await gateOf(handle);
        if (id && !hinted.has(id)) {
          hinted.add(id);
          say(`! ${id} waits for an approval: \`npx shepherd approve ${id} --by NAME\` (or \`reject\`)`);
        }
      } catch {
        // Not queryable yet or already finished: the next poll looks again.
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}
