import { describe, expect, it } from 'vitest';
import {
  bumpPom,
  carriesRunMarker,
  imageInEnvCue,
  setImageInEnvCue,
  setImageInManifest,
  imageInManifest,
  tagOfBranch,
} from '../../activities/gitlab/edits.js';
import { ValidationError } from '../../src/domain/errors.js';

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

describe('the text edits of the GitLab activities', () => {
  it('raises the project version by one patch, keeping the suffix and leaving the parent and dependencies alone', () => {
    const bump = bumpPom(POM);
    expect(bump).toMatchObject({ previousVersion: '1.0.36-SNAPSHOT', version: '1.0.37-SNAPSHOT' });
    expect(bump.content).toBe(POM.replace('<version>1.0.36-SNAPSHOT</version>', '<version>1.0.37-SNAPSHOT</version>'));
  });

  it('refuses a version that is not MAJOR.MINOR.PATCH with a ValidationError naming the version file', () => {
    expect(() => bumpPom('<project><version>latest</version></project>')).toThrow(ValidationError);
    expect(() => bumpPom('<project></project>')).toThrow(/versionFile/);
  });

  it('sets the image only inside the app block of the environment in env.cue', () => {
    const next = setImageInEnvCue(ENV_CUE, 'stage', 'exampleApp', 'reg/p2c/example-app:1.0.1-bbbbbbb');
    expect(imageInEnvCue(next, 'stage', 'exampleApp')).toBe('reg/p2c/example-app:1.0.1-bbbbbbb');
    expect(next).toContain('other-app:9.9.9');
    expect(next.split('\n').filter((l, i) => l !== ENV_CUE.split('\n')[i])).toHaveLength(1);
  });

  it('sets the image of the app container in a manifest and keeps sidecars', () => {
    const next = setImageInManifest(MANIFEST, 'example-app', 'reg/p2c/example-app:1.0.1-bbbbbbb', 'm.yaml');
    expect(next).toContain('- image: reg/p2c/example-app:1.0.1-bbbbbbb');
    expect(next).toContain('- image: "envoy:1.30"');
    expect(() => setImageInManifest(MANIFEST, 'missing-app', 'x:1', 'm.yaml')).toThrow(ValidationError);
  });

  it('reads the image of the app container in a manifest, not a sidecar, and refuses two different ones', () => {
    expect(imageInManifest(MANIFEST, 'example-app', 'm.yaml')).toMatch(/\/example-app:/);
    const twice = `${MANIFEST}\n        - image: reg/p2c/example-app:2.0.0-ccccccc\n`;
    expect(() => imageInManifest(twice, 'example-app', 'm.yaml')).toThrow(/must declare one image for example-app/);
    expect(() => imageInManifest(MANIFEST, 'missing-app', 'm.yaml')).toThrow(ValidationError);
  });

  it('reads image tags from branch names', () => {
    expect(tagOfBranch('update-dev-1.0.37-SNAPSHOT-abc1234', 'dev')).toBe('1.0.37-SNAPSHOT-abc1234');
    expect(tagOfBranch('promote-stage-1.0.37-abc', 'stage')).toBe('1.0.37-abc');
    expect(tagOfBranch('promote-prod-1.0.37-abc', 'stage')).toBeUndefined();
  });

  it('recognises only the exact run marker trailer', () => {
    expect(carriesRunMarker('chore: x\n\nShepherd-Run: run/1\n', 'run/1')).toBe(true);
    expect(carriesRunMarker('chore: x\n\nShepherd-Run: run/12\n', 'run/1')).toBe(false);
  });
});
