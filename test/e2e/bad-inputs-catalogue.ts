/**
 * The bad-input catalogue: what Shepherd refuses, through which entry point, naming which field and which rule.
 * Read as a specification; `bad-inputs.test.ts` runs every row against the real entry point (the Temporal CLI, the
 * `approve`/`reject` updates, the `shepherd` CLI and its configuration) and checks that nothing changed.
 */
import { RULES } from '../../src/domain/inputs.js';

/** The app the sandbox world runs; every activity refuses any other. */
export const CONFIGURED_APP = 'example-app';
const UNKNOWN_APP_RULE = `must be the configured app ${JSON.stringify(CONFIGURED_APP)}`;

/** A valid promotion input, spoiled one field at a time below. */
const promotion = { appName: CONFIGURED_APP, sourceEnv: 'dev', targetEnv: 'stage' } as const;
const spoil = (fields: Record<string, unknown>): string => JSON.stringify({ ...promotion, ...fields });
const without = (field: keyof typeof promotion): string =>
  JSON.stringify(Object.fromEntries(Object.entries(promotion).filter(([k]) => k !== field)));

/** A workflow started with `temporal workflow start --type … --input '<input>'`. */
export interface WorkflowInputCase {
  readonly title: string;
  readonly workflow: 'promoteEnvironment' | 'validatePipeline';
  /** The `--input` text exactly as a user types it. */
  readonly input: string;
  /** The field the ValidationError names (its `facts.field`). */
  readonly field: string;
  /** The rule it states (its `facts.rule`). */
  readonly rule: string;
  /**
   * `workflow` (default): the workflow refuses the input before any activity runs. `activity`: the input is well
   * formed but names an app the worker is not configured for; the first activity refuses it, once, before anything
   * changes.
   */
  readonly refusedBy?: 'workflow' | 'activity';
}

