/**
 * Shepherd's whole embedded stack as real child processes — `shepherd dev-server`, `shepherd sandbox` and any
 * number of `shepherd worker`s — on one state folder with free ports, so that each of them can be killed,
 * stopped and started again the way an operator (or an outage) would. Used by the chaos runner and by the crash
 * tests; nothing in the workflows or activities knows about it.
 *
 * Every process is started in its own process group, so that stopping one also ends what it started (the dev
 * server command runs the Temporal CLI as a child), and `stop()` ends every process this stack started, by id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { ScenarioInput } from '../sandbox/core/faults.js';
import type { WorldState } from '../sandbox/world/state.js';
import type { WorldInfo } from '../sandbox/world/world.js';
import { PROJECT_ROOT } from '../config/paths.js';
import { freePort } from '../temporal/dev-server.js';

/** The `shepherd` binary, found from the project root so that it is right from the sources and from `dist/`. */
export const SHEPHERD_BIN = join(PROJECT_ROOT, 'bin', 'shepherd.js');

/** The variables that would make a child process talk to real systems instead of the sandbox. */
const EXTERNAL_VARIABLES = [
  'GITLAB_URL_EXTERNAL',
  'GITLAB_URL_INTERNAL',
  'JENKINS_URL_EXTERNAL',
  'JENKINS_URL_INTERNAL',
  'TEMPORAL_TLS',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CERT_PATH',
  'TEMPORAL_TLS_KEY_PATH',
  'TEMPORAL_TLS_CA_PATH',
  'NODE_ENV',
];

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One `shepherd <command>` child process, with the tail of its output kept for diagnostics. */
export class ShepherdProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  private status: ExitStatus | undefined;
  private readonly lines: string[] = [];
  private stdoutText = '';
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly name: string,
    args: readonly string[],
    env: Record<string, string>,
    private readonly onLine?: (name: string, line: string) => void,
  ) {
    this.child = spawn(process.execPath, [SHEPHERD_BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.status = { code, signal };
        for (const l of this.listeners) l();
        resolve(this.status);
      }),
    );
    const collect = (stream: 'out' | 'err') => (buf: Buffer) => {
      const text = buf.toString('utf8');
      if (stream === 'out') this.stdoutText += text;
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        this.lines.push(line);
        if (this.lines.length > 200) this.lines.shift();
        this.onLine?.(this.name, line);
      }
      for (const l of this.listeners) l();
    };
    this.child.stdout?.on('data', collect('out'));
    this.child.stderr?.on('data', collect('err'));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.status === undefined;
  }

  /** The last lines of stdout and stderr. */
  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  /** Resolves with the first output line matching `pattern`; rejects when the process exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs: number, from: 'stdout' | 'any' = 'any'): Promise<string> {
    return new Promise((resolve, reject) => {
      const find = (): string | undefined =>
        (from === 'stdout' ? this.stdoutText.split('\n') : this.lines).find((l) => pattern.test(l));
      const finish = (fn: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        fn();
      };
      const check = (): void => {
        const line = find();
        if (line !== undefined) finish(() => resolve(line));
        else if (this.status)
          finish(() =>
            reject(
              new Error(
                `${this.name} exited (${describeExit(this.status!)}) before printing ${pattern}:\n${this.tail()}`,
              ),
            ),
          );
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(`${this.name} printed nothing matching ${pattern} within ${timeoutMs} ms:\n${this.tail()}`),
            ),
          ),
        timeoutMs,
      );
      this.listeners.add(check);
      check();
    });
  }

  /** Sends `signal` to the process and everything it started (its process group). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Sends `signal` and waits for the exit; escalates to SIGKILL after `graceMs`. Returns how it ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<ExitStatus & { forced: boolean }> {
    if (!this.running) return { ...this.status!, forced: false };
    this.signal(signal);
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      this.signal('SIGKILL');
    }, graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    // A SIGKILLed parent cannot take its children with it: end the rest of its group too.
    if (signal === 'SIGKILL' || forced) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // nothing left
      }
    }
    return { ...status, forced };
  }
}

export function describeExit(status: ExitStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}

export interface StackOptions {
  /** The state folder: Temporal's SQLite file, the lock file and sandbox.json. */
  readonly stateDir: string;
  /** The sandbox's time scale (see `shepherd sandbox --time-scale`). */
  readonly timeScale: number;
  readonly taskQueue: string;
  /** A prebuilt workflow bundle the workers load (`shepherd worker --workflow-bundle`); they bundle at start without. */
  readonly workflowBundlePath?: string;
  /** Every output line of every process, e.g. for a verbose log. */
  readonly onLine?: (name: string, line: string) => void;
}

/** The dev server, the sandbox and the workers of one state folder, started and stopped as processes. */
export class Stack {
  devServer: ShepherdProcess | undefined;
  sandbox: ShepherdProcess | undefined;
  readonly workers: ShepherdProcess[] = [];
  world: WorldInfo | undefined;
  private readonly started: ShepherdProcess[] = [];
  private clientPromise: Promise<Client> | undefined;
  private workerCount = 0;

  private constructor(
    readonly opts: StackOptions,
    private readonly temporalPort: number,
    private readonly uiPort: number,
  ) {}

  /** Picks the ports once: a restarted dev server comes back on the same address. */
  static async create(opts: StackOptions): Promise<Stack> {
    return new Stack(opts, await freePort(), await freePort());
  }

  get address(): string {
    return `127.0.0.1:${this.temporalPort}`;
  }

