/**
 * The CLI as a process in a shell pipeline: a reader that goes away early (`shepherd … | head`) ends it quietly,
 * and an option Node.js would read itself is refused with the name to use. Through the binary: the behaviour is
 * the process's.
 */
import { describe, expect, it } from 'vitest';
import { runInProcess, startCli } from '../support/cli.js';

describe('shepherd in pipes and shells', () => {
  it('exits quietly, without an EPIPE stack trace, when the reader of its output has gone', async () => {
    const cli = startCli(['config', 'variables']);
    // The reading end closes before the CLI writes its first line, as `| head -0` would.
    cli.child.stdout?.destroy();
    const code = await cli.exited;
    expect(cli.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(0);
  });

  it('names the nearest option and prints the usage line for a misspelt flag', async () => {
    const r = await runInProcess(['status', '--jsn']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'shepherd status: unknown option --jsn; did you mean --json?',
      expect.stringMatching(/^Usage: shepherd status /),
    ]);
  });
});