export const WORKFLOW_INPUT_CASES: readonly WorkflowInputCase[] = [
  // Wrong or reversed progressions
  {
    title: 'dev→prod skips stage',
    workflow: 'promoteEnvironment',
    input: spoil({ targetEnv: 'prod' }),
    field: 'targetEnv',
    rule: RULES.promotion,
  },
  {
    title: 'stage→dev goes backwards',
    workflow: 'promoteEnvironment',
    input: spoil({ sourceEnv: 'stage', targetEnv: 'dev' }),
    field: 'targetEnv',
    rule: RULES.promotion,
  },
  {
    title: 'prod→stage goes backwards',
    workflow: 'promoteEnvironment',
    input: spoil({ sourceEnv: 'prod', targetEnv: 'stage' }),
    field: 'targetEnv',
    rule: RULES.promotion,
  },
  {
    title: 'dev→dev goes nowhere',
    workflow: 'promoteEnvironment',
    input: spoil({ targetEnv: 'dev' }),
    field: 'targetEnv',
    rule: RULES.promotion,
  },
  // Unknown app or environment
  {
    title: 'an unknown environment as the source',
    workflow: 'promoteEnvironment',
    input: spoil({ sourceEnv: 'qa' }),
    field: 'sourceEnv',
    rule: RULES.environment,
  },
  {
    title: 'an environment in the wrong case',
    workflow: 'promoteEnvironment',
    input: spoil({ targetEnv: 'Stage' }),
    field: 'targetEnv',
    rule: RULES.environment,
  },
  {
    title: 'an unknown environment to validate through',
    workflow: 'validatePipeline',
    input: JSON.stringify({ appName: CONFIGURED_APP, through: 'qa' }),
    field: 'through',
    rule: RULES.environment,
  },
  {
    title: 'an unknown environment in the approval list',
    workflow: 'validatePipeline',
    input: JSON.stringify({ appName: CONFIGURED_APP, approvalEnvironments: ['prod', 'qa'] }),
    field: 'approvalEnvironments.1',
    rule: RULES.environment,
  },
  {
    title: 'a well-formed app the worker does not run (promotion)',
    workflow: 'promoteEnvironment',
    input: spoil({ appName: 'other-app' }),
    field: 'appName',
    rule: UNKNOWN_APP_RULE,
    refusedBy: 'activity',
  },
  {
    title: 'a well-formed app the worker does not run (validation)',
    workflow: 'validatePipeline',
    input: JSON.stringify({ appName: 'other-app' }),
    field: 'appName',
    rule: UNKNOWN_APP_RULE,
    refusedBy: 'activity',
  },
  // Malformed or oversized names and tags
  {
    title: 'an app name in uppercase',
    workflow: 'promoteEnvironment',
    input: spoil({ appName: 'Example-App' }),
    field: 'appName',
    rule: RULES.appName,
  },
  {
    title: 'an app name with a leading dash',
    workflow: 'promoteEnvironment',
    input: spoil({ appName: '-example-app' }),
    field: 'appName',
    rule: RULES.appName,
  },
  {
    title: 'an app name of 54 characters',
    workflow: 'validatePipeline',
    input: JSON.stringify({ appName: 'a'.repeat(54) }),
    field: 'appName',
    rule: RULES.appName,
  },
  {
    title: 'an image tag of 257 characters',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: '1'.repeat(257) }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  {
    title: 'an image tag with a leading dash',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: '-1.0.37' }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  {
    title: 'an image tag ending in .lock',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: '1.0.37.lock' }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  // Characters that would break a branch name, a URL or a shell
  {
    title: 'an image tag with ".."',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: '1.0..37' }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  {
    title: 'an image tag with "~"',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: '1.0.37~1' }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  {
    title: 'an image tag with "^"',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: '1.0.37^2' }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  {
    title: 'an image tag with ":"',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: 'app:1.0.37' }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  {
    title: 'an image tag with a space',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: '1.0 37' }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  {
    title: 'an image tag with a slash',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: 'feature/x' }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  {
    title: 'an image tag with a newline',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: '1.0.37\nmain' }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  {
    title: 'an image tag with a NUL byte',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: '1.0.37\u0000' }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  {
    title: 'an image tag with an encoded slash (%2F)',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: '1.0%2F37' }),
    field: 'imageTag',
    rule: RULES.imageTag,
  },
  {
    title: 'an app name carrying ";rm -rf /"',
    workflow: 'promoteEnvironment',
    input: spoil({ appName: 'example-app;rm -rf /' }),
    field: 'appName',
    rule: RULES.appName,
  },
  {
    title: 'an app name carrying "$(id)"',
    workflow: 'validatePipeline',
    input: JSON.stringify({ appName: '$(id)' }),
    field: 'appName',
    rule: RULES.appName,
  },
  {
    title: 'an app name carrying backticks',
    workflow: 'promoteEnvironment',
    input: spoil({ appName: '`id`' }),
    field: 'appName',
    rule: RULES.appName,
  },
  {
    title: 'an app name with an encoded slash (%2F)',
    workflow: 'promoteEnvironment',
    input: spoil({ appName: 'p2c%2Fexample-app' }),
    field: 'appName',
    rule: RULES.appName,
  },
  {
    title: 'a run marker carrying a shell command',
    workflow: 'promoteEnvironment',
    input: spoil({ runMarker: 'run-1;rm -rf /' }),
    field: 'runMarker',
    rule: RULES.runMarker,
  },
  // Missing or empty required fields
  {
    title: 'no appName',
    workflow: 'promoteEnvironment',
    input: without('appName'),
    field: 'appName',
    rule: RULES.required,
  },
  {
    title: 'no targetEnv',
    workflow: 'promoteEnvironment',
    input: without('targetEnv'),
    field: 'targetEnv',
    rule: RULES.required,
  },
  {
    title: 'an empty appName',
    workflow: 'validatePipeline',
    input: JSON.stringify({ appName: '' }),
    field: 'appName',
    rule: RULES.empty,
  },
  {
    title: 'an empty image tag',
    workflow: 'promoteEnvironment',
    input: spoil({ imageTag: '' }),
    field: 'imageTag',
    rule: RULES.empty,
  },
  { title: 'an empty object', workflow: 'validatePipeline', input: '{}', field: 'appName', rule: RULES.required },
  {
    title: 'an empty approver name',
    workflow: 'promoteEnvironment',
    input: spoil({ approvers: [''] }),
    field: 'approvers.0',
    rule: RULES.empty,
  },
  // Wrong types
  {
    title: 'appName as a number',
    workflow: 'promoteEnvironment',
    input: spoil({ appName: 42 }),
    field: 'appName',
    rule: RULES.string,
  },
  {
    title: 'appName as an array',
    workflow: 'validatePipeline',
    input: JSON.stringify({ appName: [CONFIGURED_APP] }),
    field: 'appName',
    rule: RULES.string,
  },
  {
    title: 'appName as null',
    workflow: 'promoteEnvironment',
    input: spoil({ appName: null }),
    field: 'appName',
    rule: RULES.string,
  },
  {
    title: 'merge as the string "yes"',
    workflow: 'promoteEnvironment',
    input: spoil({ merge: 'yes' }),
    field: 'merge',
    rule: RULES.boolean,
  },
  {
    title: 'approvers as one string instead of a list',
    workflow: 'promoteEnvironment',
    input: spoil({ approvers: 'alice' }),
    field: 'approvers',
    rule: RULES.approvers,
  },
  {
    title: 'approvalEnvironments as one string instead of a list',
    workflow: 'validatePipeline',
    input: JSON.stringify({ appName: CONFIGURED_APP, approvalEnvironments: 'prod' }),
    field: 'approvalEnvironments',
    rule: RULES.environments,
  },
  {
    title: 'a mode that does not exist',
    workflow: 'promoteEnvironment',
    input: spoil({ mode: 'ssh' }),
    field: 'mode',
    rule: RULES.mode,
  },
  {
    title: 'a rollback scope that does not exist',
    workflow: 'validatePipeline',
    input: JSON.stringify({ appName: CONFIGURED_APP, rollback: 'everything' }),
    field: 'rollback',
    rule: RULES.rollback,
  },
  {
    title: 'an approval timeout in words',
    workflow: 'promoteEnvironment',
    input: spoil({ approvalTimeout: '1 week' }),
    field: 'approvalTimeout',
    rule: RULES.duration,
  },
  { title: 'the input as null', workflow: 'promoteEnvironment', input: 'null', field: 'input', rule: RULES.object },
  {
    title: 'the input as a string instead of an object',
    workflow: 'validatePipeline',
    input: JSON.stringify(CONFIGURED_APP),
    field: 'input',
    rule: RULES.object,
  },
  {
    title: 'the input as an array',
    workflow: 'promoteEnvironment',
    input: JSON.stringify([promotion]),
    field: 'input',
    rule: RULES.object,
  },
  // Unknown fields
  {
    title: 'a misspelt field (imagetag)',
    workflow: 'promoteEnvironment',
    input: spoil({ imagetag: '1.0.37' }),
    field: 'imagetag',
    rule: RULES.unknownKey,
  },
  {
    title: 'a field validatePipeline does not have (scenario)',
    workflow: 'validatePipeline',
    input: JSON.stringify({ appName: CONFIGURED_APP, scenario: 'stage-degraded' }),
    field: 'scenario',
    rule: RULES.unknownKey,
  },
];

