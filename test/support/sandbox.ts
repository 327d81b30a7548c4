/**
 * A sandbox world for activity and workflow tests, with the pipeline layout and credentials that Shepherd's clients
 * are configured with against it. Always `stop()` it in afterAll/afterEach.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchTrusting } from '../../src/clients/trust.js';
import type { PipelineLayout } from '../../src/domain/pipeline.js';
import { configForWorld, layoutsForWorld } from '../../src/worker/activities.js';
import type { ScenarioInput } from '../../src/sandbox/core/faults.js';
import type { WorldPipeline } from '../../src/sandbox/world/layout.js';
import { startWorld, type World } from '../../src/sandbox/world/world.js';
import type { WorldState } from '../../src/sandbox/world/state.js';

export interface TestSandbox {
  readonly world: World;
  /** The first app's layout (the seed's only app). */
  readonly layout: PipelineLayout;
  /** One layout per app of the world. */
  readonly layouts: readonly PipelineLayout[];
  /** The admin endpoint's inspection view. */
  state(): Promise<WorldState>;
  setScenario(scenario: string | ScenarioInput | undefined): Promise<void>;
  stop(): Promise<void>;
}

export async function startSandbox(
  opts: { scenario?: string | ScenarioInput; timeScale?: number; pipeline?: WorldPipeline } = {},
): Promise<TestSandbox> {
  const world = await startWorld({
    dir: mkdtempSync(join(tmpdir(), 'shepherd-sandbox-')),
    ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
    timeScale: opts.timeScale ?? 0.005,
    ...(opts.scenario ? { scenario: opts.scenario } : {}),
  });
  // Shepherd set up for the installation the scenario simulates (the world's settings), as the demo does.
  const config = configForWorld(world, { env: {} });
  const layouts = layoutsForWorld(world, { degradedGraceSeconds: 1, stabilitySeconds: 0.2 }, config);
  // A world behind its own CA (trait tls) serves the admin endpoint over HTTPS too.
  const adminFetch = fetchTrusting(config.companyCa);
  return {
    world,
    layout: layouts[0]!,
    layouts,
    state: async () => (await (await adminFetch(`${world.info.admin.url}/state`)).json()) as WorldState,
    setScenario: (s) => world.setScenario(s),
    stop: () => world.stop(),
  };
}
