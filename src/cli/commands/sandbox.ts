import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZodError } from 'zod';
import { ScenarioSchema, type ScenarioInput } from '../../sandbox/core/faults.js';
import { findScenario, SCENARIOS } from '../../sandbox/world/scenarios.js';
import { WorldPipelineError } from '../../sandbox/world/layout.js';
import { startWorld, UnknownScenarioAppError, UnknownScenarioError } from '../../sandbox/world/world.js';
import { removeWorldFile, writeWorldFile } from '../../sandbox/world/world-file.js';
import { EXIT, untilSignal, UsageError, type Command } from '../command.js';

function scenarioFrom(value: string | undefined): string | ScenarioInput | undefined {
  if (value === undefined) return undefined;
  if (!value.endsWith('.json')) return value;
  try {
    return ScenarioSchema.parse(JSON.parse(readFileSync(value, 'utf8')));
  } catch (err) {
    const why =
      err instanceof ZodError
        ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
        : (err as Error).message;
    throw new UsageError(`cannot use scenario file ${value}: ${why}`);
  }
}

/**
 * `--tls`: the scenario's installation behind the world's own CA (the trait `tls`); without a scenario, the
 * catalogue's `tls`.
 */
function withTls(scenario: string | ScenarioInput | undefined): string | ScenarioInput {
  if (scenario === undefined) return 'tls';
  const base = typeof scenario === 'string' ? findScenario(scenario) : scenario;
  if (base === undefined) throw new UsageError(`Unknown scenario "${String(scenario)}". See --scenario list.`);
  return { ...base, installation: { ...base.installation, tls: true } };
}

export const sandboxCommand: Command = {
  usage: '[--json] [--pipeline FILE] [--scenario NAME[@APP]|FILE.json|list] [--tls] [--time-scale N] [--dir DIR]',
  help: `
Starts the simulated GitOps installation on 127.0.0.1: GitLab (REST v4), Jenkins (remote API), a Kubernetes API
with Argo CD Applications, and an admin endpoint (GET /state, GET /scenarios, PUT /scenario {"name":...}).
While it runs, SHEPHERD_STATE_DIR/sandbox.json (owner-only) tells \`shepherd worker\` where it is.
Pushing to the app repo's main starts CI, CI opens the dev MR, merges to env branches are synced by Argo CD.

Options:
  --json             once ready, print one line of JSON with the URLs, credentials and names (the layout with
                     every app), and nothing else
  --pipeline FILE    simulate the installation a pipeline file declares (or SHEPHERD_PIPELINE): its apps, their
                     version files and CI jobs, its environments (branches or directories), each image format
  --scenario NAME    start with a fault scenario; "list" prints the catalogue; a .json file gives your own.
                     With a pipeline, the scenario's dev, stage and prod are its first, second and last
                     environments; NAME@APP applies the scenario's faults to that app only
  --tls              serve HTTPS with a certificate of the world's own CA (as behind a company CA); the CA is
                     written to DIR/ca.pem and the world's settings name it as SHEPHERD_CA_FILE
  --time-scale N     multiply the real installation's durations (default 0.01: a full run takes seconds)
  --dir DIR          where to write the kubeconfig and, with --tls, ca.pem (default: a new temporary folder, removed when it stops)

Example:
  npx shepherd sandbox --json > world.json
  curl -H "Authorization: Bearer $(jq -r .kubernetes.token world.json)" "$(jq -r .kubernetes.url world.json)/apis/apps/v1/deployments"

The Kubernetes API refuses requests without the kubeconfig's token (401), and kubectl sends no token to a
plain-http server: kubectl reads the sandbox's cluster over HTTPS, or through a proxy that adds the token.
`,
  options: {
    json: { type: 'boolean' },
    scenario: { type: 'string' },
    tls: { type: 'boolean' },
    pipeline: { type: 'string' },
    'time-scale': { type: 'string' },
    dir: { type: 'string' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    if (ctx.values.scenario === 'list') {
      if (ctx.values.json) ctx.out(JSON.stringify(SCENARIOS));
      else for (const s of SCENARIOS) ctx.out(`${s.name.padEnd(24)} ${s.description}`);
      return EXIT.ok;
    }
    const rawScale = ctx.values['time-scale'] as string | undefined;
    const timeScale = rawScale === undefined ? undefined : Number(rawScale);
    if (timeScale !== undefined && !(timeScale > 0 && timeScale <= 10))
      throw new UsageError(`--time-scale must be a number above 0 and at most 10, got ${rawScale}`);
    // The pipeline file (--pipeline, else SHEPHERD_PIPELINE), checked by the configuration's schema.
    const pipelineFile = ctx.values.pipeline as string | undefined;
    const config = ctx.config(pipelineFile !== undefined ? { SHEPHERD_PIPELINE: pipelineFile } : undefined);
    // Registered before anything starts, so that a SIGTERM during start-up still stops what has started.
    const stopRequested = untilSignal();
    const given = ctx.values.dir as string | undefined;
    // The kubeconfig in it holds the sandbox cluster's token: a folder made here is removed when the sandbox stops.
    const dir = given ?? mkdtempSync(join(tmpdir(), 'shepherd-sandbox-'));
    const removeDir = (): void => {
      if (given === undefined) rmSync(dir, { recursive: true, force: true });
    };
    let world;
    try {
      const named = scenarioFrom(ctx.values.scenario as string | undefined);
      const scenario = ctx.values.tls === true ? withTls(named) : named;
      world = await startWorld({
        dir,
        ...(config.pipelineFile !== undefined ? { pipeline: config.pipeline } : {}),
        ...(timeScale !== undefined ? { timeScale } : {}),
        ...(scenario !== undefined ? { scenario } : {}),
      });
    } catch (err) {
      removeDir();
      if (
        err instanceof UnknownScenarioError ||
        err instanceof UnknownScenarioAppError ||
        err instanceof WorldPipelineError
      )
        throw new UsageError(err.message);
      throw err;
    }
    const info = world.info;
    const stateDir = config.temporal.stateDir;
    writeWorldFile(stateDir, info);
    if (ctx.values.json) ctx.out(JSON.stringify(info));
    else {
      ctx.out(
        `GitLab      ${info.gitlab.url}  (projects ${info.gitlab.appProject}, ${info.gitlab.deploymentsProject})`,
      );
      ctx.out(
        `Jenkins     ${info.jenkins.url}  (user ${info.jenkins.user}; jobs ${info.jenkins.ciJob}, ${info.jenkins.promoteJob})`,
      );
      ctx.out(`Kubernetes  ${info.kubernetes.url}  (kubeconfig ${info.kubernetes.kubeconfig})`);
      for (const app of info.apps)
        ctx.out(
          `App         ${app.name}  (project ${app.appProject}; CI job ${app.ciJob}; ${Object.entries(app.environments)
            .map(([env, e]) => `${env}: ${e.argoApp}`)
            .join(', ')})`,
        );
      ctx.out(`Admin       ${info.admin.url}/state`);
      if (info.tls) ctx.out(`CA          ${info.tls.caFile}  (SHEPHERD_CA_FILE=${info.tls.caFile})`);
      ctx.out(`Scenario    ${world.faults.active?.name ?? 'none'}`);
      ctx.err('Credentials are in the --json output. Press Ctrl-C to stop.');
    }
    await stopRequested;
    removeWorldFile(stateDir);
    await world.stop();
    removeDir();
    return EXIT.ok;
  },
};