/** An `approve` or `reject` update sent to a promotion that waits at its approval gate (approvers: alice). */
export interface UpdateCase {
  readonly title: string;
  readonly update: 'approve' | 'reject';
  /** The payload as JSON text; undefined: the update is sent without an argument. */
  readonly payload: string | undefined;
  /** `temporal-cli`: `temporal workflow update execute --name … --input …`; `sdk`: a Temporal client's executeUpdate. */
  readonly via: 'temporal-cli' | 'sdk';
  readonly field: string;
  readonly rule: string;
}

export const APPROVER = 'alice';

export const UPDATE_CASES: readonly UpdateCase[] = [
  {
    title: 'approve without "by"',
    update: 'approve',
    payload: JSON.stringify({ reason: 'looks good' }),
    via: 'temporal-cli',
    field: 'by',
    rule: RULES.required,
  },
  {
    title: 'approve with an empty "by"',
    update: 'approve',
    payload: JSON.stringify({ by: '' }),
    via: 'temporal-cli',
    field: 'by',
    rule: RULES.decider,
  },
  {
    title: 'approve with a blank "by"',
    update: 'approve',
    payload: JSON.stringify({ by: '   ' }),
    via: 'sdk',
    field: 'by',
    rule: RULES.decider,
  },
  {
    title: 'approve with "by" as a number',
    update: 'approve',
    payload: JSON.stringify({ by: 42 }),
    via: 'temporal-cli',
    field: 'by',
    rule: RULES.string,
  },
  {
    title: 'approve with "by" as a list',
    update: 'approve',
    payload: JSON.stringify({ by: [APPROVER] }),
    via: 'sdk',
    field: 'by',
    rule: RULES.string,
  },
  {
    title: 'approve with a "by" of 201 characters',
    update: 'approve',
    payload: JSON.stringify({ by: 'a'.repeat(201) }),
    via: 'sdk',
    field: 'by',
    rule: RULES.deciderLength,
  },
  {
    title: 'approve by someone not on the approvers list',
    update: 'approve',
    payload: JSON.stringify({ by: 'mallory' }),
    via: 'temporal-cli',
    field: 'by',
    rule: 'must be one of the approvers for stage',
  },
  {
    title: 'approve with the payload as a string',
    update: 'approve',
    payload: JSON.stringify(APPROVER),
    via: 'temporal-cli',
    field: 'input',
    rule: RULES.object,
  },
  {
    title: 'approve with the payload as null',
    update: 'approve',
    payload: 'null',
    via: 'sdk',
    field: 'input',
    rule: RULES.object,
  },
  {
    title: 'approve with no payload at all',
    update: 'approve',
    payload: undefined,
    via: 'sdk',
    field: 'input',
    rule: RULES.object,
  },
  {
    title: 'approve with an unknown field',
    update: 'approve',
    payload: JSON.stringify({ by: APPROVER, force: true }),
    via: 'temporal-cli',
    field: 'force',
    rule: RULES.unknownKey,
  },
  {
    title: 'reject without "by"',
    update: 'reject',
    payload: '{}',
    via: 'temporal-cli',
    field: 'by',
    rule: RULES.required,
  },
  {
    title: 'reject with the reason as a number',
    update: 'reject',
    payload: JSON.stringify({ by: APPROVER, reason: 42 }),
    via: 'sdk',
    field: 'reason',
    rule: RULES.reason,
  },
  {
    title: 'reject with a reason of 2001 characters',
    update: 'reject',
    payload: JSON.stringify({ by: APPROVER, reason: 'x'.repeat(2001) }),
    via: 'sdk',
    field: 'reason',
    rule: RULES.reason,
  },
  {
    title: 'reject by someone not on the approvers list',
    update: 'reject',
    payload: JSON.stringify({ by: 'mallory', reason: 'no' }),
    via: 'sdk',
    field: 'by',
    rule: 'must be one of the approvers for stage',
  },
];

