import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EnvFileError, parseEnvFile } from '../../../src/config/env-file.js';
import { checkConfig, ConfigError, editDistance, loadConfig, unknownVariables } from '../../../src/config/load.js';

describe('the configuration safety net', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-safety-net-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the intended variable for a misspelt one, from the environment and from the env file', () => {
    const file = join(dir, 'typo.env');
    writeFileSync(file, 'SHEPHERD_APPROVAL_ENVIROMENTS=stage,prod\n');
    const { warnings } = checkConfig({ env: { SHEPHERD_APPROVER: 'alice,bob', PATH: '/bin' }, envFile: file });
    expect(warnings.map((w) => [w.variable, w.suggestion])).toEqual([
      ['SHEPHERD_APPROVAL_ENVIROMENTS', 'SHEPHERD_APPROVAL_ENVIRONMENTS'],
      ['SHEPHERD_APPROVER', 'SHEPHERD_APPROVERS'],
    ]);
    expect(warnings[1]!.message).toBe(
      'SHEPHERD_APPROVER is not a variable Shepherd reads, so it is ignored; did you mean SHEPHERD_APPROVERS?',
    );
  });

  it('watches the GITLAB_, JENKINS_ and TEMPORAL_ prefixes, and leaves other tools and CI systems alone', () => {
    const names = unknownVariables({
      GITLAB_TOKN: 'x',
      JENKINS_USR: 'x',
      TEMPORAL_ADRESS: 'x',
      SHEPHERD_SOMETHING_ELSE_ENTIRELY: 'x',
      TEMPORAL_CLI_PATH: 'x',
      TEMPORAL_PROFILE: 'x',
      GITLAB_CI: 'true',
      JENKINS_HOME: '/var/jenkins',
      GITLAB_NAMESPACE: 'gitlab',
      OTHER_THING: 'x',
    });
    expect(names.map((w) => [w.variable, w.suggestion])).toEqual([
      ['GITLAB_TOKN', 'GITLAB_TOKEN'],
      ['JENKINS_USR', 'JENKINS_USER'],
      ['SHEPHERD_SOMETHING_ELSE_ENTIRELY', undefined],
      ['TEMPORAL_ADRESS', 'TEMPORAL_ADDRESS'],
    ]);
  });

  it('carries the warnings in the ConfigError, since a misspelt name is often why a required one is missing', () => {
    let error: unknown;
    try {
      loadConfig({ env: { GITLAB_URL_EXTERNAL: 'https://gitlab.example', GITLAB_TOKN: 'x' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('did you mean GITLAB_TOKEN?');
    expect((error as ConfigError).message).toContain('GITLAB_TOKEN: is required');
  });

  it('counts edits as Levenshtein does', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('reports every bad line of an env file at once', () => {
    const text = 'A=1\nnot an assignment\nB="open\nC=3\nD=\'open\n';
    let error: unknown;
    try {
      parseEnvFile(text, 'infra.env', {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvFileError);
    expect((error as EnvFileError).problems).toEqual([
      { line: 2, message: 'expected KEY=value' },
      { line: 3, message: 'unterminated double quote in B' },
      { line: 5, message: 'unterminated single quote in D' },
    ]);
    expect((error as EnvFileError).message).toContain('3 lines of infra.env need fixing');
  });

  it('takes every duration variable as a duration or as whole seconds', () => {
    const config = loadConfig({
      env: {
        JENKINS_BUILD_TIMEOUT: '1h',
        ARGOCD_SYNC_TIMEOUT: '900',
        PROMOTION_MR_TIMEOUT: '5m',
        SHEPHERD_HEARTBEAT_TIMEOUT: '30',
        SHEPHERD_APPROVAL_TIMEOUT: '2d',
      },
    });
    expect(config.timeouts).toEqual({
      jenkinsBuildSeconds: 3600,
      argoSyncSeconds: 900,
      mergeRequestSeconds: 300,
      heartbeat: '30s',
    });
    expect(config.approvals.timeout).toBe('2d');
  });

  it('refuses durations that are not of the one form, below a second, or above a week for a wait', () => {
    for (const [name, value] of [
      ['JENKINS_BUILD_TIMEOUT', '1 hour'],
      ['JENKINS_BUILD_TIMEOUT', '8d'],
      ['ARGOCD_SYNC_TIMEOUT', '500ms'],
      ['PROMOTION_MR_TIMEOUT', '0'],
      ['SHEPHERD_HEARTBEAT_TIMEOUT', '1.5m'],
    ] as const) {
      expect(() => loadConfig({ env: { [name]: value } }), `${name}=${value}`).toThrow(`${name}: must be a duration`);
    }
  });

  it('drops a trailing slash from a URL instead of refusing it', () => {
    const config = loadConfig({
      env: {
        GITLAB_URL_EXTERNAL: 'https://gitlab.example/',
        GITLAB_TOKEN: 't',
        JENKINS_URL_EXTERNAL: 'https://jenkins.example/ci/',
        JENKINS_USER: 'u',
        JENKINS_TOKEN: 't',
      },
    });
    expect(config.gitlab?.url).toBe('https://gitlab.example');
    expect(config.jenkins?.url).toBe('https://jenkins.example/ci');
  });
});
