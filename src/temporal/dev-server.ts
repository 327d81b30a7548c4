/**
 * The embedded Temporal dev server: `temporal server start-dev` from the Temporal CLI that set-up installed,
 * persisting to a SQLite file in a project-local state folder, with the Web UI on and Shepherd's search
 * attributes registered. One server per state folder: a lock file names the running one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporalCliPath } from './binaries.js';
import { registerSearchAttributes } from './search-attributes.js';
import { SEARCH_ATTRIBUTES } from './common/search-attributes.js';

export interface DevServerOptions {
  /** Folder for `temporal.db` and the lock file; in-memory (nothing kept) when undefined. */
  readonly stateDir: string | undefined;
  /** gRPC port; 0 picks a free one. */
  readonly port: number;
  /** Web UI port; 0 picks a free one; `false` runs headless. */
  readonly uiPort: number | false;
  readonly namespace: string;
  /** How long to wait for the server to answer; the CLI normally needs one to three seconds. */
  readonly startTimeoutMs?: number;
  /** Receives the server's own output lines (warnings and errors only). */
  readonly onOutput?: (line: string) => void;
}

export interface DevServer {
  readonly address: string;
  readonly namespace: string;
  /** `http://127.0.0.1:<port>`, or undefined when headless. */
  readonly uiUrl: string | undefined;
  readonly dbFile: string | undefined;
  readonly pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and releases the state folder. Safe to call twice. */
  stop(): Promise<void>;
}

export class DevServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DevServerError';
  }
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(false)));
  });
}

interface LockInfo {
  pid: number;
  address: string;
  uiUrl?: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The dev server recorded in a state folder's lock file, if it still runs. */
export function runningDevServer(stateDir: string): LockInfo | undefined {
  const lock = join(stateDir, 'dev-server.json');
  if (!existsSync(lock)) return undefined;
  try {
    const info = JSON.parse(readFileSync(lock, 'utf8')) as LockInfo;
    return processAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const cli = temporalCliPath();
  let dbFile: string | undefined;
  let lockFile: string | undefined;
  if (opts.stateDir) {
    const running = runningDevServer(opts.stateDir);
    if (running) {
      throw new DevServerError(
        `A Temporal dev server already runs on ${opts.stateDir} (pid ${running.pid}, ${running.address}). ` +
          'Stop it first, or use it by setting TEMPORAL_ADDRESS=' +
          running.address +
          '.',
      );
    }
    mkdirSync(opts.stateDir, { recursive: true });
    dbFile = join(opts.stateDir, 'temporal.db');
    lockFile = join(opts.stateDir, 'dev-server.json');
  }
  const port = opts.port === 0 ? await freePort() : opts.port;
  if (opts.port !== 0 && (await portInUse(port))) {
    throw new DevServerError(
      `Port ${port} on 127.0.0.1 is in use. Set SHEPHERD_TEMPORAL_PORT to a free port, or TEMPORAL_ADDRESS to use the server already there.`,
    );
  }
  const uiPort = opts.uiPort === false ? undefined : opts.uiPort === 0 ? await freePort() : opts.uiPort;
  if (uiPort !== undefined && opts.uiPort !== 0 && (await portInUse(uiPort))) {
    throw new DevServerError(`Web UI port ${uiPort} on 127.0.0.1 is in use. Set SHEPHERD_UI_PORT to a free port.`);
  }

  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
  ];
  if (dbFile) args.push('--db-filename', dbFile);
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-ip', '127.0.0.1');
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  args.push('--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true');
  args.push('--dynamic-config-value', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true');

  const child: ChildProcess = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid ?? -1;
  // What it said, for an exit during start-up: its first lines (a panic's reason) and its last ones.
  const head: string[] = [];
  const tail: string[] = [];
  const said = (): string => [...head, ...(tail.length > 0 ? ['…', ...tail] : [])].join('\n');
  const onData = (buf: Buffer): void => {
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      if (head.length < 8) head.push(line);
      else {
        tail.push(line);
        if (tail.length > 22) tail.shift();
      }
      opts.onOutput?.(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? -1 : 0);
      resolve();
    });
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (exited === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(timer);
    }
    if (lockFile) rmSync(lockFile, { force: true });
  };

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  let connection: Connection | undefined;
  while (!connection) {
    if (exited !== undefined) {
      await stop();
      throw new DevServerError(`The Temporal dev server exited during start-up (code ${exited}):\n${said()}`);
    }
    try {
      connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
    } catch {
      await connection?.close().catch(() => {});
      connection = undefined;
      if (Date.now() > deadline) {
        await stop();
        throw new DevServerError(
          `The Temporal dev server did not answer on ${address} within ${(opts.startTimeoutMs ?? 30_000) / 1000} s:\n${said()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    await registerSearchAttributes(connection, opts.namespace);
  } finally {
    await connection.close();
  }

  const uiUrl = uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`;
  if (lockFile) writeFileSync(lockFile, JSON.stringify({ pid, address, uiUrl } satisfies LockInfo));
  return { address, namespace: opts.namespace, uiUrl, dbFile, pid, stop };
}
