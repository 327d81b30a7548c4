/**
 * The pipeline file's parser: every problem of a file is reported at once, each with its path in the file and its
 * line; what the file leaves out is filled in as documented; the seed's file written out is the default pipeline.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { PROJECT_ROOT } from '../../../src/config/paths.js';
import { seedPipeline } from '../../../src/config/pipeline.js';
import {
  loadPipelineFile,
  parsePipeline,
  PipelineFileError,
  type PipelineProblem,
} from '../../../src/config/pipeline-file.js';
import { SEED_DEFAULTS } from '../../support/pipeline-defaults.js';

const DEFAULTS = SEED_DEFAULTS;

function problemsOf(text: string): readonly PipelineProblem[] {
  try {
    parsePipeline(text, DEFAULTS, 'broken.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineFileError);
    return (err as PipelineFileError).problems;
  }
  throw new Error('the file was accepted');
}

// Line numbers matter: the test reads them back. Each line with a problem is marked on the right.
const MANY_PROBLEMS = `name: broken
color: blue                      # line 2: unknown key
clusters:
  main: {}
environments:
  - name: dev
  - name: Stage_1                # line 7: bad environment name
  - name: prod
    branch: ""                   # line 9: empty branch
    cluster: far-away            # line 10: unknown cluster
    freeze:
      timeZone: Mars/Olympus     # line 12: bad time zone
      weekly:
        - from: Fri 25:00        # line 14: bad freeze time
          to: Mon 08:00
  - name: dev                    # line 16: duplicate environment
    directory: envs/dev
`;

describe('a malformed pipeline file', () => {
  it('lists every problem at once, each with its path in the file and its line', () => {
    const problems = problemsOf(MANY_PROBLEMS);
    const at = (path: string) => problems.filter((p) => p.path === path);
    expect(at('color')).toEqual([{ path: 'color', line: 2, message: 'is not a field of the pipeline file here' }]);
    expect(at('apps')).toEqual([{ path: 'apps', line: 1, message: expect.stringMatching(/expected array/i) }]);
    expect(at('environments[1].name')).toEqual([
      { path: 'environments[1].name', line: 7, message: expect.stringMatching(/lowercase letters/) },
    ]);
    expect(at('environments[2].branch')).toEqual([
      { path: 'environments[2].branch', line: 9, message: 'must not be empty' },
    ]);
    expect(at('environments[2].cluster')).toEqual([
      { path: 'environments[2].cluster', line: 10, message: expect.stringMatching(/cluster "far-away".*`clusters`/) },
    ]);
    expect(at('environments[2].freeze.timeZone')).toEqual([
      { path: 'environments[2].freeze.timeZone', line: 12, message: expect.stringMatching(/IANA time zone/) },
    ]);
    expect(at('environments[2].freeze.weekly[0].from')).toEqual([
      { path: 'environments[2].freeze.weekly[0].from', line: 14, message: expect.stringMatching(/"Fri 16:00"/) },
    ]);
    expect(at('environments[3].name')).toEqual([
      { path: 'environments[3].name', line: 16, message: 'repeats environment "dev"' },
    ]);
    expect(problems).toHaveLength(8);
  });

  it('reports repeated apps and environments that share their files', () => {
    const problems = problemsOf(`environments:
  - name: dev
    branch: main
  - name: stage
    branch: main
apps:
  - name: example-app
  - name: example-app
`);
    expect(problems).toEqual([
      {
        path: 'environments[1].branch',
        line: 5,
        message: 'shares its files with environments[0]: give each environment its own branch or directory',
      },
      { path: 'apps[1].name', line: 8, message: 'repeats app "example-app"' },
    ]);
  });

  it('names a helm declaration without a key by its path', () => {
    const problems = problemsOf(`environments: [{ name: dev }, { name: prod }]
apps:
  - name: example-app
    image:
      - format: helm
        file: values.yaml
`);
    expect(problems).toEqual([
      { path: 'apps[0].image[0].key', line: 5, message: expect.stringMatching(/expected string/i) },
    ]);
    expect(
      problemsOf(`environments: [{ name: dev }, { name: prod }]
apps:
  - name: example-app
    image: [{ format: helm, file: values.yaml, key: image.tag }, { format: chart, file: Chart.yaml }]
`),
    ).toEqual([
      { path: 'apps[0].image[1].format', line: 4, message: expect.stringMatching(/cue.*yaml.*kustomize.*helm/) },
    ]);
  });

  it('reports a YAML syntax error with its line, before any schema check', () => {
    const problems = problemsOf(`environments:
  - name: dev
  - name: [stage
apps: []
`);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.path === '(YAML)')).toBe(true);
    expect(problems[0]).toEqual({ path: '(YAML)', line: 4, message: expect.stringMatching(/flow sequence/i) });
  });

  it('says in its message how many problems there are, where each is and what to do', () => {
    let message = '';
    try {
      parsePipeline('environments: [{ name: dev }]\napps: []\n', DEFAULTS, 'short.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^the pipeline file short\.yaml has 2 problems:/);
    expect(message).toMatch(/ {2}environments \(line 1\): must list at least two environments/);
    expect(message).toMatch(/ {2}apps \(line 2\): must list at least one app/);
    expect(message).toMatch(/What to do: fix each one/);
  });

  it('names a file it cannot read', () => {
    expect(() => loadPipelineFile('no-such-pipeline.yaml', DEFAULTS, PROJECT_ROOT)).toThrow(
      /no-such-pipeline\.yaml has 1 problem:\n {2}\(the file\): cannot be read/,
    );
  });
});

describe('a pipeline file that leaves fields out', () => {
  const pipeline = parsePipeline(
    `environments:
  - name: qa
    directory: envs/qa/
  - name: live
    cluster: prod
    freeze:
      weekly: [{ from: Fri 16:00, to: Mon 08:00 }]
clusters:
  prod: { context: prod-ctx }
apps:
  - name: web-app
    version: { format: npm }
`,
    DEFAULTS,
  );

  it('gets the seed’s defaults for what it does not say', () => {
    expect(pipeline.name).toBe('pipeline');
    expect(pipeline.promotion).toEqual({ mode: 'jenkins' });
    expect(pipeline.environments[0]).toEqual({
      name: 'qa',
      branch: 'main',
      directory: 'envs/qa',
      namespace: 'qa',
      argoApp: '{app}-{env}',
      approval: { required: false, approvers: [] },
      manualSync: false,
    });
    expect(pipeline.environments[1]).toMatchObject({
      name: 'live',
      branch: 'live',
      cluster: 'prod',
      freeze: { timeZone: 'UTC', policy: 'wait', dates: [], weekly: [{ from: 'Fri 16:00', to: 'Mon 08:00' }] },
    });
    expect(pipeline.clusters).toEqual({ prod: { context: 'prod-ctx' } });
    const [app] = pipeline.apps;
    expect(app!.app).toEqual({ name: 'web-app', cueName: 'webApp' });
    expect(app!.environmentOrder).toEqual(['qa', 'live']);
    expect(app!.gitlab).toMatchObject({
      appProject: 'p2c/web-app',
      deploymentsProject: 'p2c/k8s-deployments',
      versionFile: 'package.json',
      versionFormat: 'npm',
      imageFiles: ['env.cue', 'manifests/webApp/webApp.yaml'],
      branches: { dev: 'update-dev-{tag}', promotion: 'promote-{target}-{tag}' },
    });
    expect(app!.jenkins).toEqual({
      appJob: ['web-app', 'main'],
      promoteJob: ['promote-environment'],
      promoteParameters: { app: 'APP_NAME', source: 'SOURCE_ENV', target: 'TARGET_ENV', tag: 'IMAGE_TAG' },
      appRepoUrls: [],
    });
    expect(app!.environments['live']).toMatchObject({ argoApp: 'web-app-live', namespace: 'live', cluster: 'prod' });
    expect(app!.registry).toEqual({ external: 'docker.jmann.local', group: 'p2c' });
    expect(app!.workload).toEqual({ deployment: 'web-app', container: undefined });
  });
});

describe('examples/pipelines/seed.yaml', () => {
  it('is the default pipeline (no file, the default variables) written out, but for its name', () => {
    const byDefault = loadConfig({ env: {} });
    const fromFile = loadConfig({ env: { SHEPHERD_PIPELINE: join(PROJECT_ROOT, 'examples/pipelines/seed.yaml') } });
    expect(byDefault.pipelineFile).toBeUndefined();
    expect(fromFile.pipelineFile).toBe(join(PROJECT_ROOT, 'examples/pipelines/seed.yaml'));
    expect({ ...fromFile.pipeline, name: 'seed' }).toEqual(seedPipeline(byDefault));
    expect(fromFile.pipeline.apps[0]).toEqual(byDefault.pipeline.apps[0]);
  });
});
