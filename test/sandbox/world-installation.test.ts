import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstallationChangeError, startWorld, type World } from '../../src/sandbox/world/world.js';
import { configForWorld } from '../../src/worker/activities.js';

describe('installation scenarios: traits fixed when the world starts, and the settings Shepherd needs', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ dir: mkdtempSync(join(tmpdir(), 'shepherd-world-')), scenario: 'protected-main' });
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('keeps the starting scenario’s installation traits and sets the world up by them', async () => {
    expect(world.installation).toEqual({ protectedAppDefault: true });
    const res = await fetch(
      `${world.info.gitlab.url}/api/v4/projects/${encodeURIComponent(world.info.gitlab.appProject)}/repository/branches/main`,
      { headers: { 'PRIVATE-TOKEN': world.info.gitlab.token } },
    );
    expect(await res.json()).toMatchObject({ protected: true, can_push: false });
  });

  it('refuses to switch a running world to a scenario that sets up the installation differently', async () => {
    await expect(world.setScenario({ name: 'other', description: 'x', installation: { tls: true } })).rejects.toThrow(
      InstallationChangeError,
    );
    // Fault scenarios without traits still switch at run time.
    await world.setScenario('gitlab-flaky');
    await world.setScenario(undefined);
  });

  it('applies the world’s settings over the environment (configForWorld), so Shepherd is set up for it', () => {
    const settings = { SHEPHERD_BUMP_VIA: 'merge-request' };
    const config = configForWorld({ info: { settings } }, { env: { SHEPHERD_BUMP_VIA: 'push' } });
    expect(config.bump.via).toBe('merge-request');
    expect(configForWorld({ info: {} }, { env: { SHEPHERD_BUMP_VIA: 'push' } }).bump.via).toBe('push');
  });
});
