import { describe, expect, it } from 'vitest';
import { bumpVersion, readImage, writeImage } from '../../activities/gitlab/declarations/index.js';
import {
  carriesRunMarker,
  deployBranchMatcher,
  promotionBranch,
  runBranchPrefixes,
  tagOfBranch,
} from '../../activities/gitlab/edits.js';
import { ValidationError } from '../../src/domain/errors.js';
import { seedImageDeclarations, type PipelineLayout } from '../../src/domain/pipeline.js';

const POM = [
  '<project>',
  '  <parent>',
  '    <version>3.8.1</version>',
  '  </parent>',
  '  <artifactId>example-app</artifactId>',
  '  <version>1.0.36-SNAPSHOT</version>',
  '  <dependency><version>2.0.0</version></dependency>',
  '</project>',
  '',
].join('\n');

const ENV_CUE = [
  'package envs',
  '',
  'stage: otherApp: apps.otherApp & {',
  '\tappConfig: deployment: image: "reg/p2c/other-app:9.9.9"',
  '}',
  'stage: exampleApp: apps.exampleApp & {',
  '\tappConfig: {',
  '\t\tdeployment: {',
  '\t\t\timage:    "reg/p2c/example-app:1.0.0-aaaaaaa"',
  '\t\t\treplicas: 2',
  '\t\t}',
  '\t}',
  '}',
  '',
].join('\n');

const MANIFEST = [
  'spec:',
  '  template:',
  '    spec:',
  '      containers:',
  '        - image: reg/p2c/example-app:1.0.0-aaaaaaa',
  '          name: example-app',
  '        - image: "envoy:1.30"',
  '          name: proxy',
  '',
].join('\n');

const [CUE, YAML] = seedImageDeclarations('exampleApp');
const SEED_CONTEXT = {
  app: 'example-app',
  cueName: 'exampleApp',
  env: 'stage',
  container: 'example-app',
  repository: 'reg/p2c/example-app',
};

/** Just enough of a layout for the branch names: the app, the order and (optionally) the templates. */
function layoutWith(branches?: { dev: string; promotion: string }, order = ['dev', 'stage', 'prod']): PipelineLayout {
  return {
    app: { name: 'example-app', cueName: 'exampleApp' },
    environmentOrder: order,
    gitlab: { ...(branches ? { branches } : {}) },
  } as unknown as PipelineLayout;
}

describe('the seed layout’s files, through the declarations library', () => {
  it('raises the project version by one patch, keeping the suffix and leaving the parent and dependencies alone', () => {
    const bump = bumpVersion('maven', POM, 'pom.xml');
    expect(bump).toMatchObject({ from: '1.0.36-SNAPSHOT', to: '1.0.37-SNAPSHOT' });
    expect(bump.content).toBe(POM.replace('<version>1.0.36-SNAPSHOT</version>', '<version>1.0.37-SNAPSHOT</version>'));
  });

  it('refuses a version that is not numeric with a ValidationError naming the version file', () => {
    expect(() => bumpVersion('maven', '<project><version>latest</version></project>', 'pom.xml')).toThrow(
      ValidationError,
    );
    expect(() => bumpVersion('maven', '<project></project>', 'pom.xml')).toThrow(/pom\.xml must contain/);
  });

  it('sets the image only inside the app block of the environment in env.cue', () => {
    const next = writeImage(CUE!, ENV_CUE, SEED_CONTEXT, 'reg/p2c/example-app:1.0.1-bbbbbbb', 'env.cue');
    expect(readImage(CUE!, next, SEED_CONTEXT, 'env.cue')).toBe('reg/p2c/example-app:1.0.1-bbbbbbb');
    expect(next).toContain('other-app:9.9.9');
    expect(next.split('\n').filter((l, i) => l !== ENV_CUE.split('\n')[i])).toHaveLength(1);
  });

  it('sets the image of the app container in a manifest and keeps sidecars', () => {
    const next = writeImage(YAML!, MANIFEST, SEED_CONTEXT, 'reg/p2c/example-app:1.0.1-bbbbbbb', 'm.yaml');
    expect(next).toContain('- image: reg/p2c/example-app:1.0.1-bbbbbbb');
    expect(next).toContain('- image: "envoy:1.30"');
    const missing = { ...SEED_CONTEXT, container: 'missing-app' };
    expect(() => writeImage(YAML!, MANIFEST, missing, 'x:1', 'm.yaml')).toThrow(ValidationError);
  });

  it('reads the image of the app container in a manifest, not a sidecar, and refuses two different ones', () => {
    expect(readImage(YAML!, MANIFEST, SEED_CONTEXT, 'm.yaml')).toMatch(/\/example-app:/);
    const twice = `${MANIFEST}---\nspec:\n  containers:\n    - name: example-app\n      image: reg/p2c/example-app:2.0.0-ccccccc\n`;
    expect(() => readImage(YAML!, twice, SEED_CONTEXT, 'm.yaml')).toThrow(/different images for the container/);
  });
});