  private env(extra: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !EXTERNAL_VARIABLES.includes(k)) env[k] = v;
    return {
      ...env,
      SHEPHERD_STATE_DIR: this.opts.stateDir,
      SHEPHERD_TEMPORAL_PORT: String(this.temporalPort),
      SHEPHERD_UI_PORT: String(this.uiPort),
      TEMPORAL_TASK_QUEUE: this.opts.taskQueue,
      TEMPORAL_NAMESPACE: 'default',
      ...extra,
    };
  }

  private spawn(name: string, args: string[], env: Record<string, string>): ShepherdProcess {
    const p = new ShepherdProcess(name, args, this.env(env), this.opts.onLine);
    this.started.push(p);
    return p;
  }

  /** Starts `shepherd dev-server` (headless) on the state folder; resolves once it answers. */
  async startDevServer(): Promise<void> {
    if (this.devServer?.running) throw new Error('the dev server already runs');
    // The Temporal dev server picks the ports of its internal services itself at start; on a machine starting many
    // at once it can lose one to another process and exit during start-up. It then starts again, up to twice.
    for (let attempt = 1; ; attempt++) {
      const p = this.spawn('dev-server', ['dev-server', '--headless', '--json'], { TEMPORAL_ADDRESS: '' });
      this.devServer = p;
      try {
        await p.waitForLine(/^\{/, 60_000, 'stdout');
        return;
      } catch (err) {
        if (attempt >= 3 || p.running || !/exited during start-up/.test(String(err))) throw err;
      }
    }
  }

  /** Stops the dev server as Ctrl-C would (its database stays). */
  async stopDevServer(): Promise<void> {
    await this.devServer?.stop('SIGTERM', 15_000);
  }

  /** Starts `shepherd sandbox` with a fresh world; resolves with what it announced. */
  async startSandbox(scenario?: string): Promise<WorldInfo> {
    if (this.sandbox?.running) throw new Error('the sandbox already runs');
    const args = [
      'sandbox',
      '--json',
      '--time-scale',
      String(this.opts.timeScale),
      ...(scenario ? ['--scenario', scenario] : []),
    ];
    const p = this.spawn('sandbox', args, { TEMPORAL_ADDRESS: this.address });
    this.sandbox = p;
    this.world = JSON.parse(await p.waitForLine(/^\{/, 60_000, 'stdout')) as WorldInfo;
    return this.world;
  }

  async stopSandbox(): Promise<void> {
    await this.sandbox?.stop('SIGINT', 10_000);
    this.world = undefined;
  }

  /** Starts a `shepherd worker` on the stack's task queue; resolves once it polls. */
  async startWorker(): Promise<ShepherdProcess> {
    this.workerCount += 1;
    const args = ['worker', '--identity', `chaos-worker-${this.workerCount}`];
    if (this.opts.workflowBundlePath) args.push('--workflow-bundle', this.opts.workflowBundlePath);
    const p = this.spawn(`worker-${this.workerCount}`, args, { TEMPORAL_ADDRESS: this.address });
    this.workers.push(p);
    await p.waitForLine(/Worker polling task queue/, 120_000);
    return p;
  }

  /** The workers still running. */
  get liveWorkers(): ShepherdProcess[] {
    return this.workers.filter((w) => w.running);
  }

  /** Kills every running worker with `signal` and waits for them to exit. */
  async stopWorkers(signal: NodeJS.Signals = 'SIGKILL', graceMs = 20_000): Promise<void> {
    await Promise.all(this.liveWorkers.map((w) => w.stop(signal, graceMs)));
  }

  /** A client of the dev server; its connection survives server restarts on the same address. */
  client(): Promise<Client> {
    this.clientPromise ??= Connection.connect({ address: this.address }).then(
      (connection) => new Client({ connection, namespace: 'default' }),
    );
    return this.clientPromise;
  }

  private adminUrl(): string {
    if (!this.world) throw new Error('no sandbox runs');
    return this.world.admin.url;
  }

  /** The sandbox's inspection view (`GET /state`). */
  async state(): Promise<WorldState> {
    const res = await fetch(`${this.adminUrl()}/state`);
    if (!res.ok) throw new Error(`GET /state answered ${res.status}`);
    return (await res.json()) as WorldState;
  }

  /** Switches the sandbox's fault scenario (`PUT /scenario`), or clears it (`DELETE /scenario`). */
  async setScenario(scenario: string | ScenarioInput | undefined): Promise<void> {
    const res =
      scenario === undefined
        ? await fetch(`${this.adminUrl()}/scenario`, { method: 'DELETE' })
        : await fetch(`${this.adminUrl()}/scenario`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(typeof scenario === 'string' ? { name: scenario } : scenario),
          });
    if (!res.ok)
      throw new Error(
        `${scenario === undefined ? 'DELETE' : 'PUT'} /scenario answered ${res.status}: ${await res.text()}`,
      );
  }

  /** Ends every process this stack started (workers first, the dev server last) and closes the client. */
  async stop(): Promise<void> {
    if (this.clientPromise) {
      const client = await this.clientPromise.catch(() => undefined);
      this.clientPromise = undefined;
      await client?.connection.close().catch(() => {});
    }
    await Promise.all(this.started.filter((p) => p.name.startsWith('worker')).map((p) => p.stop('SIGKILL')));
    await this.sandbox?.stop('SIGINT', 5_000);
    await this.devServer?.stop('SIGTERM', 10_000);
    await Promise.all(this.started.map((p) => p.stop('SIGKILL')));
  }
}