/**
 * A `shepherd` command line with bad flags or bad configuration. Every one exits 2 before it starts anything.
 * `mentions`: what the error output must contain (the flag or variable, and the rule); `hidden`: values that must
 * not appear (secrets). `envFile`: the contents of a file passed with `--vars-file`.
 */
export interface CliCase {
  readonly title: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly envFile?: string;
  readonly mentions: readonly (string | RegExp)[];
  readonly hidden?: readonly string[];
  /** Also run through `bin/shepherd.js` in its own process, to prove the exit status (the rest run `main()` in-process). */
  readonly binary?: true;
}

const SECRET_TOKEN = 'glpat-catalogue-secret-7f3a';

export const CLI_CASES: readonly CliCase[] = [
  // Flags
  { title: 'an unknown command', args: ['frobnicate'], mentions: ['unknown command "frobnicate"'] },
  {
    title: 'an unknown flag of demo',
    args: ['demo', '--scenarios', 'stage-degraded'],
    mentions: ['unknown option --scenarios; did you mean --scenario?', 'Usage: shepherd demo'],
  },
  {
    title: 'an unknown demo scenario',
    args: ['demo', '--scenario', 'nope'],
    mentions: ['Unknown scenario "nope"', 'Known scenarios: '],
  },
  {
    title: 'a demo scenario carrying a shell command',
    args: ['demo', '--scenario', 'stage-degraded;rm -rf /'],
    mentions: ['Unknown scenario "stage-degraded;rm -rf /"'],
  },
  {
    title: 'a demo mode that does not exist',
    args: ['demo', '--mode', 'ssh'],
    mentions: ['--mode must be jenkins or gitlab, got ssh'],
    binary: true,
  },
  {
    title: 'demo through an unknown environment',
    args: ['demo', '--through', 'qa'],
    mentions: ["--through must be one of the pipeline's environments (dev, stage, prod), got qa"],
  },
  {
    title: 'demo through an environment in the wrong case',
    args: ['demo', '--through', 'Prod'],
    mentions: ["--through must be one of the pipeline's environments (dev, stage, prod), got Prod"],
  },
  {
    title: 'a demo flag without its value',
    args: ['demo', '--mode'],
    mentions: ['--mode needs a value', 'Usage: shepherd demo'],
  },
  { title: 'a stray argument to demo', args: ['demo', 'prod'], mentions: ['unexpected argument prod'] },
  {
    title: 'a sandbox time scale of 0',
    args: ['sandbox', '--time-scale', '0'],
    mentions: ['--time-scale must be a number above 0 and at most 10, got 0'],
  },
  {
    title: 'a sandbox time scale that is not a number',
    args: ['sandbox', '--time-scale', 'fast'],
    mentions: ['--time-scale must be a number above 0 and at most 10, got fast'],
  },
  {
    title: 'a negative sandbox time scale',
    args: ['sandbox', '--time-scale=-1'],
    mentions: ['--time-scale must be a number above 0 and at most 10, got -1'],
  },
  {
    title: 'an unknown sandbox scenario',
    args: ['sandbox', '--scenario', 'nope'],
    mentions: ['Unknown scenario "nope"'],
  },
  {
    title: 'an unknown config subcommand',
    args: ['config', 'show'],
    mentions: ['unknown subcommand show (use check or variables)'],
  },
  // Operator commands: refused before they connect to Temporal or start a run
  {
    title: 'promote dev→prod, skipping stage',
    args: ['promote', '--from', 'dev', '--to', 'prod'],
    mentions: [`--to (targetEnv) ${RULES.promotion}, got "prod"; nothing was started`],
  },
  {
    title: 'promote backwards, stage→dev',
    args: ['promote', '--from', 'stage', '--to', 'dev'],
    mentions: [`--to (targetEnv) ${RULES.promotion}`],
  },
  {
    title: 'promote from an unknown environment',
    args: ['promote', '--from', 'qa', '--to', 'stage'],
    mentions: [`--from (sourceEnv) ${RULES.environment}, got "qa"`],
  },
  { title: 'promote without --from', args: ['promote', '--to', 'stage'], mentions: ['--from is required'] },
  {
    title: 'promote an image tag with ".."',
    args: ['promote', '--from', 'dev', '--to', 'stage', '--image-tag', '1.0..37'],
    mentions: [`--image-tag (imageTag) ${RULES.imageTag}, got "1.0..37"`],
  },
  {
    title: 'promote an image tag carrying "$(id)"',
    args: ['promote', '--from', 'dev', '--to', 'stage', '--image-tag', '$(id)'],
    mentions: [`--image-tag (imageTag) ${RULES.imageTag}`],
  },
  {
    title: 'promote an app name in uppercase',
    args: ['promote', '--app', 'Example-App', '--from', 'dev', '--to', 'stage'],
    mentions: [`--app (appName) ${RULES.appName}, got "Example-App"`],
  },
  {
    title: 'promote in a mode that does not exist',
    args: ['promote', '--from', 'dev', '--to', 'stage', '--mode', 'ssh'],
    mentions: [`--mode (mode) ${RULES.mode}`],
  },
  {
    title: 'validate through an unknown environment',
    args: ['validate', '--through', 'qa'],
    mentions: [`--through (through) ${RULES.environment}, got "qa"`],
  },
  {
    title: 'validate with an unknown rollback scope',
    args: ['validate', '--rollback', 'everything'],
    mentions: [`--rollback (rollback) ${RULES.rollback}`],
  },
  {
    title: 'validate an app name with a leading dash',
    args: ['validate', '--app=-example-app'],
    mentions: [`--app (appName) ${RULES.appName}`],
  },
  {
    title: 'validate a well-formed app the workers do not run',
    args: ['validate', '--app', 'other-app'],
    mentions: [
      '--app must be the configured application "example-app" (APP_REPO_NAME), got "other-app"; nothing was started',
    ],
  },
  {
    title: 'promote a well-formed app the workers do not run',
    args: ['promote', '--app', 'other-app', '--from', 'dev', '--to', 'stage'],
    mentions: ['--app must be the configured application "example-app"'],
  },
  {
    title: 'validate with reports but without following the run',
    args: ['validate', '--reports', '/tmp/x'],
    mentions: ['--reports needs --follow'],
  },
  { title: 'approve without --by', args: ['approve', '--env', 'prod'], mentions: ['--by NAME is required'] },
  {
    title: 'reject with a blank --by',
    args: ['reject', '--env', 'prod', '--by', '  '],
    mentions: ['--by NAME is required'],
  },
  {
    title: 'approve in an unknown environment',
    args: ['approve', '--env', 'qa', '--by', 'alice'],
    mentions: ['--env must be one of dev, stage, prod, got qa'],
  },
  {
    title: 'approve without naming the promotion',
    args: ['approve', '--by', 'alice'],
    mentions: ['name the promotion'],
  },
  {
    title: 'status of an app name with a space',
    args: ['status', '--app', 'example app'],
    mentions: ['--app must be a Kubernetes name, got example app'],
  },
  { title: 'a schedule without --cron', args: ['schedule', 'create'], mentions: ['--cron is required'] },
  {
    title: 'a schedule with a cron that is not one',
    args: ['schedule', 'create', '--cron', 'every night'],
    mentions: ['--cron: '],
  },
  {
    title: 'a schedule in a time zone that does not exist',
    args: ['schedule', 'create', '--cron', '0 2 * * *', '--timezone', 'Mars/Olympus'],
    mentions: ['--timezone must be an IANA time zone'],
  },
  {
    title: 'a schedule action that does not exist',
    args: ['schedule', 'frobnicate'],
    mentions: ['unknown action "frobnicate"'],
  },
  // Environment variables
  {
    title: 'a port out of range',
    args: ['config', 'check'],
    env: { SHEPHERD_TEMPORAL_PORT: '70000' },
    mentions: ['SHEPHERD_TEMPORAL_PORT: must be a port 1-65535, got "70000"'],
  },
  {
    title: 'a Temporal address with a shell command',
    args: ['config', 'check'],
    env: { TEMPORAL_ADDRESS: 'localhost:7233;rm -rf /' },
    mentions: ['TEMPORAL_ADDRESS: must be host:port'],
  },
  {
    title: 'a task queue with "$(id)"',
    args: ['config', 'check'],
    env: { TEMPORAL_TASK_QUEUE: '$(id)' },
    mentions: ['TEMPORAL_TASK_QUEUE: must be letters, digits, . _ - /'],
  },
  {
    title: 'an app name in uppercase',
    args: ['config', 'check'],
    env: { APP_REPO_NAME: 'Example-App' },
    mentions: ['APP_REPO_NAME: must be a Kubernetes name (kebab-case)'],
  },
  {
    title: 'an unknown approval environment',
    args: ['config', 'check'],
    env: { SHEPHERD_APPROVAL_ENVIRONMENTS: 'prod,qa' },
    mentions: ['SHEPHERD_APPROVAL_ENVIRONMENTS: must be a comma-separated list of dev, stage, prod'],
  },
  {
    title: 'an approval timeout in words',
    args: ['config', 'check'],
    env: { SHEPHERD_APPROVAL_TIMEOUT: '1 week' },
    mentions: ['SHEPHERD_APPROVAL_TIMEOUT: must be a duration like 30m, 24h, 2d'],
  },
  {
    title: 'a GitLab URL without a scheme, and the credentials it then needs missing',
    args: ['config', 'check'],
    env: { GITLAB_URL_EXTERNAL: 'gitlab.example.com/' },
    mentions: [
      'GITLAB_URL_EXTERNAL: must be an http(s) URL',
      'GITLAB_TOKEN: is required',
      'JENKINS_URL_EXTERNAL: is required',
      'JENKINS_USER: is required',
      'JENKINS_TOKEN: is required',
    ],
  },
  {
    title: 'a webhook URL that is not http(s), whose value is a secret',
    args: ['config', 'check'],
    env: { SHEPHERD_NOTIFY_WEBHOOK_URL: `ftp://hooks.example.com/${SECRET_TOKEN}` },
    mentions: ['SHEPHERD_NOTIFY_WEBHOOK_URL: must be an http(s) URL (value hidden)'],
    hidden: [SECRET_TOKEN],
    binary: true,
  },
  {
    title: 'a bad variable stops demo before it starts anything',
    args: ['demo'],
    env: { SHEPHERD_UI_PORT: '0' },
    mentions: ['SHEPHERD_UI_PORT: must be a port 1-65535, got "0"'],
  },
  {
    title: 'the old --env-file option, which Node.js reads itself',
    args: ['config', 'check', '--env-file', '/dev/null'],
    mentions: ['--env-file is now --vars-file', 'Usage: shepherd config'],
    binary: true,
  },
  {
    title: 'a misspelt option',
    args: ['promote', '--form', 'dev', '--to', 'stage'],
    mentions: ['unknown option --form; did you mean --from?', 'Usage: shepherd promote'],
  },
  // Env files
  {
    title: 'an env file with several bad lines, each named',
    args: ['config', 'check'],
    envFile: 'GITLAB_GROUP=p2c\nnot an assignment\nGITLAB_TOKEN="unterminated\nAPP-NAME=x\n',
    mentions: [/:2: expected KEY=value/, /:3: unterminated double quote in GITLAB_TOKEN/, /:4: expected KEY=value/],
  },
  {
    title: 'an env-file line that is not KEY=value',
    args: ['config', 'check'],
    envFile: 'GITLAB_GROUP=p2c\nthis is not an assignment\n',
    mentions: [/:2: expected KEY=value/],
    binary: true,
  },
  {
    title: 'an env-file value with an unterminated quote, whose value is a secret',
    args: ['config', 'check'],
    envFile: `GITLAB_TOKEN="${SECRET_TOKEN}\n`,
    mentions: [/:1: unterminated double quote in GITLAB_TOKEN/],
    hidden: [SECRET_TOKEN],
  },
  {
    title: 'an env-file variable name with a dash',
    args: ['config', 'check'],
    envFile: 'GITLAB-TOKEN=x\n',
    mentions: [/:1: expected KEY=value/],
  },
  {
    title: 'an env file that does not exist',
    args: ['config', 'check', '--vars-file', '/nonexistent/infra.env'],
    mentions: ['/nonexistent/infra.env:0: cannot read the env file (ENOENT)'],
    binary: true,
  },
  {
    title: 'an env file with every problem listed at once',
    args: ['config', 'check'],
    envFile: `JENKINS_URL_EXTERNAL=jenkins.example.com\nJENKINS_TOKEN=${SECRET_TOKEN}\nARGOCD_SYNC_TIMEOUT=5 minutes\n`,
    mentions: [
      'JENKINS_URL_EXTERNAL: must be an http(s) URL',
      'ARGOCD_SYNC_TIMEOUT: must be a duration like 90s, 15m, 1h, or whole seconds (3600); 1s to 7d',
      'GITLAB_TOKEN: is required',
      'JENKINS_USER: is required',
    ],
    hidden: [SECRET_TOKEN],
  },
];
