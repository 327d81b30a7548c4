import { describe, expect, it } from 'vitest';
import { isAppRepo, repoLocation } from '../../../src/domain/repo-url.js';

describe('git remote URLs', () => {
  it('reduces every form of one remote to the same host and path', () => {
    const forms = [
      'https://gitlab.example.com/p2c/example-app.git',
      'https://gitlab.example.com/p2c/example-app',
      'https://ci-bot:secret@GitLab.Example.com:8443/p2c/example-app/',
      'ssh://git@gitlab.example.com:2222/p2c/example-app.git',
      'git@gitlab.example.com:p2c/example-app.git',
      'gitlab.example.com:p2c/example-app',
    ];
    for (const url of forms)
      expect(repoLocation(url), url).toEqual({ host: 'gitlab.example.com', path: 'p2c/example-app' });
    expect(repoLocation('')).toBeUndefined();
    expect(repoLocation('not a url')).toBeUndefined();
  });

  it("counts a remote as the app repo by configured URL, or by the project path on any host, never a sibling's", () => {
    expect(isAppRepo('http://gitlab.gitlab.svc/p2c/example-app.git', 'p2c/example-app')).toBe(true);
    expect(isAppRepo('https://host/gitlab/p2c/example-app.git', 'p2c/example-app')).toBe(true);
    expect(isAppRepo('https://host/p2c/jenkins-pipeline-library.git', 'p2c/example-app')).toBe(false);
    expect(isAppRepo('https://host/p2c/example-app-fork.git', 'p2c/example-app')).toBe(false);
    expect(isAppRepo('https://host/other/p2c-example-app.git', 'p2c/example-app')).toBe(false);
    expect(isAppRepo('git@mirror:apps/example.git', 'p2c/example-app', ['ssh://git@mirror/apps/example'])).toBe(true);
    expect(isAppRepo('git@mirror:apps/example.git', 'p2c/example-app', ['ssh://git@other/apps/example'])).toBe(false);
  });
});
