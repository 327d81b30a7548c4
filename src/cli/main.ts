/**
 * `shepherd` — the command-line entry point. One file a subcommand under `commands/`.
 */
import { pathToFileURL } from 'node:url';
import { EXIT, runCommand, type Command } from './command.js';
import { approveCommand } from './commands/approve.js';
import { chaosCommand } from './commands/chaos.js';
import { configCommand } from './commands/config.js';
import { demoCommand } from './commands/demo.js';
import { devServerCommand } from './commands/dev-server.js';
import { doctorCommand } from './commands/doctor.js';
import { promoteCommand } from './commands/promote.js';
import { rejectCommand } from './commands/reject.js';
import { reportCommand } from './commands/report.js';
import { sandboxCommand } from './commands/sandbox.js';
import { scheduleCommand } from './commands/schedule.js';
import { statusCommand } from './commands/status.js';
import { validateCommand } from './commands/validate.js';
import { workerCommand } from './commands/worker.js';

export const COMMANDS: readonly Command[] = [
  demoCommand,
  devServerCommand,
  sandboxCommand,
  workerCommand,
  validateCommand,
  promoteCommand,
  approveCommand,
  rejectCommand,
  statusCommand,
  reportCommand,
  scheduleCommand,
  chaosCommand,
  configCommand,
  doctorCommand,
];

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: shepherd <command> [options]',
    '',
    'Durable GitOps promotion and end-to-end pipeline validation on Temporal.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `shepherd <command> --help` for the options of a command.',
    'Exit codes: 0 success, 1 the run failed, 2 usage or configuration error.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  const err = (s: string): void => void process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(topHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    err(
      `shepherd: unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')}. See shepherd --help.`,
    );
    return EXIT.usage;
  }
  return runCommand(cmd, rest, { out, err });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`shepherd: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