describe('the branch names of the merge requests', () => {
  it('reads image tags from the seed’s branch names', () => {
    const seed = layoutWith();
    expect(tagOfBranch(seed, 'update-dev-1.0.37-SNAPSHOT-abc1234', 'dev')).toBe('1.0.37-SNAPSHOT-abc1234');
    expect(tagOfBranch(seed, 'promote-stage-1.0.37-abc', 'stage')).toBe('1.0.37-abc');
    expect(tagOfBranch(seed, 'promote-prod-1.0.37-abc', 'stage')).toBeUndefined();
  });

  it('matches the dev branch by tag exactly, or by the version its tags start with', () => {
    const seed = layoutWith();
    expect(deployBranchMatcher(seed, 'dev', { imageTag: '1.0.37-abc' })).toMatchObject({
      exact: 'update-dev-1.0.37-abc',
    });
    const byVersion = deployBranchMatcher(seed, 'dev', { version: '1.0.37' });
    expect(byVersion).toMatchObject({ prefix: 'update-dev-1.0.37-', describe: 'update-dev-1.0.37-*' });
    expect(byVersion.exact).toBeUndefined();
    expect(byVersion.matches('update-dev-1.0.37-abc1234')).toBe(true);
    expect(byVersion.matches('update-dev-1.0.371-abc1234')).toBe(false);
    expect(byVersion.matches('update-dev-1.0.37-')).toBe(false);
  });

  it('matches the dev branch of an app without a version file by the short hash its CI tag ends with', () => {
    const byCommit = deployBranchMatcher(layoutWith(), 'dev', {
      commitSha: 'ABC1234def567890abc1234def567890abc12345',
    });
    expect(byCommit).toMatchObject({ prefix: 'update-dev-', describe: 'update-dev-*-abc1234' });
    expect(byCommit.matches('update-dev-0.0.17-abc1234')).toBe(true);
    expect(byCommit.matches('update-dev-0.0.17-abc1235')).toBe(false);
    expect(byCommit.matches('update-dev-abc1234')).toBe(false);
  });

  it('follows the layout’s templates: the first environment takes the dev one, the others the promotion one', () => {
    const custom = layoutWith({ dev: 'ci/{app}/{tag}', promotion: '{app}/to-{target}-from-{source}/{tag}' }, [
      'qa',
      'uat',
      'live',
    ]);
    expect(promotionBranch(custom, 'uat', '2.0.1-abc')).toBe('example-app/to-uat-from-qa/2.0.1-abc');
    expect(tagOfBranch(custom, 'example-app/to-live-from-uat/2.0.1-abc', 'live')).toBe('2.0.1-abc');
    expect(tagOfBranch(custom, 'example-app/to-uat-from-qa/2.0.1-abc', 'live')).toBeUndefined();
    expect(deployBranchMatcher(custom, 'qa', { imageTag: '2.0.1-abc' }).exact).toBe('ci/example-app/2.0.1-abc');
    expect(tagOfBranch(custom, 'ci/example-app/2.0.1-abc', 'qa')).toBe('2.0.1-abc');
    expect(runBranchPrefixes(custom)).toEqual(['ci/example-app/', 'example-app/to-', 'revert-']);
    expect(runBranchPrefixes(layoutWith())).toEqual(['update-dev-', 'promote-', 'revert-']);
  });

  it('recognises only the exact run marker trailer', () => {
    expect(carriesRunMarker('chore: x\n\nShepherd-Run: run/1\n', 'run/1')).toBe(true);
    expect(carriesRunMarker('chore: x\n\nShepherd-Run: run/12\n', 'run/1')).toBe(false);
  });
});
