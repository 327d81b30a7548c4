/**
 * Runs the `shepherd` binary as a user would (bin/shepherd.js in a child process) and collects its output, or runs
 * its `main()` in this process: the same dispatch, option parsing and exit codes, without the seconds a process
 * start costs. Each command keeps at least one test through the binary, so that the binary path stays proven.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

export const SHEPHERD_BIN = fileURLToPath(new URL('../../bin/shepherd.js', import.meta.url));

export interface RunningCli {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the first stdout line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export function startCli(args: string[], env: Record<string, string | undefined> = {}): RunningCli {
  // The code as it is now, whichever way bin/shepherd.js runs it: the compiled CLI only while dist/ is a build of
  // the current sources (bin/compiled.js), the sources through tsx otherwise. A fresh build (set-up makes one, as CI
  // does) spares every spawn the transpiling, which on two cores made the CLI tests minutes slower.
  const child = spawn(process.execPath, [SHEPHERD_BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const running: RunningCli = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    waitForLine(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const line = running.stdout.split('\n').find((l) => pattern.test(l));
          if (line === undefined) return false;
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          resolve(line);
          return true;
        };
        const onData = (): void => void check();
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no line matching ${pattern} within ${timeoutMs} ms; stdout:\n${running.stdout}\nstderr:\n${running.stderr}`,
              ),
            ),
          timeoutMs,
        );
        child.stdout?.on('data', onData);
        void running.exited.then(() => {
          if (!check()) {
            clearTimeout(timer);
            reject(
              new Error(`exited before printing ${pattern}; stdout:\n${running.stdout}\nstderr:\n${running.stderr}`),
            );
          }
        });
        check();
      });
    },
  };
  child.stdout?.on('data', (b: Buffer) => (running.stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (running.stderr += b.toString()));
  return running;
}

/** Runs the CLI to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(args, env);
  const code = await cli.exited;
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

/**
 * `shepherd <args>` through `main()` in this process, with `env` set for the call. For commands that end by
 * themselves: the variables are put back when it returns (tests in a file run one at a time).
 */
export async function runInProcess(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const put = (vars: Readonly<Record<string, string | undefined>>): void => {
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  put(env);
  let stdout = '';
  let stderr = '';
  const line = (s: string): string => (s.endsWith('\n') ? s : `${s}\n`);
  try {
    const code = await main([...args], { out: (s) => (stdout += line(s)), err: (s) => (stderr += line(s)) });
    return { code, stdout, stderr };
  } finally {
    put(saved);
  }
}
