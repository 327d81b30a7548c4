/**
 * The bench's processes: one `shepherd dev-server` for the whole bench, and for each measured run a fresh
 * `shepherd sandbox` (its own process, so that the world's work and the worker's do not mix) and, for Shepherd's
 * runs, a fresh `shepherd worker` with the run's poll and webhook settings. Built on the chaos stack's
 * ShepherdProcess (process groups, output tails, kill and wait), on one state folder with free ports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ShepherdProcess } from '../chaos/stack.js';
import { VARIABLE_BY_NAME } from '../config/variables.js';
import type { WorldInfo } from '../sandbox/world/world.js';
import { freePort } from '../temporal/dev-server.js';
import { bundleWorkflows } from '../worker/workflow-source.js';

/** Variables that would point a child process at real systems instead of the sandbox. */
const EXTERNAL = /^(GITLAB_URL_|JENKINS_URL_|TEMPORAL_TLS|TEMPORAL_API_KEY|NODE_ENV$|SHEPHERD_POLL_|SHEPHERD_WEBHOOK)/;

/** Whether this build of Shepherd knows a configuration variable (the pieces of issue 14 land separately). */
export const knowsVariable = (name: string): boolean => VARIABLE_BY_NAME.has(name);

/** `1500` → `1500ms`: the duration syntax of SHEPHERD_POLL_*. */
export const durationText = (ms: number): string => `${Math.max(1, Math.round(ms))}ms`;

export class BenchStack {
  devServer: ShepherdProcess | undefined;
  private readonly processes: ShepherdProcess[] = [];
  private clientPromise: Promise<Client> | undefined;
  private count = 0;
  bundlePath: string | undefined;

  private constructor(
    readonly stateDir: string,
    private readonly temporalPort: number,
    private readonly uiPort: number,
    private readonly onLine?: (name: string, line: string) => void,
  ) {}

  static async create(onLine?: (name: string, line: string) => void): Promise<BenchStack> {
    return new BenchStack(mkdtempSync(join(tmpdir(), 'shepherd-bench-')), await freePort(), await freePort(), onLine);
  }

  get address(): string {
    return `127.0.0.1:${this.temporalPort}`;
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !EXTERNAL.test(k)) env[k] = v;
    return {
      ...env,
      SHEPHERD_STATE_DIR: this.stateDir,
      SHEPHERD_TEMPORAL_PORT: String(this.temporalPort),
      SHEPHERD_UI_PORT: String(this.uiPort),
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_ADDRESS: this.address,
      ...extra,
    };
  }

  spawn(name: string, args: string[], extra: Record<string, string> = {}): ShepherdProcess {
    this.count += 1;
    const p = new ShepherdProcess(`${name}-${this.count}`, args, this.env(extra), this.onLine);
    this.processes.push(p);
    return p;
  }

  /** Starts the dev server and bundles the workflows once, so that every worker starts in a second. */
  async start(): Promise<void> {
    const p = this.spawn('dev-server', ['dev-server', '--headless', '--json'], { TEMPORAL_ADDRESS: '' });
    this.devServer = p;
    const [, code] = await Promise.all([p.waitForLine(/^\{/, 90_000, 'stdout'), bundleWorkflows()]);
    this.bundlePath = join(this.stateDir, 'workflow-bundle.js');
    writeFileSync(this.bundlePath, code);
  }

  /**
   * Brings the dev server back when it has ended (a crash, or a process killed from outside), on the same address and
   * database; returns how it had ended, or undefined when it was running.
   */
  async ensureDevServer(): Promise<string | undefined> {
    if (this.devServer?.running) return undefined;
    const last = this.devServer?.tail(5) ?? 'never started';
    const p = this.spawn('dev-server', ['dev-server', '--headless', '--json'], { TEMPORAL_ADDRESS: '' });
    this.devServer = p;
    await p.waitForLine(/^\{/, 90_000, 'stdout');
    return last;
  }

  /** A fresh `shepherd sandbox` at `timeScale`; it writes sandbox.json, which the next worker reads. */
  async startSandbox(timeScale: number): Promise<{ process: ShepherdProcess; world: WorldInfo }> {
    const p = this.spawn('sandbox', ['sandbox', '--json', '--time-scale', String(timeScale)]);
    const world = JSON.parse(await p.waitForLine(/^\{/, 60_000, 'stdout')) as WorldInfo;
    return { process: p, world };
  }

  /** A `shepherd worker` on `taskQueue` with extra variables (poll intervals, webhooks); resolves once it polls. */
  async startWorker(taskQueue: string, extra: Record<string, string>): Promise<ShepherdProcess> {
    try {
      return await this.startWorkerOnce(taskQueue, extra);
    } catch {
      // A worker refuses to start when its start-up checks time out, which a loaded 2-core machine can cause once.
      return await this.startWorkerOnce(taskQueue, extra);
    }
  }

  private async startWorkerOnce(taskQueue: string, extra: Record<string, string>): Promise<ShepherdProcess> {
    const args = ['worker', '--task-queue', taskQueue, '--identity', `bench-worker-${this.count + 1}`];
    if (this.bundlePath) args.push('--workflow-bundle', this.bundlePath);
    const p = this.spawn('worker', args, { TEMPORAL_TASK_QUEUE: taskQueue, ...extra });
    await p.waitForLine(/Worker polling task queue/, 120_000);
    return p;
  }

  client(): Promise<Client> {
    this.clientPromise ??= Connection.connect({ address: this.address }).then(
      (connection) => new Client({ connection, namespace: 'default' }),
    );
    return this.clientPromise;
  }

  /** Ends every process this stack started, by id, and removes the state folder. */
  async stop(): Promise<void> {
    if (this.clientPromise) {
      const client = await this.clientPromise.catch(() => undefined);
      this.clientPromise = undefined;
      await client?.connection.close().catch(() => {});
    }
    const others = this.processes.filter((p) => p !== this.devServer);
    await Promise.all(others.map((p) => p.stop(p.name.startsWith('sandbox') ? 'SIGINT' : 'SIGKILL', 5_000)));
    await this.devServer?.stop('SIGTERM', 10_000);
    await Promise.all(this.processes.map((p) => p.stop('SIGKILL')));
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}
